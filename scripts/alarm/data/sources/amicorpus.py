"""AMI (authors' amicorpus.py): headset utterances laid out as meeting clips of >= 40 s.

The authors' revision 8dfb8d51 of edinburghcstr/ami is a commit of the hub's
``refs/convert/parquet`` branch: ``{ihm,sdm}/partial-{train,validation,test}/NNNN.parquet``
(the hub's partial export of the script dataset). ``load_dataset(..., split="train")``
without a config puts both ``ihm/partial-train`` and ``sdm/partial-train`` in "train" (the
"train" keyword in the directory name), and the authors then drop ``microphone_id ==
"SDM1"``: what remains is the ihm rows, so only ``ihm/partial-train`` is downloaded (the
filter is still applied). Columns: meeting_id, audio_id, text, audio, begin_time,
end_time, microphone_id, speaker_id.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from itertools import groupby
from pathlib import Path
from typing import Any

import numpy as np

from alarm.data.audio import load_mono
from alarm.data.items import SourceItem
from alarm.data.sources._multi_sound_common import (
    SAMPLING_RATE,
    Span,
    parquet_rows,
    snapshot_files,
    span_chunks,
    span_item,
)

log = logging.getLogger(__name__)

MAX_SECONDS = 40
COLUMNS = ("meeting_id", "begin_time", "end_time", "microphone_id", "speaker_id", "text")


def items(source_dir: Path, source: dict[str, Any]) -> Iterator[SourceItem]:
    rows = [
        (row, load)
        for path in snapshot_files(source_dir, "ihm/partial-train/*.parquet")
        for row, load in parquet_rows(path, COLUMNS)
        if row["microphone_id"] != "SDM1" and _complete(row, path)
    ]
    # Stable, as the authors' ds.sort(["meeting_id", "begin_time", "end_time"]).
    rows.sort(key=lambda r: (r[0]["meeting_id"], r[0]["begin_time"], r[0]["end_time"]))
    for meeting_id, meeting in groupby(rows, key=lambda r: r[0]["meeting_id"]):
        spans = [
            Span(
                start=row["begin_time"],
                end=row["end_time"],
                speaker=row["speaker_id"],
                text=row["text"].lower().strip() if row["text"] is not None else None,
                audio=functools.partial(decoded_16k, load),
            )
            for row, load in meeting
        ]
        genders = {s.speaker: "Male" if s.speaker[:1] == "M" else "Female" for s in spans}
        for wav_id, chunk in enumerate(span_chunks(spans, MAX_SECONDS)):
            joint_f_id = f"{meeting_id}_{wav_id}_" + "_".join(s.speaker[3:] for s in chunk)
            yield span_item(meeting_id, joint_f_id, chunk, genders)


def _complete(row: dict[str, Any], path: Path) -> bool:
    # A row without its meeting, speaker or times cannot be placed in any clip.
    missing = [c for c in ("meeting_id", "begin_time", "end_time", "speaker_id") if row[c] is None]
    if missing:
        log.warning("amicorpus: %s: row %s lacks %s; skipped", path, row, ", ".join(missing))
    return not missing


def decoded_16k(load: Callable[[], bytes]) -> np.ndarray:
    """The row's audio, decoded, downmixed and resampled to 16 kHz."""
    return load_mono(load(), SAMPLING_RATE)
