"""The corpus filters, each a shard stage with its own ledger.

- audio filter (after the raw stage): the clip must decode and be shorter than
  ``max_duration_s`` (60 s: the authors drop ``duration >= 60``);
- WER filter (HeySQuAD-like spoken instructions): Whisper's transcript of the
  spoken question must be within ``threshold`` WER of the written question;
- answer-length filter: the target must be ``min..max`` tokens long under the
  backbone's tokenizer.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from alarm.data.audio import AudioError, decode
from alarm.data.items import ITEM_SCHEMA
from alarm.ledger import Drop, Ledger
from alarm.stage import StageOutput, run_shard_stage

log = logging.getLogger(__name__)


def audio_filter(settings: dict[str, Any], input: str | Path, output: str | Path) -> Ledger:
    """Keep clips that decode fully to finite samples and last less than ``max_duration_s``."""
    max_duration = settings["max_duration_s"]

    def process(rows: list[dict[str, Any]]) -> StageOutput:
        kept, drops = [], []
        for row in rows:
            uid = row["uid"]
            try:
                # Decode the whole clip (the authors read only its first 10 ms): a file
                # truncated mid-stream fails here rather than in a training worker.
                samples, _ = decode(row.pop("audio"))
                if not np.isfinite(samples).all():
                    raise AudioError("audio_nan", "NaN or infinite samples")
            except AudioError as err:
                log.warning("%s: %s", uid, err)
                drops.append(Drop(uid, err.reason, err.detail))
                continue
            if row["duration"] >= max_duration:
                drops.append(Drop(uid, "audio_too_long", f"{row['duration']:.2f} s >= {max_duration} s"))
                continue
            kept.append({**row, "audio_shard": str(input)})
        return StageOutput(kept, drops)

    return run_shard_stage(
        stage="audio_filter", input=input, output=output, schema=ITEM_SCHEMA, process=process
    )
