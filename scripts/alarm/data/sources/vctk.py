"""VCTK 0.80 (Edinburgh DataShare 10283/2651): read English speech, 109 speakers, wav48.

A_text: ``text (duration, age, accent, gender, region)``; uid = (speaker id, file stem).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alarm.data.items import SourceItem
from alarm.data.sources._speech_common import downloaded, read_stripped, text_lines, unpack

log = logging.getLogger(__name__)


def prepare(source_dir: Path, source: dict[str, Any]) -> None:
    # VCTK-Corpus.zip at the authors' URL; named by whatever URL the config gives.
    unpack(downloaded(source_dir, source["urls"][0]), Path(source_dir))


def _speakers(path: Path) -> dict[str, dict[str, str] | None]:
    """speaker-info.txt: ``ID AGE GENDER ACCENTS REGION...``, comments in "(...)" dropped."""
    speakers: dict[str, dict[str, str] | None] = {}
    for line in text_lines(path)[1:]:  # the header
        tokens = line.split("(")[0].split()
        if not tokens:
            continue
        if len(tokens) < 4:
            log.warning("vctk: speaker line %r lacks age/gender/accent", line)
            speakers[tokens[0]] = None
            continue
        speakers[tokens[0]] = {
            "age": tokens[1],
            "accent": tokens[3],
            "gender": "Female" if tokens[2] == "F" else "Male",
            "region": " ".join(tokens[4:]) or "Unknown",
        }
    return speakers


def items(source_dir: Path, source: dict[str, Any]) -> Iterator[SourceItem]:
    root = Path(source_dir) / "VCTK-Corpus"
    for speaker_id, speaker in _speakers(root / "speaker-info.txt").items():
        text_dir = root / "txt" / f"p{speaker_id}"
        if not text_dir.is_dir():
            continue  # e.g. p315 ships no transcripts; the authors skip such speakers too
        # A transcript whose wav is missing (the authors skip it) is a recorded drop here.
        for text_path in sorted(p for p in text_dir.iterdir() if p.is_file()):
            file_id = text_path.stem
            yield SourceItem(
                unique_id_1=speaker_id,
                unique_id_2=file_id,
                load_audio=(root / "wav48" / f"p{speaker_id}" / f"{file_id}.wav").read_bytes,
                text=read_stripped(text_path) if speaker is not None else None,
                metadata=dict(speaker or {}),
            )
