"""The corpus index: one row per training example, joined by uid; Table 1 statistics and
the rows each corpus stage dropped, per Table 1 group.

A described item gives one example (its prompt and rephrased target); a
spoken-instruction item gives one per variant: with its text context as the
prompt, or with an empty prompt (the spoken question alone). The audio is
referenced by raw shard and uid, never copied.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from alarm.data.items import VARIANTS, instruction_text
from alarm.files import read_shard, write_shard
from alarm.ledger import Drop, Ledger, ledger_path, ledger_paths
from alarm.tokenizer import token_counter

INDEX_SCHEMA = pa.schema(
    [
        ("example_id", pa.string()),  # uid/variant
        ("uid", pa.string()),
        ("dataset", pa.string()),
        ("unique_id_1", pa.string()),  # the two ids order a dataset's examples as the
        ("unique_id_2", pa.string()),  # authors' tables (their dataset_index)
        ("category", pa.string()),
        ("variant", pa.string()),  # described | with_context | no_context
        ("audio_shard", pa.string()),
        ("audio_row", pa.int64()),
        ("duration", pa.float64()),
        ("prompt", pa.string()),  # the text of the user turn next to the audio
        ("text_prompt", pa.string()),  # what the LLM answered from (A_text-free prompt text)
        ("target", pa.string()),
        ("text_tokens", pa.int64()),  # prompt + target tokens, for length bucketing
        ("split", pa.string()),
    ]
)

TABLE1_GROUPS = {
    "speech": "Speech",
    "multi_speaker": "Speech",
    "sound": "Sound",
    "music": "Music",
    "instruction": "Instruction",
}


def _examples(row: dict[str, Any], category: str) -> list[dict[str, Any]]:
    if category != "instruction":
        return [
            {
                "variant": "described",
                "prompt": row["prompt"],
                "text_prompt": row["prompt"],
                "target": row["target"],
            }
        ]
    out = []
    for variant in VARIANTS:
        target = row[f"response_{variant}"]
        if target is None:
            continue
        out.append(
            {
                "variant": variant,
                "prompt": (row["context"] or "") if variant == "with_context" else "",
                "text_prompt": instruction_text(row["question"], row["context"], variant),
                "target": target,
            }
        )
    return out


def corpus_index(
    settings: dict[str, Any],
    tokenizer_dir: str | Path,
    targets: Sequence[str | Path],
    items: Sequence[str | Path],
    splits: Sequence[str | Path],
    train_out: str | Path,
    validation_out: str | Path,
) -> Ledger:
    datasets = settings["datasets"]
    split_of = {r["uid"]: r["split"] for p in splits for r in read_shard(p)}
    item_of = {
        r["uid"]: r
        for p in items
        for r in read_shard(
            p, ["uid", "unique_id_1", "unique_id_2", "audio_shard", "audio_row", "duration"]
        )
    }
    rows: dict[str, list[dict[str, Any]]] = {"train": [], "validation": []}
    drops: list[Drop] = []
    n_in = 0
    for path in targets:
        for row in read_shard(path):
            category = datasets[row["dataset"]]["category"]
            for example in _examples(row, category):
                n_in += 1
                example_id = f"{row['uid']}/{example['variant']}"
                if row["uid"] not in split_of or row["uid"] not in item_of:
                    drops.append(Drop(example_id, "not_in_split_or_items", row["uid"]))
                    continue
                item = item_of[row["uid"]]
                split = split_of[row["uid"]]
                rows[split].append(
                    {
                        "example_id": example_id,
                        "uid": row["uid"],
                        "dataset": row["dataset"],
                        "unique_id_1": item["unique_id_1"],
                        "unique_id_2": item["unique_id_2"],
                        "category": category,
                        "audio_shard": item["audio_shard"],
                        "audio_row": item["audio_row"],
                        "duration": item["duration"],
                        "split": split,
                        **example,
                    }
                )
    count = token_counter(tokenizer_dir)
    for split, out in (("train", train_out), ("validation", validation_out)):
        rows[split].sort(key=lambda r: r["example_id"])
        counts = count([r["prompt"] + r["target"] for r in rows[split]])
        for row, n in zip(rows[split], counts, strict=True):
            row["text_tokens"] = n
        write_shard(rows[split], out, INDEX_SCHEMA)
    ledger = Ledger(
        stage="corpus_index",
        outputs=[str(train_out), str(validation_out)],
        inputs=[],  # one item gives one example per variant, so rows_in counts examples
        rows_in=n_in,
        rows_out=len(rows["train"]) + len(rows["validation"]),
        drops=drops,
        stats={"train": len(rows["train"]), "validation": len(rows["validation"])},
    )
    ledger.write(ledger_path(train_out))
    return ledger


TABLE1_ORDER = ("Speech", "Sound", "Music", "Instruction", "Total")


def _dataset_of(ledger: Ledger, datasets: Mapping[str, str]) -> str | None:
    """The dataset a ledger's shard belongs to: results/corpus/<stage>/<dataset>/<shard> or
    results/corpus/<stage>/<dataset>.parquet; None for a corpus-wide stage (the index)."""
    output = Path(ledger.outputs[0]) if ledger.outputs else None
    for name in (output.parent.name, output.name.split(".")[0]) if output else ():
        if name in datasets:
            return name
    return None


def filter_drops(
    ledger_root: str | Path, categories: Mapping[str, str], stage_order: Sequence[str] = ()
) -> dict[str, Any]:
    """Per Table 1 group and corpus stage: rows in, rows dropped per reason, and rows kept
    that a stricter setting would have dropped (``flagged``, per reason), summed over
    the ledgers under ``ledger_root``; ``categories`` maps each dataset to its category.
    Stages are listed in ``stage_order`` (the order rows flow), any other stage after them."""
    drops: dict[str, dict[str, dict[str, Any]]] = {}
    for path in ledger_paths(ledger_root):
        ledger = Ledger.read(path)
        dataset = _dataset_of(ledger, categories)
        groups = ["Total"] if dataset is None else [TABLE1_GROUPS[categories[dataset]], "Total"]
        for group in groups:
            entry = drops.setdefault(group, {}).setdefault(
                ledger.stage, {"rows_in": 0, "dropped": {}, "flagged": {}}
            )
            entry["rows_in"] += ledger.rows_in
            for key, counts in (("dropped", ledger.dropped), ("flagged", ledger.flagged)):
                for reason, n in counts.items():
                    entry[key][reason] = entry[key].get(reason, 0) + n
    order = {stage: i for i, stage in enumerate(stage_order)}
    return {
        group: {
            stage: {
                **entry,
                "dropped": dict(sorted(entry["dropped"].items())),
                "flagged": dict(sorted(entry["flagged"].items())),
            }
            for stage, entry in sorted(
                drops[group].items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0])
            )
        }
        for group in TABLE1_ORDER
        if group in drops
    }


def corpus_stats(
    train: str | Path,
    validation: str | Path,
    ledger_root: str | Path | None = None,
    categories: Mapping[str, str] | None = None,
    stage_order: Sequence[str] = (),
) -> dict[str, Any]:
    """Table 1 of the paper: elements, hours and unique prompts per category, total/train/val;
    with ``ledger_root``, also what each corpus stage dropped (``filter_drops``)."""
    by_split = {"train": read_shard(train), "validation": read_shard(validation)}
    table: dict[str, dict[str, dict[str, float]]] = {}
    for split_name in ("total", "train", "validation"):
        rows = (
            (by_split["train"] + by_split["validation"])
            if split_name == "total"
            else by_split[split_name]
        )
        acc: dict[str, dict[str, Any]] = defaultdict(
            lambda: {"elements": 0, "seconds": 0.0, "prompts": set()}
        )
        for row in rows:
            for group in (TABLE1_GROUPS[row["category"]], "Total"):
                acc[group]["elements"] += 1
                acc[group]["seconds"] += row["duration"]
                acc[group]["prompts"].add(row["text_prompt"])
        for group in TABLE1_ORDER:
            a = acc[group]
            table.setdefault(group, {})[split_name] = {
                "elements": a["elements"],
                "hours": round(a["seconds"] / 3600, 4),
                "unique_prompts": len(a["prompts"]),
            }
    stats = {
        "table1": table,
        "datasets": sorted({r["dataset"] for rs in by_split.values() for r in rs}),
    }
    if ledger_root is not None:
        stats["drops"] = filter_drops(ledger_root, categories or {}, stage_order)
    return stats
