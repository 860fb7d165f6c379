"""ESC-50 (authors' esc50.py): every clip of every fold, its category as a caption.

Download: ``master.zip`` of the ESC-50 repo and the ``esc50.csv`` the authors take
from the repo's master branch (both unpinned upstream). Layout after ``prepare``:
``esc50.csv`` (filename, fold, target, category, esc10, src_file, take) and
``ESC-50-master/audio/<filename>``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alarm.data.items import SourceItem
from alarm.data.sources._multi_sound_common import read_csv, unpack

log = logging.getLogger(__name__)


def prepare(source_dir: Path, source: dict[str, Any]) -> None:
    source_dir = Path(source_dir)
    if not (source_dir / "ESC-50-master" / "audio").is_dir():
        unpack(source_dir / "master.zip", source_dir)


def items(source_dir: Path, source: dict[str, Any]) -> Iterator[SourceItem]:
    source_dir = Path(source_dir)
    audio_dir = source_dir / "ESC-50-master" / "audio"
    for row in read_csv(source_dir / "esc50.csv"):
        if not row.get("filename") or not row.get("src_file"):
            log.warning("esc50: row without filename/src_file skipped: %s", row)
            continue
        category = row.get("category")
        yield SourceItem(
            unique_id_1=row["filename"],
            # pandas reads src_file as an int; the ids are plain digits, so the text is equal.
            unique_id_2=row["src_file"],
            load_audio=(audio_dir / row["filename"]).read_bytes,
            # Underscores are kept ("chirping_birds"), as the authors do.
            text=category.strip() if category else None,
            text_type="caption",
        )
