"""Multilingual LibriSpeech (Opus release), train sets of its 7 non-English languages.

A_text: ``text (duration, gender)`` (the language is not in it); uid = (language, utterance).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alarm.data.items import SourceItem
from alarm.data.sources._speech_common import text_lines, unpack

log = logging.getLogger(__name__)

LANGUAGES = ("german", "dutch", "french", "spanish", "italian", "portuguese", "polish")


def prepare(source_dir: Path, source: dict[str, Any]) -> None:
    for language in LANGUAGES:
        unpack(Path(source_dir) / f"mls_{language}_opus.tar.gz", Path(source_dir) / language)


def _genders(path: Path) -> dict[str, str]:
    """metainfo.txt: a header, then ``SPEAKER | GENDER | PARTITION | MINUTES | BOOK | ...``."""
    genders = {}
    # The authors read readlines()[1:-1], dropping the last speaker line too (their bug).
    for line in text_lines(path)[1:]:
        fields = line.split("|")
        if len(fields) >= 2:
            genders[fields[0].strip()] = "Male" if fields[1].strip() == "M" else "Female"
    return genders


def items(source_dir: Path, source: dict[str, Any]) -> Iterator[SourceItem]:
    for language in LANGUAGES:
        root = Path(source_dir) / language / f"mls_{language}_opus"
        genders = _genders(root / "metainfo.txt")
        # transcripts.txt: "<spk>_<book>_<n>\t<text>"; every line is kept (the authors'
        # readlines()[:-1] dropped each language's last utterance).
        for line in text_lines(root / "train" / "transcripts.txt"):
            fields = line.split("\t")
            utterance_id = fields[0].strip()
            parts = utterance_id.split("_")
            if len(parts) != 3:
                log.warning("mls: %s transcript line %r has no <spk>_<book>_<n> id", language, line)
                continue
            speaker_id, book_id, _ = parts
            gender = genders.get(speaker_id)
            complete = len(fields) == 2 and gender is not None  # else a missing-field drop
            path = root / "train" / "audio" / speaker_id / book_id / f"{utterance_id}.opus"
            yield SourceItem(
                unique_id_1=language,
                unique_id_2=utterance_id,
                load_audio=path.read_bytes,
                text=fields[1].strip() if complete else None,
                metadata={"gender": gender} if complete else {},
            )
