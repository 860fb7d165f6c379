"""ASVspoof 5 train set (jungjee/asvspoof5 tar files): bona fide and TTS-spoofed speech.

A_text: ``|Speech| (duration, is bona fide or spoof, spoof algorithm description)``;
uid = (flac file id, speaker id): the reverse of asvspoof19's order, as the authors have it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alarm.data.items import SourceItem
from alarm.data.sources._speech_common import described, text_lines, unpack

log = logging.getLogger(__name__)

# flac_T_a[a-e].tar hold flac_T/<id>.flac; the protocols tar holds ASVspoof5.*.tsv.
ARCHIVES = (*(f"flac_T_a{part}.tar" for part in "abcde"), "ASVspoof5_protocols.tar")
ATTACK2TYPE = {
    "A01": "Text-To-Speech using GlowTTS",
    "A02": "Text-To-Speech using GlowTTS",
    "A03": "Text-To-Speech using GlowTTS",
    "A04": "Text-To-Speech using GradTTS",
    "A05": "Text-To-Speech using GradTTS",
    "A06": "Text-To-Speech using GradTTS",
    "A07": "Text-To-Speech using FastPitch",
    "A08": "Text-To-Speech using VITS",
    "bonafide": "None because this is a real audio",
}


def prepare(source_dir: Path, source: dict[str, Any]) -> None:
    for archive in ARCHIVES:
        unpack(Path(source_dir) / archive, Path(source_dir))


def _describe(fields: list[str]) -> tuple[str, dict[str, Any]]:
    # SPEAKER FLAC GENDER CODEC CODEC_Q CODEC_SEED ATTACK_TAG ATTACK_LABEL KEY TMP
    _, _, _, _, _, _, _, system_id, _, _ = fields
    return "Speech", {
        # The authors test `system_id == "-"` (the 2019 convention), which the 2024 label
        # "bonafide" never equals, so they call every bona fide clip "spoof".
        "is bona fide or spoof": "bona fide" if system_id == "bonafide" else "spoof",
        "spoof algorithm description": ATTACK2TYPE[system_id],
    }


def items(source_dir: Path, source: dict[str, Any]) -> Iterator[SourceItem]:
    # Every protocol line is kept; the authors' readlines()[:-1] dropped the last one.
    for line in text_lines(Path(source_dir) / "ASVspoof5.train.tsv"):
        fields = line.split()
        if len(fields) < 2:
            log.warning("asvspoof5: protocol line %r has no speaker and file id", line)
            continue
        speaker_id, file_id = fields[0], fields[1]
        text, metadata = described(_describe, fields)
        yield SourceItem(
            unique_id_1=file_id,
            unique_id_2=speaker_id,
            load_audio=(Path(source_dir) / "flac_T" / f"{file_id}.flac").read_bytes,
            text=text,
            text_type="caption",
            metadata=metadata,
        )
