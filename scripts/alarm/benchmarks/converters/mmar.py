"""MMAR (1,000 items; speech, sound, music and their mixtures): BoJack/MMAR on the hub."""

from __future__ import annotations

import json
from pathlib import Path

from alarm import fetch
from alarm.benchmarks.converters import SourceRecord

REPO = "BoJack/MMAR"
REVISION = "3bd051123480e80d273ae9e8e9f1653f49010ac7"
METADATA = "MMAR-meta.json"


def download(dest: Path) -> None:
    fetch.unpack(fetch.hub_file(REPO, "mmar-audio.tar.gz", REVISION, dest), dest)
    fetch.hub_file(REPO, METADATA, REVISION, dest)


def records(source_dir: Path) -> list[SourceRecord]:
    meta = json.loads((source_dir / METADATA).read_text(encoding="utf-8"))
    return [
        SourceRecord(
            id=str(rec["id"]),
            question=str(rec["question"]),
            choices=[str(c) for c in rec["choices"]],
            answer=str(rec["answer"]),
            category=str(rec["modality"]),
            audio_path=source_dir / rec["audio_path"][2:],  # "./audio/x.wav"
            record=rec,
        )
        for rec in meta
    ]
