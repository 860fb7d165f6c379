"""Stable shard assignment by uid.

A shard is the unit of SLURM work: items are assigned to shards by a hash of
their uid that does not depend on Python's hash seed, the item order or the
machine, so the DAG is static and a lost shard is rebuilt alone.
"""

from __future__ import annotations

import hashlib


def stable_hash(text: str) -> int:
    """A 64-bit hash of ``text`` that is the same on every run and machine."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "big")


def shard_of(uid: str, n_shards: int) -> int:
    """The shard (0-based) that ``uid`` belongs to among ``n_shards``."""
    if n_shards < 1:
        raise ValueError(f"n_shards must be >= 1, got {n_shards}")
    return stable_hash(uid) % n_shards


def shard_name(shard: int) -> str:
    """Zero-padded shard id used in every file name (``00003``)."""
    return f"{shard:05d}"


def make_uid(dataset: str, unique_id_1: str, unique_id_2: str) -> str:
    """The global item key ``dataset/unique_id_1/unique_id_2`` that stages join on."""
    return f"{dataset}/{unique_id_1}/{unique_id_2}"
