"""OpenSinger (Huang et al. 2021): Chinese singing, one lyric line per clip.

Layout after unpacking the Drive tarball:
``OpenSinger/{ManRaw,WomanRaw}/<singer>_<song>/<utt>.wav`` beside ``<utt>.txt``.
A_text: ``[00:00-00:05] <lyrics> (duration: 5s, song name: <song>, gender: Male)``;
ids ``gender: <Male|Female>`` ; ``<utt>.wav``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alarm.data.items import SourceItem
from alarm.data.sources._music_instruction_common import unpack

log = logging.getLogger(__name__)

GENDERS = {"ManRaw": "Male", "WomanRaw": "Female"}


def prepare(source_dir: Path, source: dict[str, Any]) -> None:
    # gdown keeps the Drive file name (the authors save it as OpenSinger.tar.gz).
    for archive in sorted(Path(source_dir).glob("*.tar.gz")):
        unpack(archive, Path(source_dir))


def _lyrics(wav: Path) -> str | None:
    try:
        # The authors keep read_text() unstripped, so the file's trailing newline ends up
        # inside A_text before " (duration: ...)"; it is stripped here.
        return wav.with_suffix(".txt").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as err:
        log.warning("%s: no readable lyrics (%s), its A_text cannot be built", wav, err)
        return None


def items(source_dir: Path, source: dict[str, Any]) -> Iterator[SourceItem]:
    root = Path(source_dir) / "OpenSinger"
    for folder, gender in GENDERS.items():
        for song_dir in sorted(p for p in (root / folder).iterdir() if p.is_dir()):
            parts = song_dir.name.split("_")
            if len(parts) != 2:  # the authors assert <singer>_<song>
                log.warning("%s: not <singer>_<song>, skipped", song_dir)
                continue
            for wav in sorted(p for p in song_dir.iterdir() if p.name.endswith(".wav")):
                yield SourceItem(
                    unique_id_1=f"gender: {gender}",
                    unique_id_2=wav.name,
                    load_audio=wav.read_bytes,
                    text=_lyrics(wav),
                    text_type="speech",
                    metadata={"song name": parts[1], "gender": gender},
                )
