"""Files every stage writes: atomically (temp file + rename), JSON, checksums, Parquet shards.

A killed job must never leave a file that looks finished, so every writer goes
through :func:`atomic_path`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it over ``path`` only on success.

    A job killed mid-write (SLURM preemption, OOM) leaves no file that looks
    finished: Snakemake sees the output missing and reruns the job.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp creates 0600; outputs are shared
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_json(obj: Any, path: str | os.PathLike) -> None:
    """Atomically write ``obj`` as indented JSON."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")


def file_checksum(path: str | os.PathLike, algorithm: str = "sha256") -> str:
    """The hex digest of a file's bytes, read in chunks."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, algorithm).hexdigest()


def write_shard(
    rows: Sequence[dict[str, Any]] | pa.Table,
    path: str | os.PathLike,
    schema: pa.Schema,
    row_group_size: int | None = None,
) -> int:
    """Atomically write ``rows`` as a Parquet shard with ``schema``; returns the row count.

    The schema is explicit so that an empty shard (every row dropped) still
    carries its columns for the stages downstream. Small row groups make single
    rows cheap to read (raw audio shards, read item by item during training).
    """
    if isinstance(rows, pa.Table):
        table = rows.select(schema.names).cast(schema)
    else:
        missing = [
            (i, name) for i, row in enumerate(rows) for name in schema.names if name not in row
        ]
        if missing:
            i, name = missing[0]
            raise KeyError(f"row {i} lacks column {name!r} of the shard schema")
        table = pa.Table.from_pylist([{n: r[n] for n in schema.names} for r in rows], schema)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, row_group_size=row_group_size)
    return table.num_rows


def read_shard(path: str | os.PathLike, columns: Sequence[str] | None = None) -> list[dict]:
    """Read a shard as a list of row dicts (optionally only ``columns``)."""
    return pq.read_table(path, columns=list(columns) if columns else None).to_pylist()


def read_jsonl(path: str | os.PathLike) -> Iterator[dict]:
    """The records of a JSON Lines file, blank lines skipped."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def count_rows(path: str | os.PathLike) -> int:
    """Number of rows of a Parquet file, from its footer."""
    return pq.ParquetFile(path).metadata.num_rows
