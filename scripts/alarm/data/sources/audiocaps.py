"""AudioCaps (authors' audiocaps.py): the hub train split, one caption per row.

Snapshot of OpenSound/AudioCaps @b29b3243: ``data/train-*.parquet`` with columns
audiocap_id, youtube_id, caption and the ``audio`` struct {bytes, path}.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alarm.data.items import SourceItem
from alarm.data.sources._multi_sound_common import parquet_rows, snapshot_files

COLUMNS = ("audiocap_id", "youtube_id", "caption")


def items(source_dir: Path, source: dict[str, Any]) -> Iterator[SourceItem]:
    for path in snapshot_files(source_dir, "data/train-*.parquet"):
        for row, load_audio in parquet_rows(path, COLUMNS):
            caption = row["caption"]
            yield SourceItem(
                unique_id_1=str(row["audiocap_id"]),
                unique_id_2=str(row["youtube_id"]),
                load_audio=load_audio,
                text=caption.strip() if caption else None,
                text_type="caption",
            )
