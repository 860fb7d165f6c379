"""AudioSet (authors' audioset.py): config "2m" of confit/audioset-16khz-wds, train split.

Snapshot @4a40121a: webdataset tars ``2m/train/*.tar`` whose samples are a
``<key>.wav`` and a ``<key>.json`` ({"id": YouTube id, "label": [names]}).
Reading ~1.9M JSON members is too slow to repeat in every shard job, so
``prepare`` indexes the tars once (sample key, id, labels, where its wav lies);
``items`` reads that index and each shard reads only its own wav members.
The "first 20%" used by AL-SSLAM-R is a training-time slice, not applied here.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from alarm.data.items import SourceItem
from alarm.data.sources._multi_sound_common import snapshot_files

log = logging.getLogger(__name__)

INDEX = "2m_train_index.parquet"
INDEX_SCHEMA = pa.schema(
    [
        ("key", pa.string()),
        ("video_id", pa.string()),
        ("labels", pa.list_(pa.string())),
        ("tar", pa.string()),
        ("offset", pa.int64()),
        ("size", pa.int64()),
    ]
)
# How datasets' WebDataset builder splits a member name into sample key and field.
MEMBER_NAME = re.compile(r"^((?:.*/|)[^.]+)[.]([^/]*)$")


def prepare(source_dir: Path, source: dict[str, Any]) -> None:
    source_dir = Path(source_dir)
    index = source_dir / INDEX
    if index.exists():
        return
    partial = index.with_suffix(".partial")
    with pq.ParquetWriter(partial, INDEX_SCHEMA) as writer:
        for tar in snapshot_files(source_dir, "2m/train/*.tar"):
            rows = list(_samples(tar))
            for row in rows:
                row["tar"] = str(tar.relative_to(source_dir))
            writer.write_table(pa.Table.from_pylist(rows, schema=INDEX_SCHEMA))
    os.replace(partial, index)


def _samples(tar_path: Path) -> Iterator[dict[str, Any]]:
    """The tar's samples, grouped as datasets groups them: consecutive members sharing a key,
    regular files only, hidden (``.``/``__``) names skipped."""
    sample: dict[str, Any] | None = None
    with tarfile.open(tar_path) as tar:
        for member in tar:
            name = os.path.basename(member.name)
            match = MEMBER_NAME.match(member.name)
            if not member.isreg() or name.startswith((".", "__")) or not match:
                continue
            key, field = match.groups()
            if sample is None or sample["key"] != key:
                if sample is not None:
                    yield sample
                sample = dict(key=key, video_id=None, labels=None, offset=-1, size=0)
            if field == "json":
                _read_json(sample, tar.extractfile(member).read())
            elif field == "wav":
                sample["offset"], sample["size"] = member.offset_data, member.size
    if sample is not None:
        yield sample


def _read_json(sample: dict[str, Any], data: bytes) -> None:
    try:
        meta = json.loads(data)
        sample["video_id"] = str(meta["id"])
        sample["labels"] = [str(label) for label in meta["label"]]
    except (ValueError, KeyError, TypeError) as err:
        log.warning("audioset: %s: unreadable json (%s)", sample["key"], err)


def items(source_dir: Path, source: dict[str, Any]) -> Iterator[SourceItem]:
    source_dir = Path(source_dir)
    for batch in pq.ParquetFile(source_dir / INDEX).iter_batches(batch_size=65536):
        for row in batch.to_pylist():
            if row["video_id"] is None:
                log.warning(
                    "audioset: sample %s in %s has no json id; skipped", row["key"], row["tar"]
                )
                continue
            tar = source_dir / row["tar"]
            yield SourceItem(
                unique_id_1=row["key"],
                unique_id_2=row["video_id"],
                load_audio=(
                    functools.partial(file_bytes, tar, row["offset"], row["size"])
                    if row["offset"] >= 0
                    else functools.partial(_missing_wav, tar, row["key"])
                ),
                text=", ".join(row["labels"]) if row["labels"] is not None else None,
                text_type="caption",
            )


def _missing_wav(tar: Path, key: str) -> bytes:
    raise FileNotFoundError(f"{tar}: sample {key} has no .wav member")


def file_bytes(path: Path, offset: int, size: int) -> bytes:
    """A tar member's data: ``size`` bytes at ``offset``."""
    with open(path, "rb") as f:
        f.seek(offset)
        data = f.read(size)
    if len(data) != size:
        raise OSError(f"{path}: {size} bytes at {offset} are past the end of the file")
    return data
