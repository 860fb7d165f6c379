"""Markdown tables of the report: the paper's Tables 3 and 5 with our rows beside the
reported ones, per-task breakdowns, the option-0 fallbacks of the authors' rule,
every score with its share of unanswered items, training metrics and corpus
statistics.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from alarm.report.paper_results import CORPUS, MODEL_NAMES, REPORTED

# benchmark -> model -> the contents of its scores.json (one extraction rule)
Scores = dict[str, dict[str, dict[str, Any]]]

MISSING = "–"
TRAINING_COLUMNS = (
    "model",
    "initial_val_loss",
    "final_val_loss",
    "steps",
    "trainable_params",
    "samples_per_second",
)


def model_order(models: Iterable[str]) -> list[str]:
    """The paper's model order, then any other model alphabetically."""
    known = list(MODEL_NAMES)
    return sorted(set(models), key=lambda m: (known.index(m) if m in known else len(known), m))


def display(model: str) -> str:
    return MODEL_NAMES.get(model, model)


def fmt(value: Any) -> str:
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _group_accuracy(scores: dict[str, Any] | None, breakdown: str, group: str) -> float | None:
    if scores is None:
        return None
    return scores["breakdowns"].get(breakdown, {}).get(group, {}).get("accuracy")


def _reported(benchmark: str, model: str, column: str) -> float | None:
    return REPORTED.get(benchmark, {}).get(model, {}).get(column)


def _table_models(scores: Scores, benchmarks: Sequence[str], reported: bool) -> list[str]:
    models = {m for b in benchmarks for m in scores.get(b, {})}
    if reported:
        models |= {m for b in benchmarks for m in REPORTED.get(b, {})}
    return model_order(models)


def mmsu_table(scores: Scores, reported: bool = True) -> str:
    """Table 3: MMSU perception, reasoning and overall accuracy, with the paper's rows
    where ``reported``."""
    ours = scores.get("mmsu", {})
    header = ["Model", "Perception", "Reasoning", "Overall", "None %"]
    rows = []
    for model in _table_models(scores, ["mmsu"], reported):
        if model in ours:
            s = ours[model]
            rows.append(
                [
                    display(model),
                    fmt(_group_accuracy(s, "category", "Perception")),
                    fmt(_group_accuracy(s, "category", "Reasoning")),
                    fmt(s["overall"]),
                    fmt(s["none_share"]),
                ]
            )
        if reported and model in REPORTED["mmsu"]:
            r = REPORTED["mmsu"][model]
            rows.append(
                [
                    f"{display(model)} (reported)",
                    fmt(r["perception"]),
                    fmt(r["reasoning"]),
                    fmt(r["overall"]),
                    MISSING,
                ]
            )
    return markdown_table(header, rows)


def _value(scores: dict[str, Any] | None, key: str) -> Any:
    return None if scores is None else scores.get(key)


def _pair(mini: float | None, test: float | None) -> str:
    return f"{fmt(mini)} / {fmt(test)}"


def mmau_mmar_table(scores: Scores, reported: bool = True) -> str:
    """Table 5: MMAU v05.15.25 test-mini / test per task and mean, and MMAR, with the
    paper's rows where ``reported``."""
    benchmarks = ["mmau_test_mini", "mmau_test", "mmar"]
    header = ["Model", "Sound", "Music", "Speech", "Mean", "MMAR", "None % (mini / test / MMAR)"]
    rows = []
    for model in _table_models(scores, benchmarks, reported):
        mini, test, mmar = (scores.get(b, {}).get(model) for b in benchmarks)
        if mini or test or mmar:
            cells = [
                _pair(_group_accuracy(mini, "task", t), _group_accuracy(test, "task", t))
                for t in ("sound", "music", "speech")
            ]
            cells.append(_pair(_value(mini, "mean"), _value(test, "overall")))
            cells.append(fmt(_value(mmar, "overall")))
            shares = [s["none_share"] if s else None for s in (mini, test, mmar)]
            rows.append([display(model), *cells, " / ".join(fmt(v) for v in shares)])
        if reported and any(model in REPORTED[b] for b in benchmarks):
            cells = [
                _pair(_reported("mmau_test_mini", model, c), _reported("mmau_test", model, c))
                for c in ("sound", "music", "speech", "mean")
            ]
            cells.append(fmt(_reported("mmar", model, "overall")))
            rows.append([f"{display(model)} (reported)", *cells, MISSING])
    return markdown_table(header, rows)


def breakdown_table(scores: Scores, benchmark: str, breakdown: str) -> str:
    """Accuracy per group of one breakdown (rows) and model (columns)."""
    ours = scores.get(benchmark, {})
    models = model_order(ours)
    per_model = {m: ours[m]["breakdowns"].get(breakdown, {}) for m in models}
    sizes: dict[str, int] = {}
    for groups in per_model.values():
        for group, values in groups.items():
            sizes.setdefault(group, values["n"])
    rows = [
        [
            group,
            fmt(sizes[group]),
            *(fmt(per_model[m].get(group, {}).get("accuracy")) for m in models),
        ]
        for group in sorted(sizes)
    ]
    rows.append(["Overall", MISSING, *(fmt(ours[m]["overall"]) for m in models)])
    rows.append(["None %", MISSING, *(fmt(ours[m]["none_share"]) for m in models)])
    return markdown_table([breakdown, "n", *(display(m) for m in models)], rows)


