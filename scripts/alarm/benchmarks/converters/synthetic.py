"""The synthetic benchmark of the default configuration (alarm.data.synthetic.make_benchmark).

Its answers are true by construction; it stands in for the real benchmarks
where those cannot be downloaded, and has no download of its own.
"""

from __future__ import annotations

import json
from pathlib import Path

from alarm.benchmarks.converters import SourceRecord

PART = "benchmark"
METADATA = f"{PART}/metadata.jsonl"


def records(source_dir: Path) -> list[SourceRecord]:
    out = []
    with open(source_dir / METADATA, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            rec = json.loads(line)
            out.append(
                SourceRecord(
                    id=str(rec["unique_id_1"]),
                    question=str(rec["question"]),
                    choices=[str(c) for c in rec["choices"]],
                    answer=str(rec["answer"]),
                    category=str(rec["category"]),
                    audio_path=source_dir / PART / rec["file"],
                    record=rec,
                )
            )
    return out
