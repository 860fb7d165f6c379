"""The train/validation split: 10% of each corpus, seeded, decided per uid before any filter.

The authors draw a seeded permutation of row numbers; rows are not stable
under sharding, so we rank uids by a seeded stable hash and take the first
``int(fraction * N)`` as validation: exactly 10%, independent of shard count
and item order, and unchanged when a generation setting changes. Corpora with
an official validation split (HeySQuAD) keep it; InstructS2S has none and trains
whole, as in the authors' split.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from alarm.files import read_shard
from alarm.ledger import Ledger
from alarm.sharding import stable_hash
from alarm.stage import StageOutput, finish_stage

SPLIT_SCHEMA = pa.schema([("uid", pa.string()), ("split", pa.string())])


def assign_splits(uids: Sequence[str], fraction: float, seed: int) -> dict[str, str]:
    ranked = sorted(uids, key=lambda uid: (stable_hash(f"{seed}/{uid}"), uid))
    validation = set(ranked[: int(fraction * len(ranked))])
    return {uid: "validation" if uid in validation else "train" for uid in uids}


def train_val_split(
    dataset: str, settings: dict[str, Any], inputs: Sequence[str | Path], output: str | Path
) -> Ledger:
    rows = [r for path in inputs for r in read_shard(path, ["uid", "official_split"])]
    uids = [r["uid"] for r in rows]
    if settings["validation"] == "official":
        splits = {
            r["uid"]: "validation" if r["official_split"] == "validation" else "train" for r in rows
        }
    elif settings["validation"] == "none":
        splits = dict.fromkeys(uids, "train")
    else:
        splits = assign_splits(uids, settings["validation_fraction"], settings["seed"])
    result = StageOutput(
        [{"uid": u, "split": splits[u]} for u in uids],
        [],
        {"dataset": dataset, "validation": sum(s == "validation" for s in splits.values())},
    )
    return finish_stage(
        stage="train_val_split",
        inputs=inputs,
        output=output,
        schema=SPLIT_SCHEMA,
        uids_in=uids,
        result=result,
    )
