"""MMAU v05.15.25: test-mini (1,000 items, answers public) and test (9,000, answers withheld)."""

from __future__ import annotations

import json
from pathlib import Path

from alarm import fetch
from alarm.benchmarks.converters import SourceRecord

# Metadata at the authors' commit of Sakshi113/MMAU; test-mini's content is pinned by hash.
METADATA_COMMIT = "8e0ed4cd58363e546dda52cc21f9a733e684bae3"
METADATA_URL = "https://raw.githubusercontent.com/Sakshi113/MMAU/{commit}/{name}"
METADATA = {"test-mini": "mmau-test-mini.json", "test": "mmau-test.json"}
METADATA_SHA256 = {
    "test-mini": "9f18fda99f8dbc2bc5ecd6323fb5063309f54969810b5c6f1caeb3b8d904cf1c",
    "test": None,  # not published anywhere we could check; .fetch/manifest.json records what came
}
TEST_MINI_AUDIO_DRIVE_ID = "1fERNIyTa0HWry6iIG1X-1ACPlUlhlRWA"
TEST_AUDIO_REPO = "gamma-lab-umd/MMAU-test"
TEST_AUDIO_REVISION = "8e835a9f64ed6c703b3c9ddb6d423d9ab697061e"


def download(dest: Path, split: str) -> None:
    if split == "test-mini":
        archive = fetch.gdrive_file(TEST_MINI_AUDIO_DRIVE_ID, dest / "test-mini-audios.tar.gz")
    else:
        archive = fetch.hub_file(TEST_AUDIO_REPO, "test-audios.tar.gz", TEST_AUDIO_REVISION, dest)
    fetch.unpack(archive, dest)
    name = METADATA[split]
    fetch.url_file(
        METADATA_URL.format(commit=METADATA_COMMIT, name=name), dest / name, METADATA_SHA256[split]
    )


def records(source_dir: Path, split: str) -> list[SourceRecord]:
    meta = json.loads((source_dir / METADATA[split]).read_text(encoding="utf-8"))
    return [
        SourceRecord(
            id=str(rec["id"]),
            question=str(rec["question"]),
            choices=[str(c) for c in rec["choices"]],
            answer=str(rec.get("answer") or ""),  # withheld on the test split
            # The task (sound/music/speech) is what the paper reports; the record's own
            # "category" (a string, or a one-element list in 13 records) stays in the record.
            category=str(rec["task"]),
            audio_path=source_dir / rec["audio_id"][2:],  # "./test-mini-audios/x.wav"
            record=rec,
        )
        for rec in meta
    ]
