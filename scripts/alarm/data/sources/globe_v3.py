"""GLOBE v3 (MushanW/GLOBE_V3): Common Voice English speech with UTMOS and SNR.

A_text: ``sentence (duration, mos, snr, gender, accent, age)``; uid = (cv path, sentence id).
Only rows whose Common Voice gender, accent and age are all given are kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alarm.data.items import SourceItem
from alarm.data.sources._speech_common import described, hf_rows

COLUMNS = (
    "common_voice_sentence",
    "utmos",
    "snr",
    "common_voice_gender",
    "common_voice_accents",
    "common_voice_age",
    "common_voice_path",
    "common_voice_sentence_id",
)
LABELS = ("common_voice_gender", "common_voice_accents", "common_voice_age")


def _describe(row: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return row["common_voice_sentence"].strip(), {
        "mos": row["utmos"],  # raw, unrounded
        "snr": row["snr"],
        "gender": row["common_voice_gender"].title(),
        "accent": row["common_voice_accents"],
        "age": row["common_voice_age"],
    }


def items(source_dir: Path, source: dict[str, Any]) -> Iterator[SourceItem]:
    for row, load_audio in hf_rows(Path(source_dir), ["train"], COLUMNS):
        # A Common Voice label of "nan" makes the authors fall back to the predicted_*
        # column, mark the row predicted and filter it out: such rows are not in the corpus.
        if any(row[label] == "nan" for label in LABELS):
            continue
        text, metadata = described(_describe, row)
        yield SourceItem(
            unique_id_1=str(row["common_voice_path"]),
            unique_id_2=str(row["common_voice_sentence_id"]),
            load_audio=load_audio,
            text=text,
            metadata=metadata,
        )
