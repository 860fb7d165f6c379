"""ASCEND (CAiRE/ASCEND): Mandarin-English code-switching conversation, train split.

A_text: ``transcription (duration, language)``; uid = (id, path).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alarm.data.items import SourceItem
from alarm.data.sources._speech_common import described, hf_rows

COLUMNS = ("transcription", "language", "id", "path")


def _describe(row: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    language = "zh-en code-switching" if row["language"] == "mixed" else row["language"]
    return row["transcription"].strip(), {"language": language}


def items(source_dir: Path, source: dict[str, Any]) -> Iterator[SourceItem]:
    for row, load_audio in hf_rows(Path(source_dir), ["train"], COLUMNS):
        text, metadata = described(_describe, row)
        yield SourceItem(
            unique_id_1=str(row["id"]),
            unique_id_2=str(row["path"]),
            load_audio=load_audio,
            text=text,
            metadata=metadata,
        )
