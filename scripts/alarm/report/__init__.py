"""The run's report: the paper's tables with our rows beside the reported ones, training
metrics, corpus statistics, and the per-task radar (Figure 3).

The rows beside the paper's are scored under the authors' extraction rule
(``alarm-parity``), so that like is compared with like; the ``clean`` rule's scores
are a table of their own."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from alarm.files import atomic_path
from alarm.report.radar import plot_radar, radar_series
from alarm.report.tables import (
    Scores,
    breakdown_table,
    corpus_table,
    drops_table,
    fallback_table,
    mmau_mmar_table,
    mmsu_table,
    summary_table,
    training_table,
)

log = logging.getLogger(__name__)

# (benchmark, breakdown, heading) of the per-group tables, where that benchmark was scored.
BREAKDOWNS = (
    ("airbench_foundation", "task_name", "AIR-Bench Foundation per task (Figure 3)"),
    ("synthetic", "sub-category", "Synthetic benchmark per sub-category"),
)


PARITY, CLEAN = "alarm-parity", "clean"


def load_scores(paths: list[Path]) -> dict[str, Scores]:
    """Scores by extraction rule, benchmark and model, named by the path
    results/benchmarks/{benchmark}/{model}/{extraction}/scores.json."""
    scores: dict[str, Scores] = {}
    for path in map(Path, paths):
        rule, model, benchmark = path.parent.name, path.parent.parent.name, path.parents[2].name
        scores.setdefault(rule, {}).setdefault(benchmark, {})[model] = json.loads(path.read_text())
    return scores


def _metrics(path: Path) -> dict[str, Any]:
    metrics = json.loads(path.read_text())
    metrics.setdefault("model", path.parent.name)
    return metrics


def _breakdowns(scores: Scores, rule: str, level: str = "##") -> list[str]:
    return [
        part
        for benchmark, breakdown, heading in BREAKDOWNS
        if benchmark in scores
        for part in (f"{level} {heading}, {rule}\n", breakdown_table(scores, benchmark, breakdown))
    ]


def render_markdown(
    by_rule: dict[str, Scores], metrics: list[dict[str, Any]], stats: dict[str, Any]
) -> str:
    parity, clean = by_rule.get(PARITY, {}), by_rule.get(CLEAN, {})
    notes = []
    if "mmsu" not in parity:
        notes.append("MMSU was not scored in this run; the rows are the paper's.")
    if not {"mmau_test_mini", "mmau_test", "mmar"} & set(parity):
        notes.append("MMAU and MMAR were not scored in this run; the rows are the paper's.")
    rule = f"extraction: {PARITY}, the authors' rule"
    parts = [
        "# ALARM reproduction report\n",
        "Accuracies in %. Items without a response or an extracted answer count as wrong; "
        "*None %* is their share. Rows marked (reported) are the paper's. Our rows beside "
        f"them use the authors' answer extraction ({PARITY}: `int()` of the last "
        "`<answer>` piece, option 0 when that fails); the clean rule's scores follow "
        "in a table of their own.\n",
        f"## MMSU (Table 3), {rule}\n",
        mmsu_table(parity),
        f"## MMAU v05.15.25 test-mini / test and MMAR (Table 5), {rule}\n",
        mmau_mmar_table(parity),
        "MMAU test answers are withheld: its accuracy comes from the MMAU-Eval space, "
        "which takes `results/benchmarks/mmau_test/{model}/{extraction}/predictions.json` "
        "(the original records with `model_prediction`). MMSU's and AIR-Bench's official "
        "scorers read `predictions.jsonl` beside it.\n",
        *(f"_{note}_\n" for note in notes),
        f"## Option-0 fallbacks of the authors' rule ({PARITY})\n",
        "Answers `int()` could not read, which the authors' rule scores as option 0, of "
        "all items; and how many of those option 0 made right.\n",
        fallback_table(parity),
    ]
    parts += _breakdowns(parity, rule)
    parts += [
        f"## Extraction: {CLEAN} (ours)\n",
        "The answer read from the text after the reasoning (an option letter, index or "
        "text; none from an unfinished reasoning, no option-0 fallback). Not comparable "
        "with the paper's rows, hence no reported rows here.\n",
    ]
    if "mmsu" in clean:
        parts += ["### MMSU\n", mmsu_table(clean, reported=False)]
    if {"mmau_test_mini", "mmau_test", "mmar"} & set(clean):
        parts += ["### MMAU and MMAR\n", mmau_mmar_table(clean, reported=False)]
    parts += _breakdowns(clean, f"extraction: {CLEAN}", level="###")
    parts += [
        "## All scores\n",
        summary_table(by_rule),
        "## Training\n",
        training_table(metrics),
        "## Corpus (Table 1)\n",
        corpus_table(stats),
        "### Rows each corpus stage dropped\n",
        "From the stages' ledgers, per audio type. The authors' corpus lost almost "
        "nothing to checks beyond the paper's filters; a large rate here is where this "
        "corpus departs from Table 1.\n",
        drops_table(stats),
    ]
    return "\n".join(parts)


def build_report(
    scores: list[Path], metrics: list[Path], stats: Path, markdown_out: Path, radar_out: Path
) -> None:
    """Write the markdown report and the radar plot."""
    loaded = load_scores(scores)
    text = render_markdown(
        loaded, [_metrics(Path(p)) for p in metrics], json.loads(Path(stats).read_text())
    )
    with atomic_path(markdown_out) as tmp:
        tmp.write_text(text)
    title, series = radar_series(loaded.get(PARITY, {}))
    plot_radar(title, series, Path(radar_out))
    log.info("report: %s and %s", markdown_out, radar_out)
