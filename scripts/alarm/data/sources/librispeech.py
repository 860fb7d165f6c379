"""LibriSpeech (OpenSLR 12) train-clean-100, train-clean-360 and train-other-500.

A_text: ``lowercased text (duration, gender)``; uid = (speaker id, utterance id).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alarm.data.items import SourceItem
from alarm.data.sources._speech_common import text_lines, unpack

log = logging.getLogger(__name__)

SUBSETS = ("train-clean-100", "train-clean-360", "train-other-500")


def prepare(source_dir: Path, source: dict[str, Any]) -> None:
    for subset in SUBSETS:
        unpack(Path(source_dir) / f"{subset}.tar.gz", Path(source_dir) / subset)


def _genders(path: Path) -> dict[str, str]:
    """SPEAKERS.TXT: ";" comment lines, then ``ID | SEX | SUBSET | MINUTES | NAME``."""
    genders = {}
    for line in text_lines(path):
        fields = line.split("|")
        if not line.startswith(";") and len(fields) >= 2:
            genders[fields[0].strip()] = "Male" if fields[1].strip() == "M" else "Female"
    return genders


def _transcripts(path: Path) -> dict[str, str]:
    """``<spk>-<book>.trans.txt``: "<utterance id> <TEXT>" per line; the text is lowercased."""
    texts = {}
    for line in text_lines(path):
        utterance_id, *words = line.split(" ")
        texts[utterance_id] = " ".join(words).lower().strip()
    return texts


def _subdirs(path: Path) -> list[Path]:
    # Sorted: the authors' os.listdir order is arbitrary (they sort the finished set).
    return sorted(p for p in path.iterdir() if p.is_dir())


def items(source_dir: Path, source: dict[str, Any]) -> Iterator[SourceItem]:
    for subset in SUBSETS:
        root = Path(source_dir) / subset / "LibriSpeech"
        genders = _genders(root / "SPEAKERS.TXT")
        for speaker_dir in _subdirs(root / subset):
            speaker_id = speaker_dir.name
            gender = genders.get(speaker_id)  # None: a missing-field drop
            for book_dir in _subdirs(speaker_dir):
                transcript = book_dir / f"{speaker_id}-{book_dir.name}.trans.txt"
                try:
                    texts = _transcripts(transcript)
                except (OSError, UnicodeDecodeError) as err:
                    log.warning("librispeech: %s unreadable (%s): book skipped", transcript, err)
                    continue
                for utterance_id, text in texts.items():
                    yield SourceItem(
                        unique_id_1=speaker_id,
                        unique_id_2=utterance_id,
                        load_audio=(book_dir / f"{utterance_id}.flac").read_bytes,
                        text=text if gender is not None else None,
                        metadata={"gender": gender} if gender is not None else {},
                    )
