"""The train/validation split: 10% of each corpus, seeded, decided per uid before any filter.

``method: authors`` (the paper run) holds out the rows that the authors'
scripts/alarm/create_train_val_split.py (Blinorot/ALARM) does. Their raw table is
sorted by the two ids, legacy numpy seeded with ``seed`` permutes its N row numbers,
and the first ``int(fraction * N)`` are validation. N counts every row of their
table, including the rows our raw stage dropped (the collect ledgers list their
ids), so the held-out set is theirs whatever our sharding; but one row more or less
reshuffles it all. ``method: hash`` ranks uids by a seeded stable hash instead:
exactly 10% of the rows we kept, and a row added or removed moves at most one other
across the cut. Corpora with an official validation split (HeySQuAD) keep it;
InstructS2S has none and trains whole, as in the authors' split.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from alarm.files import read_shard
from alarm.ledger import Ledger, ledger_path
from alarm.sharding import stable_hash
from alarm.stage import StageOutput, finish_stage

SPLIT_SCHEMA = pa.schema([("uid", pa.string()), ("split", pa.string())])


def assign_splits(uids: Sequence[str], fraction: float, seed: int) -> dict[str, str]:
    ranked = sorted(uids, key=lambda uid: (stable_hash(f"{seed}/{uid}"), uid))
    validation = set(ranked[: int(fraction * len(ranked))])
    return {uid: "validation" if uid in validation else "train" for uid in uids}


def authors_splits(
    ids: Mapping[str, tuple[str, str]],
    dropped: Sequence[tuple[str, str]],
    fraction: float,
    seed: int,
) -> dict[str, str]:
    """The authors' side of each uid in ``ids`` (uid -> its two ids).

    ``dropped``: the ids of rows their table holds and ours does not. A kept row is
    placed before a dropped repeat of its ids, as the first copy survives collect, and
    kept repeats ("uid", "uid#2", ... "uid#10") in the order collect met them.
    """
    table = sorted(
        [(*ids[uid], 0, len(uid), uid) for uid in ids] + [(*d, 1, 0, "") for d in dropped]
    )
    n = len(table)
    # np.random.seed(seed) then np.random.permutation(n) draws from this same stream.
    held_out = set(np.random.RandomState(seed).permutation(n)[: int(fraction * n)].tolist())
    return {
        uid: "validation" if position in held_out else "train"
        for position, (_, _, is_dropped, _, uid) in enumerate(table)
        if not is_dropped
    }


def _authors_rows_dropped(raw_shard: str | Path) -> list[tuple[str, str]]:
    ledger = Ledger.read(ledger_path(raw_shard))
    if "authors_rows_dropped" not in ledger.stats:
        if not ledger.drops:
            return []
        # Without their ids the dropped rows cannot be placed, so N would be wrong.
        raise ValueError(
            f"{raw_shard}: its collect ledger predates the authors' split; rerun collect"
        )
    return [(u1, u2) for u1, u2 in ledger.stats["authors_rows_dropped"]]


def train_val_split(
    dataset: str, settings: dict[str, Any], inputs: Sequence[str | Path], output: str | Path
) -> Ledger:
    columns = ["uid", "unique_id_1", "unique_id_2", "official_split"]
    rows = [r for path in inputs for r in read_shard(path, columns)]
    uids = [r["uid"] for r in rows]
    if settings["validation"] == "official":
        splits = {
            r["uid"]: "validation" if r["official_split"] == "validation" else "train" for r in rows
        }
    elif settings["validation"] == "none":
        splits = dict.fromkeys(uids, "train")
    elif settings["method"] == "authors":
        splits = authors_splits(
            {r["uid"]: (r["unique_id_1"], r["unique_id_2"]) for r in rows},
            [ids for path in inputs for ids in _authors_rows_dropped(path)],
            settings["validation_fraction"],
            settings["seed"],
        )
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
