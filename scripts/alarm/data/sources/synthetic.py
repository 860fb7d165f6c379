"""Converter for the synthetic corpus parts written by ``alarm make-synthetic-corpus``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alarm.data.items import SourceItem
from alarm.files import read_jsonl


def items(source_dir: Path, source: dict[str, Any]) -> Iterator[SourceItem]:
    part_dir = Path(source_dir) / source["part"]
    for row in read_jsonl(part_dir / "metadata.jsonl"):
        audio_path = part_dir / row["file"]
        yield SourceItem(
            unique_id_1=row["unique_id_1"],
            unique_id_2=row["unique_id_2"],
            load_audio=audio_path.read_bytes,
            text=row.get("text"),
            text_type=row.get("text_type", "speech"),
            metadata=row.get("metadata", {}),
            segments=[tuple(s) for s in row["segments"]] if "segments" in row else None,
            question=row.get("question"),
            context=row.get("context"),
            official_split=row.get("split"),
        )
