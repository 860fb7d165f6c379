"""Scoring: each benchmark's own rule and breakdowns, plus the files its official scripts read.

Every item counts. The official scripts skip records without a prediction
(MMAU, MMAR) or with an unparsable one (MMSU, AIR-Bench); here an item with
no response or no extracted answer is wrong, and how many there were is
reported beside every accuracy (``n_none`` per group, ``none_share`` overall).
Accuracies are percentages, as in the paper's tables.

The rules:

- MMAU and MMAR: the official ``string_match`` of the chosen option's text;
  the paper's MMAU "Mean" is the mean of the sound, music and speech accuracies.
- MMSU: the authors' replacement of the official rule, exact equality of the
  stripped option text with ``answer_gt``; perception, reasoning and overall
  are micro averages.
- AIR-Bench Foundation: the authors' rule, exact equality, per
  ``task_name_dataset_name`` and per ``task_name``; in alarm-parity mode a
  prediction "None" (a null option) becomes the first option, as theirs does.
- synthetic: exact equality of option texts.
- MMAU test: the answers are withheld, so only the counts are reported; its
  ``predictions.json`` (the original records plus ``model_prediction``) is what the
  MMAU-Eval space takes.

Every benchmark is scored under both extraction rules, each into its own directory.
Under ``alarm-parity`` an answer ``int()`` cannot read becomes option 0, as in the
authors' scorer; how often that fired, and how often it happened to be right, is
counted per group (``n_fallback``, ``fallback_correct``) and overall, since option 0
is the right answer for a large share of some benchmarks (39.5 % of MMAU test-mini).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from alarm.benchmarks.extract import extract, parity_index
from alarm.benchmarks.matching import string_match
from alarm.benchmarks.schema import BENCHMARK_SCHEMA
from alarm.files import atomic_path, read_shard, write_json

__all__ = ["SCORERS", "score_benchmark", "score_records", "string_match"]

log = logging.getLogger(__name__)

MMAU_TASKS = ("sound", "music", "speech")
# The letters the official MMSU and AIR-Bench scripts parse; "N/A" is a response
# both of them set aside as badly formatted, rather than misread.
LETTERS = "ABCD"
NO_LETTER = "N/A"

Record = dict[str, Any]


def _fields(record: Record) -> dict[str, Any]:
    return json.loads(record["fields"])


def _normalised(text: str) -> str:
    return str(text).strip().replace("\n", "")


def _exact(record: Record) -> bool:
    return record["prediction"] is not None and _normalised(record["prediction"]) == _normalised(
        record["answer"]
    )


def _string_matched(record: Record) -> bool:
    return record["prediction"] is not None and string_match(
        record["answer"], record["prediction"], record["choices"]
    )


def _pct(numerator: float, denominator: int) -> float:
    """A percentage, unrounded: the report rounds once, at display (151/333 is 45.3, where
    rounding to 45.35 first would show 45.4)."""
    return 100.0 * numerator / denominator if denominator else 0.0


def _no_answer(record: Record) -> bool:
    return record["prediction"] is None


def _group(
    records: list[Record], correct: list[bool] | None, key: Callable[[Record], str]
) -> dict[str, dict[str, Any]]:
    """Item count, unanswered count, option-0 fallbacks (under alarm-parity) and (unless
    ``correct`` is None) accuracy per ``key``."""
    groups: dict[str, dict[str, Any]] = {}
    for i, record in enumerate(records):
        g = groups.setdefault(key(record), {"n": 0, "n_none": 0, "correct": 0})
        g["n"] += 1
        g["n_none"] += _no_answer(record)
        g["correct"] += bool(correct and correct[i])
        if "fallback" in record:
            g["n_fallback"] = g.get("n_fallback", 0) + record["fallback"]
            if correct is not None:
                right = record["fallback"] and correct[i]
                g["fallback_correct"] = g.get("fallback_correct", 0) + right
    for g in groups.values():
        g["none_share"] = _pct(g["n_none"], g["n"])
        if correct is None:
            del g["correct"]
        else:
            g["accuracy"] = _pct(g["correct"], g["n"])
    return dict(sorted(groups.items()))


def _counts(records: list[Record]) -> dict[str, Any]:
    no_response = sum(r["response"] is None for r in records)
    no_answer = sum(r["response"] is not None and r["prediction"] is None for r in records)
    counts = {
        "n_items": len(records),
        "n_audio_error": sum(r["audio_error"] is not None for r in records),
        "n_no_response": no_response,
        "n_no_answer": no_answer,
        "none_share": _pct(no_response + no_answer, len(records)),
    }
    if records and "fallback" in records[0]:
        counts["n_fallback"] = sum(r["fallback"] for r in records)
        counts["fallback_share"] = _pct(counts["n_fallback"], len(records))
    return counts


def _micro(correct: list[bool]) -> float:
    return _pct(sum(correct), len(correct))


def _field(name: str) -> Callable[[Record], str]:
    def key(record: Record) -> str:
        value = _fields(record).get(name)
        return str(value) if value is not None else "(none)"

    return key


def score_mmau(records: list[Record]) -> dict[str, Any]:
    correct = [_string_matched(r) for r in records]
    tasks = _group(records, correct, lambda r: r["category"])
    present = [t for t in MMAU_TASKS if t in tasks]
    mean_by_task = (
        sum(100.0 * tasks[t]["correct"] / tasks[t]["n"] for t in present) / len(present)
        if present
        else 0.0
    )
    return {
        "overall": mean_by_task,
        "mean": mean_by_task,
        "micro": _micro(correct),
        "breakdowns": {
            "task": tasks,
            "difficulty": _group(records, correct, _field("difficulty")),
            "sub-category": _group(records, correct, _field("sub-category")),
        },
    }


def _accuracies(correct: list[bool], breakdowns: dict[str, Any]) -> dict[str, Any]:
    """A benchmark's scores: overall (micro) accuracy and accuracy per breakdown group."""
    return {"overall": _micro(correct), "micro": _micro(correct), "breakdowns": breakdowns}


