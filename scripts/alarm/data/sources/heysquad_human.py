"""HeySQuAD human (Wu et al. 2023): SQuAD 2.0 questions read aloud, for spoken QA.

Hub snapshot of Parquet files (``data/{train,validation}-*``; columns audio, question,
context, id, is_impossible, ...). Every split is kept, as the authors do; the
validation rows keep "validation" as their official split. No A_text: the
question is the transcript of the audio and the SQuAD passage its context.
Ids ``id`` ; ``str(is_impossible)`` ("True"/"False").
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alarm.data.items import SourceItem
from alarm.data.sources._music_instruction_common import ParquetRows, hf_split_files

log = logging.getLogger(__name__)

COLUMNS = ["id", "is_impossible", "question", "context"]


def items(source_dir: Path, source: dict[str, Any]) -> Iterator[SourceItem]:
    reader = ParquetRows("audio")
    for split, files in hf_split_files(Path(source_dir)).items():
        official_split = "validation" if split == "validation" else "train"
        for path in files:
            for index, (row, load_audio) in enumerate(reader.rows(path, COLUMNS)):
                if row["id"] is None or row["is_impossible"] is None:
                    log.warning(
                        "heysquad_human %s row %d: no id or is_impossible, skipped", path, index
                    )
                    continue
                yield SourceItem(
                    unique_id_1=str(row["id"]),
                    unique_id_2=str(row["is_impossible"]),
                    load_audio=load_audio,
                    question=row["question"],
                    context=row["context"],
                    official_split=official_split,
                )