def _fallbacks(groups: dict[str, Any]) -> dict[str, str]:
    """Per group, "fallbacks/items, right" (or MISSING where the rule has no fallback)."""
    return {
        g: MISSING
        if "n_fallback" not in v
        else f"{v['n_fallback']}/{v['n']}"
        + (f", {v['fallback_correct']} right" if "fallback_correct" in v else "")
        for g, v in groups.items()
    }


def fallback_table(scores: Scores) -> str:
    """How often the authors' rule fell back to option 0 (no integer in the answer), per
    benchmark and group of its first breakdown, and how often that happened to be right
    (MMAU test: answers withheld, so fallbacks only)."""
    models = model_order(m for ours in scores.values() for m in ours)
    rows = []
    for benchmark in sorted(scores):
        ours = scores[benchmark]
        first = next(iter(next(iter(ours.values()))["breakdowns"]))
        cells = {m: _fallbacks(s["breakdowns"][first]) for m, s in ours.items()}
        totals = {m: f"{s.get('n_fallback', MISSING)}/{s['n_items']}" for m, s in ours.items()}
        rows.append([benchmark, "all", *(totals.get(m, MISSING) for m in models)])
        for group in sorted({g for per in cells.values() for g in per}):
            row = [cells.get(m, {}).get(group, MISSING) for m in models]
            rows.append([benchmark, f"{first}: {group}", *row])
    return markdown_table(["Benchmark", "Group", *(display(m) for m in models)], rows)


def summary_table(by_rule: dict[str, Scores]) -> str:
    """Every score of this run, under each extraction rule, with its counts of unanswered
    items and (the authors' rule) of option-0 fallbacks."""
    header = ["Benchmark", "Model", "Extraction", "Overall", "Micro", "Items"]
    header += ["Audio errors", "No response", "No answer", "None %", "Fallbacks"]
    rows = [
        [
            benchmark,
            display(model),
            rule,
            fmt(s["overall"]),
            fmt(s.get("micro")),
            fmt(s["n_items"]),
            fmt(s.get("n_audio_error")),
            fmt(s["n_no_response"]),
            fmt(s["n_no_answer"]),
            fmt(s["none_share"]),
            fmt(s.get("n_fallback")),
        ]
        for benchmark in sorted({b for scores in by_rule.values() for b in scores})
        for rule, scores in sorted(by_rule.items())
        for model in model_order(scores.get(benchmark, {}))
        for s in [scores[benchmark][model]]
    ]
    return markdown_table(header, rows)


def _metric(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 1000 else f"{value:,.0f}"
    return fmt(value)


def training_table(metrics: list[dict[str, Any]]) -> str:
    """One row per trained model from its metrics.json."""
    order = model_order(m["model"] for m in metrics)
    ordered = sorted(metrics, key=lambda m: order.index(m["model"]))
    rows = [
        [display(m["model"]), *(_metric(m.get(c)) for c in TRAINING_COLUMNS[1:])] for m in ordered
    ]
    return markdown_table(TRAINING_COLUMNS, rows)


CORPUS_COLUMNS = ("elements", "hours", "unique_prompts")
SPLITS = ("total", "train", "validation")


def corpus_table(stats: dict[str, Any]) -> str:
    """Table 1: per audio type, elements, hours and unique prompts as total / train / val,
    ours (from ``alarm corpus-stats``) above the paper's."""
    header = ["audio type", "# elements", "# hours", "# unique prompts"]
    ours = [
        [group, *(" / ".join(_metric(splits[s][c]) for s in SPLITS) for c in CORPUS_COLUMNS)]
        for group, splits in stats["table1"].items()
    ]
    reported = [
        [
            group,
            *(
                " / ".join(f"{v:g}{unit}" for v in cell)
                for cell, unit in zip(cells, ("M", "K", "M"), strict=True)
            ),
        ]
        for group, cells in CORPUS.items()
    ]
    return "\n".join(
        [
            markdown_table(header, ours),
            "\nReported (paper, Table 1):\n",
            markdown_table(header, reported),
        ]
    )


def _per_reason(counts: dict[str, int]) -> str:
    return ", ".join(f"{reason} {n:,}" for reason, n in counts.items()) or MISSING


def drops_table(stats: dict[str, Any]) -> str:
    """What each corpus stage dropped, per Table 1 group: rows in, rows dropped, the rate
    and the reasons, then what it kept that a stricter setting would have dropped
    (empty where the stats hold no ledger counts)."""
    rows = [
        [
            group,
            stage,
            fmt(entry["rows_in"]),
            fmt(sum(entry["dropped"].values())),
            fmt(100.0 * sum(entry["dropped"].values()) / entry["rows_in"])
            if entry["rows_in"]
            else MISSING,
            _per_reason(entry["dropped"]),
            _per_reason(entry.get("flagged", {})),
        ]
        for group, stages in stats.get("drops", {}).items()
        for stage, entry in stages.items()
    ]
    if not rows:
        return ""
    header = ["audio type", "stage", "rows in", "dropped", "drop %", "reasons", "kept, flagged"]
    return "\n" + markdown_table(header, rows)