def score_mmau_test(records: list[Record]) -> dict[str, Any]:
    """Answers withheld: counts only; the accuracy comes from the MMAU-Eval space."""
    tasks = _group(records, None, lambda r: r["category"])
    return {"overall": None, "micro": None, "breakdowns": {"task": tasks}}


def score_mmar(records: list[Record]) -> dict[str, Any]:
    correct = [_string_matched(r) for r in records]
    return _accuracies(
        correct,
        {
            "modality": _group(records, correct, lambda r: r["category"]),
            "category": _group(records, correct, _field("category")),
            "sub-category": _group(records, correct, _field("sub-category")),
        },
    )


def score_mmsu(records: list[Record]) -> dict[str, Any]:
    correct = [_exact(r) for r in records]
    return _accuracies(
        correct,
        {
            "category": _group(records, correct, lambda r: r["category"]),
            "sub-category": _group(
                records, correct, lambda r: f"{r['category']}/{_field('sub-category')(r)}"
            ),
            "task_name": _group(records, correct, _field("task_name")),
        },
    )


def _airbench_task_id(record: Record) -> str:
    fields = _fields(record)
    return f"{fields['task_name']}_{fields['dataset_name']}"


def score_airbench(records: list[Record], none_means_first: bool = False) -> dict[str, Any]:
    if none_means_first:
        # The authors' scorer: a prediction "None" is "safe to always choose the first option".
        records = [
            r | {"prediction": r["choices"][0]}
            if r["prediction"] is not None and _normalised(r["prediction"]) == "None"
            else r
            for r in records
        ]
    correct = [_exact(r) for r in records]
    return _accuracies(
        correct,
        {
            "task_name": _group(records, correct, lambda r: r["category"]),
            "task_id": _group(records, correct, _airbench_task_id),
        },
    )


def score_synthetic(records: list[Record]) -> dict[str, Any]:
    correct = [_exact(r) for r in records]
    return _accuracies(
        correct,
        {
            "category": _group(records, correct, lambda r: r["category"]),
            "sub-category": _group(records, correct, _field("sub-category")),
        },
    )


SCORERS: dict[str, Callable[[list[Record]], dict[str, Any]]] = {
    "mmsu": score_mmsu,
    "mmau_test_mini": score_mmau,
    "mmau_test": score_mmau_test,
    "mmar": score_mmar,
    "airbench_foundation": score_airbench,
    "synthetic": score_synthetic,
}


def score_records(name: str, records: list[Record], extraction: str) -> dict[str, Any]:
    """The scores dict of benchmark ``name`` for records that carry a ``prediction``."""
    if name not in SCORERS:
        raise ValueError(f"no scorer for benchmark {name!r}; known: {', '.join(SCORERS)}")
    if name == "airbench_foundation":
        scored = score_airbench(records, none_means_first=extraction == "alarm-parity")
    else:
        scored = SCORERS[name](records)
    return {"benchmark": name, "extraction": extraction, **_counts(records), **scored}


def _prediction_record(name: str, record: Record) -> dict[str, Any]:
    """The original record with the fields the official and the authors' scorers read."""
    out = _fields(record)
    prediction = record["prediction"]
    # "" rather than null: the official string_match would crash on null; "" scores wrong.
    text = "" if prediction is None else prediction
    out["model_prediction"] = text
    if name.startswith("mmau"):
        out["model_output"] = text  # the key the official evaluation.py reads since 2025-01
    elif name == "mmar":
        out["answer_prediction"] = text  # the key of the official evaluation.py since 2026-02
    elif name in ("mmsu", "airbench_foundation"):
        k = record["choices"].index(prediction) if prediction in record["choices"] else None
        out["response"] = LETTERS[k] if k is not None and k < len(LETTERS) else NO_LETTER
    return out


def read_responses(paths: Iterable[Path]) -> list[Record]:
    """The response shards' rows without their audio, in metadata order."""
    columns = [n for n in BENCHMARK_SCHEMA.names if n != "audio"] + ["response"]
    rows = [row for path in paths for row in read_shard(path, columns)]
    return sorted(rows, key=lambda r: r["index"])


def _predict(record: Record, extraction: str) -> Record:
    response = record["response"]
    record["prediction"] = extract(response, record["choices"], extraction)
    if extraction == "alarm-parity":
        record["fallback"] = response is not None and parity_index(response) is None
    return record


def score_benchmark(
    name: str,
    response_paths: list[Path],
    scores_out: Path,
    predictions_out: Path,
    extraction: str,
) -> dict[str, Any]:
    """Extract every response's answer, score, and write scores.json and the predictions:
    ``predictions.json`` and, beside it, the same records as ``predictions.jsonl`` (one
    record per line: what the official MMSU and AIR-Bench scorers read)."""
    records = [_predict(r, extraction) for r in read_responses(response_paths)]
    scores = score_records(name, records, extraction)
    write_json(scores, scores_out)
    predictions = [_prediction_record(name, r) for r in records]
    write_json(predictions, predictions_out)
    with atomic_path(Path(predictions_out).with_suffix(".jsonl")) as tmp:
        tmp.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in predictions))
    log.info(
        "%s (%s): overall %s over %d items, %.2f%% without an answer, %s option-0 fallbacks",
        name,
        extraction,
        scores["overall"],
        scores["n_items"],
        scores["none_share"],
        scores.get("n_fallback", "no"),
    )
    return scores
