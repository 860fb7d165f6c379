"""CAMEO (amu-cai/CAMEO): acted emotional speech, 13 source corpora as 13 hub splits.

A_text: ``transcription (duration, emotion, gender, age, language)``; uid = (subset, file_id).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alarm.data.items import SourceItem
from alarm.data.sources._speech_common import described, hf_rows

# The authors load these splits one by one and concatenate them in this order.
SPLITS = (
    "cafe",
    "crema_d",
    "emns",
    "emozionalmente",
    "enterface",
    "jl_corpus",
    "mesd",
    "nemo",
    "oreau",
    "pavoque",
    "ravdess",
    "resd",
    "subesco",
)
COLUMNS = ("transcription", "emotion", "gender", "age", "language", "dataset", "file_id")


def _describe(row: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return row["transcription"].strip(), {
        "emotion": row["emotion"].title(),
        "gender": row["gender"].title(),
        "age": row["age"],  # as stored, not title-cased
        "language": row["language"].title(),
    }


def items(source_dir: Path, source: dict[str, Any]) -> Iterator[SourceItem]:
    for row, load_audio in hf_rows(Path(source_dir), SPLITS, COLUMNS):
        text, metadata = described(_describe, row)
        yield SourceItem(
            unique_id_1=str(row["dataset"]),
            unique_id_2=str(row["file_id"]),
            load_audio=load_audio,
            text=text,
            metadata=metadata,
        )
