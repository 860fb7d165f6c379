"""Clotho v1 development set (authors' clotho.py): five captioned items per clip.

Download (Zenodo 3490684): ``clotho_audio_development.7z``,
``clotho_captions_development.csv`` (file_name, caption_1..caption_5) and
``clotho_metadata_development.csv`` (file_name, keywords, ...). ``prepare``
extracts the audio with ``7z`` as the authors do, into ``development/<file_name>``.
"""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alarm.data.items import SourceItem
from alarm.data.sources._multi_sound_common import read_csv

log = logging.getLogger(__name__)


def prepare(source_dir: Path, source: dict[str, Any]) -> None:
    source_dir = Path(source_dir)
    if not (source_dir / "development").is_dir():
        archive = source_dir / "clotho_audio_development.7z"
        subprocess.run(["7z", "x", str(archive), f"-o{source_dir}", "-y"], check=True)


def items(source_dir: Path, source: dict[str, Any]) -> Iterator[SourceItem]:
    source_dir = Path(source_dir)
    keywords: dict[str, str] = {}
    for row in read_csv(source_dir / "clotho_metadata_development.csv"):
        keywords.setdefault(row["file_name"], row.get("keywords") or "")  # first row, as .iloc[0]
    for row in read_csv(source_dir / "clotho_captions_development.csv"):
        fname = row.get("file_name")
        if not fname:
            log.warning("clotho: caption row without file_name skipped: %s", row)
            continue
        tags = keywords.get(fname)
        for index in range(1, 6):
            caption = row.get(f"caption_{index}")
            yield SourceItem(
                unique_id_1=fname,
                unique_id_2=f"caption_{index}",
                load_audio=(source_dir / "development" / fname).read_bytes,
                text=caption.strip() if caption and tags else None,
                text_type="caption",
                metadata={"tags": tags.replace(";", "/")} if tags else {},
            )
