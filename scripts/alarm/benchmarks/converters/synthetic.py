"""The synthetic benchmark of the default configuration (alarm.data.synthetic.make_benchmark).

Its answers are true by construction; it stands in for the real benchmarks
where those cannot be downloaded, and has no download of its own.
"""

from __future__ import annotations

from pathlib import Path

from alarm.benchmarks.converters import SourceRecord
from alarm.files import read_jsonl

PART = "benchmark"
METADATA = f"{PART}/metadata.jsonl"


def records(source_dir: Path) -> list[SourceRecord]:
    return [
        SourceRecord(
            id=str(rec["unique_id_1"]),
            question=str(rec["question"]),
            choices=[str(c) for c in rec["choices"]],
            answer=str(rec["answer"]),
            category=str(rec["category"]),
            audio_path=source_dir / PART / rec["file"],
            record=rec,
        )
        for rec in read_jsonl(source_dir / METADATA)
    ]
