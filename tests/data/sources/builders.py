"""Fixture builders shared by the converter tests: short audio, archives, hub Parquet, a shard.

The test modules here import it as `from builders import ...` (this folder has no
__init__.py, so pytest puts it on sys.path).
"""

from __future__ import annotations

import io
import tarfile
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import soundfile as sf

from alarm.data.collect import collect_shard
from alarm.files import read_shard

# The {bytes, path} struct a Hugging Face `Audio` column is stored as in Parquet and Arrow.
AUDIO = pa.struct([("bytes", pa.binary()), ("path", pa.string())])

# A member's data: bytes, text (written as UTF-8), or, in a tar, None for a directory.
Member = bytes | str | None


def audio_bytes(
    seconds: float,
    sr: int = 16000,
    fmt: str = "WAV",
    *,
    value: float = 0.1,
    channels: int = 1,
    subtype: str | None = None,
) -> bytes:
    """`seconds` of a constant `value` at `sr` Hz, encoded as soundfile's `fmt` (and `subtype`).

    The frame count is int(seconds * sr); WAV and FLAC come out as 16-bit PCM.
    """
    frames = np.full((int(seconds * sr), channels), value)
    buf = io.BytesIO()
    sf.write(buf, frames, sr, format=fmt, subtype=subtype)
    return buf.getvalue()


def wav_bytes(seconds: float, sr: int = 16000, value: float = 0.1) -> bytes:
    """A mono WAV of a constant `value`: see audio_bytes."""
    return audio_bytes(seconds, sr, "WAV", value=value)


def flac_bytes(seconds: float, sr: int = 16000, channels: int = 1) -> bytes:
    """A FLAC of the constant 0.1 on every channel: see audio_bytes."""
    return audio_bytes(seconds, sr, "FLAC", channels=channels)


def add_member(tar: tarfile.TarFile, name: str, data: Member) -> None:
    """Add `data` to an open tar as the member `name` (None: a directory)."""
    info = tarfile.TarInfo(name)
    if data is None:
        info.type = tarfile.DIRTYPE
        tar.addfile(info)
        return
    data = data.encode() if isinstance(data, str) else data
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def write_tar(path: Path, files: Mapping[str, Member]) -> None:
    """Write {member name: data} to a tar at `path` (its folder made), gzipped for a *.gz name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz" if path.name.endswith(".gz") else "w") as tar:
        for name, data in files.items():
            add_member(tar, name, data)


def tar_gz_bytes(files: Mapping[str, Member]) -> bytes:
    """The bytes of a .tar.gz holding {member name: data}, for an archive inside an archive."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files.items():
            add_member(tar, name, data)
    return buf.getvalue()


def write_zip(file: Path | IO[bytes], files: Mapping[str, bytes | str]) -> None:
    """Write {member name: data} to a zip (stored, not deflated) at a path or a binary file."""
    with zipfile.ZipFile(file, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)


def hub_schema(strings: Iterable[str], *others: tuple[str, pa.DataType]) -> pa.Schema:
    """A hub snapshot's schema: string columns, then `others` (name, type), then "audio"."""
    return pa.schema([(f, pa.string()) for f in strings] + list(others) + [("audio", AUDIO)])


def write_parquet(path: Path, rows: list[dict], schema: pa.Schema, **kwargs) -> None:
    """Write `rows` (dicts) with `schema` to a Parquet file at `path`, its folders made.

    kwargs go to pyarrow.parquet.write_table (row_group_size, for several row groups).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path, **kwargs)


def item_ids(items: Iterable) -> list[tuple[str, str]]:
    """The (unique_id_1, unique_id_2) of each item, in order."""
    return [(i.unique_id_1, i.unique_id_2) for i in items]


def collect_rows(name: str, settings: dict, source_dir: Path, out: Path):
    """Collect shard 0 of `name` from `source_dir` into `out`: (ledger, {uid: row read back}).

    A repeated id is dropped (``duplicate_uid``), so that a converter's repeat shows as a drop.
    """
    ledger = collect_shard(name, {"repeated_ids": "drop"} | settings, 0, source_dir, out)
    return ledger, {r["uid"]: r for r in read_shard(out)}


def collect_descriptions(name: str, settings: dict, source_dir: Path, out: Path):
    """Collect shard 0 of `name` into `out`: (ledger, {uid: audio_description})."""
    ledger, rows = collect_rows(name, settings, source_dir, out)
    return ledger, {uid: r["audio_description"] for uid, r in rows.items()}


def drop_reasons(ledger) -> dict[str, str]:
    """The ledger's drops as {uid: reason}."""
    return {d.uid: d.reason for d in ledger.drops}
