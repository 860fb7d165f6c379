"""MMSU (5,000 spoken-language items, 47 tasks): ddwang2000/MMSU on the hub."""

from __future__ import annotations

from pathlib import Path

from alarm import fetch
from alarm.benchmarks.converters import CHOICE_KEYS, SourceRecord, lettered_choices
from alarm.files import read_jsonl

REPO = "ddwang2000/MMSU"
# The authors pin the metadata and the audio at different revisions.
METADATA_REVISION = "2568d7b939286b19a0be93b767886e29c7874445"
AUDIO_REVISION = "4b230b59ac5ae4cd074b4efddfc459496000111b"
METADATA = "question/mmsu.jsonl"


def download(dest: Path) -> None:
    fetch.hub_snapshot(REPO, AUDIO_REVISION, dest, allow=["audio/**"])
    fetch.hub_file(REPO, METADATA, METADATA_REVISION, dest)


def records(source_dir: Path) -> list[SourceRecord]:
    out = []
    for rec in read_jsonl(source_dir / METADATA):
        # The authors' metadata file adds the option list to each record.
        rec["choices"] = [rec[key] for key in CHOICE_KEYS if key in rec]
        out.append(
            SourceRecord(
                id=str(rec["id"]),
                question=str(rec["question"]),
                choices=lettered_choices(rec),
                answer=str(rec["answer_gt"]),
                category=str(rec["category"]),
                audio_path=source_dir / rec["audio_path"][1:],  # "/audio/x.wav"
                record=rec,
            )
        )
    return out
