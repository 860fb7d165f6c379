"""ASVspoof 2019 LA (Bisher/ASVspoof_2019_LA), train split: bona fide and spoofed speech.

A_text: ``|Speech| (duration, is bona fide or spoof, spoof algorithm description)``;
uid = (speaker_id, audio_file_name).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alarm.data.items import SourceItem
from alarm.data.sources._speech_common import described, hf_rows

COLUMNS = ("speaker_id", "audio_file_name", "system_id")
# The LA train attacks; bona fide rows have system id "-".
ATTACK2TYPE = {
    "A01": "Text-To-Speech using WaveNet",
    "A02": "Text-To-Speech using WORLD",
    "A03": "Text-To-Speech using WORLD",
    "A04": "Text-To-Speech using Waveform Concatenation based on MaryTTS",
    "A05": "Voice Conversion using VAE and WORLD",
    "A06": "Transfer-function based Voice Conversion using Spectral Filtering and Overlap-and-Add",
    "-": "None because this is a real audio",
}


def _describe(row: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    system_id = row["system_id"]
    return "Speech", {
        "is bona fide or spoof": "bona fide" if system_id == "-" else "spoof",
        "spoof algorithm description": ATTACK2TYPE[system_id],  # unknown id: missing field
    }


def items(source_dir: Path, source: dict[str, Any]) -> Iterator[SourceItem]:
    for row, load_audio in hf_rows(Path(source_dir), ["train"], COLUMNS):
        text, metadata = described(_describe, row)
        yield SourceItem(
            unique_id_1=str(row["speaker_id"]),
            unique_id_2=str(row["audio_file_name"]),
            load_audio=load_audio,
            text=text,
            text_type="caption",
            metadata=metadata,
        )
