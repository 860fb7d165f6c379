"""The run's report: the paper's tables with our rows beside the reported ones, training
metrics, corpus statistics, and the per-task radar (Figure 3)."""

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


def load_scores(paths: list[Path]) -> Scores:
    """Scores by benchmark and model, named by the path results/benchmarks/{b}/{m}/scores.json."""
    scores: Scores = {}
    for path in map(Path, paths):
        benchmark, model = path.parent.parent.name, path.parent.name
        scores.setdefault(benchmark, {})[model] = json.loads(path.read_text())
    return scores


def _metrics(path: Path) -> dict[str, Any]:
    metrics = json.loads(path.read_text())
    metrics.setdefault("model", path.parent.name)
    return metrics


def render_markdown(scores: Scores, metrics: list[dict[str, Any]], stats: dict[str, Any]) -> str:
    notes = []
    if "mmsu" not in scores:
        notes.append("MMSU was not scored in this run; the rows are the paper's.")
    if not {"mmau_test_mini", "mmau_test", "mmar"} & set(scores):
        notes.append("MMAU and MMAR were not scored in this run; the rows are the paper's.")
    parts = [
        "# ALARM reproduction report\n",
        "Accuracies in %. Items without a response or an extracted answer count as wrong; "
        "*None %* is their share. Rows marked (reported) are the paper's.\n",
        "## MMSU (Table 3)\n",
        mmsu_table(scores),
        "## MMAU v05.15.25 test-mini / test and MMAR (Table 5)\n",
        mmau_mmar_table(scores),
        "MMAU test answers are withheld: its accuracy comes from the MMAU-Eval space, "
        "to which `mmau_test_submission.json` (beside the predictions) is submitted.\n",
        *(f"_{note}_\n" for note in notes),
    ]
    for benchmark, breakdown, heading in BREAKDOWNS:
        if benchmark in scores:
            parts += [f"## {heading}\n", breakdown_table(scores, benchmark, breakdown)]
    parts += [
        "## All scores\n",
        summary_table(scores),
        "## Training\n",
        training_table(metrics),
        "## Corpus (Table 1)\n",
        corpus_table(stats),
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
    title, series = radar_series(loaded)
    plot_radar(title, series, Path(radar_out))
    log.info("report: %s and %s", markdown_out, radar_out)
