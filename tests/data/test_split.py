"""The train/validation split of the described corpora: the authors' rows, or our hash."""

import hashlib
import random

import numpy as np
import pytest

from alarm.data.items import RAW_SCHEMA
from alarm.data.split import assign_splits, authors_splits, train_val_split
from alarm.files import read_shard, write_shard
from alarm.ledger import Drop, Ledger, ledger_path

# Ids whose (id 1, id 2) order differs from the order of the uid strings ("a-b" < "a/"),
# and rows our raw stage dropped that the authors' table still holds.
KEPT = [(f"spk{i % 7}{'-x' if i % 3 else ''}", f"utt/{i:03d}") for i in range(230)]
DROPPED = [(f"spk{i % 7}", f"utt/{i:03d}b") for i in range(40)] + [KEPT[5]]  # a repeat


def _uid(ids):
    return f"toy/{ids[0]}/{ids[1]}"


def _expected_validation():
    """What the authors' script holds out of their table: every row, sorted by the ids."""
    table = sorted(KEPT + DROPPED)
    kept_at = {}
    for position, ids in enumerate(table):
        if ids in KEPT:
            kept_at.setdefault(ids, position)  # collect keeps the first copy of a repeat
    np.random.seed(123)
    perm = np.random.permutation(len(table))
    held_out = set(perm[: int(0.1 * len(table))].tolist())
    assert len(held_out) == 27 and len(table) == 271
    return {_uid(ids) for ids, position in kept_at.items() if position in held_out}


def _raw_row(ids):
    u1, u2 = ids
    return {
        "uid": _uid(ids),
        "dataset": "toy",
        "unique_id_1": u1,
        "unique_id_2": u2,
        "category": "speech",
        "audio": b"",
        "sample_rate": 16000,
        "channels": 1,
        "duration": 1.0,
        "audio_description": "x",
        "metadata": "{}",
        "question": None,
        "context": None,
        "official_split": None,
    }


def _write_shards(tmp_path, n_shards, seed, stats=True):
    """The rows dealt out to shards in a shuffled order, each with a collect ledger."""
    rng = random.Random(seed)
    kept, dropped = KEPT[:], DROPPED[:]
    rng.shuffle(kept)
    rng.shuffle(dropped)
    paths = []
    for k in range(n_shards):
        path = tmp_path / f"{n_shards}-{seed}" / f"{k:05d}.parquet"
        rows, lost = [_raw_row(ids) for ids in kept[k::n_shards]], dropped[k::n_shards]
        write_shard(rows, path, RAW_SCHEMA)
        Ledger(
            stage="collect",
            outputs=[str(path)],
            inputs=[],
            rows_in=len(rows) + len(lost),
            rows_out=len(rows),
            drops=[Drop(f"{_uid(ids)}#{j}", "audio_undecodable") for j, ids in enumerate(lost)],
            stats={"authors_rows_dropped": [list(ids) for ids in lost]} if stats else {},
        ).write(ledger_path(path))
        paths.append(path)
    rng.shuffle(paths)
    return paths


def _validation(tmp_path, paths, method):
    out = tmp_path / f"split-{method}-{len(paths)}.parquet"
    settings = {"validation": "fraction", "validation_fraction": 0.1, "seed": 123}
    ledger = train_val_split("toy", settings | {"method": method}, paths, out)
    assert ledger.rows_out == len(KEPT) and not ledger.drops
    return {r["uid"] for r in read_shard(out) if r["split"] == "validation"}


@pytest.mark.parametrize("n_shards, seed", [(1, 0), (3, 1), (4, 2), (7, 3)])
def test_authors_mode_holds_out_the_authors_rows_whatever_the_sharding(tmp_path, n_shards, seed):
    expected = _expected_validation()
    assert 0 < len(expected) < 27  # some of the held-out rows are rows we dropped
    assert _uid(KEPT[5]) in expected  # held out at its first copy's position, not its repeat's
    assert _validation(tmp_path, _write_shards(tmp_path, n_shards, seed), "authors") == expected


def test_legacy_seeding_is_the_authors_global_seed():
    np.random.seed(123)
    assert (np.random.permutation(1001) == np.random.RandomState(123).permutation(1001)).all()


def test_authors_splits_places_a_kept_row_before_its_dropped_repeat():
    ids = {"k": ("a", "b"), "z": ("z", "z")}
    # N = 10, legacy seed 0 permutes to [2, 8, 4, 9, 1, 6, 7, 3, 0, 5]: position 2 held out.
    dropped = [("a", "b"), ("a", "a"), ("a", "a")] + [("c", str(i)) for i in range(5)]
    assert np.random.RandomState(0).permutation(10)[0] == 2
    assert authors_splits(ids, dropped, 0.1, 0) == {"k": "validation", "z": "train"}


def test_hash_mode_keeps_the_stable_hash_of_the_kept_uids(tmp_path):
    paths = _write_shards(tmp_path, 3, 5)
    uids = {_uid(ids) for ids in KEPT}
    expected = {u for u, s in assign_splits(sorted(uids), 0.1, 123).items() if s == "validation"}
    assert _validation(tmp_path, paths, "hash") == expected
    assert len(expected) == int(0.1 * len(uids))


def test_authors_mode_refuses_a_ledger_that_does_not_name_its_drops(tmp_path):
    paths = _write_shards(tmp_path, 2, 0, stats=False)
    with pytest.raises(ValueError, match="rerun collect"):
        _validation(tmp_path, paths, "authors")


def test_the_default_run_splits_as_the_authors(default_config):
    from alarm.registry import STAGES

    settings = STAGES["train_val_split"].settings_of(default_config, dataset="synthetic_speech")
    assert settings["method"] == "authors"  # the schema's default, carried to the stage


def test_authors_splits_numbers_kept_repeats_in_the_order_collect_met_them():
    # A repeat collect keeps ("#2", "#10") follows its first copy, as in their stable sort;
    # string order would put "#10" before "#2". Legacy seed 0 holds out position 2 of 10.
    ids = {"x": ("a", "b"), "x#2": ("a", "b"), "x#10": ("a", "b")}
    dropped = [("c", str(i)) for i in range(7)]
    sides = authors_splits(ids, dropped, 0.1, 0)
    assert sides == {"x": "train", "x#2": "train", "x#10": "validation"}


def test_the_legacy_stream_is_the_one_the_authors_numpy_drew():
    # NEP 19 freezes RandomState's stream; these are numpy 1.26.4's (the authors' pin)
    # np.random.seed(123); np.random.permutation(100003), equal under ours.
    perm = np.random.RandomState(123).permutation(100003)
    assert perm[:10].tolist() == [
        4241,
        84223,
        99407,
        85520,
        67363,
        96742,
        12132,
        75071,
        51917,
        76874,
    ]
    digest = hashlib.sha256(perm.astype("<i8").tobytes()).hexdigest()
    assert digest == "8b821e49c0e50a7696f326f7ba8ad45b4cf72ef31301e52404adeed22988012b"
