"""The corpus filters, each a shard stage with its own ledger.

- audio filter (after the raw stage): the clip must decode and be shorter than
  ``max_duration_s`` (60 s: the authors drop ``duration >= 60``);
- WER filter (HeySQuAD-like spoken instructions): Whisper's transcript of the
  spoken question must be within ``threshold`` WER of the written question;
- answer-length filter: the target must be ``min..max`` tokens long under the
  backbone's tokenizer. Only with ``apply``: the authors' training read the
  filtered indexes from another path than their filter wrote them to, so their runs
  trained on every target; without ``apply`` the stage counts the targets out of range
  (``kept_flagged``) and keeps them.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import numpy as np

from alarm.data.audio import AudioError, decode
from alarm.data.items import ITEM_SCHEMA, TARGETS_SCHEMA, WER_FILTERED_SCHEMA
from alarm.ledger import FLAGGED, Drop, Ledger
from alarm.stage import StageOutput, run_shard_stage

log = logging.getLogger(__name__)


def audio_filter(settings: dict[str, Any], input: str | Path, output: str | Path) -> Ledger:
    """Keep clips that decode fully to finite samples and last less than ``max_duration_s``."""
    max_duration = settings["max_duration_s"]

    def process(rows: list[dict[str, Any]]) -> StageOutput:
        kept, drops = [], []
        for position, row in enumerate(rows):  # rows in raw-shard order: position = row number
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
                drops.append(
                    Drop(uid, "audio_too_long", f"{row['duration']:.2f} s >= {max_duration} s")
                )
                continue
            kept.append({**row, "audio_shard": str(input), "audio_row": position})
        return StageOutput(kept, drops)

    return run_shard_stage(
        stage="audio_filter", input=input, output=output, schema=ITEM_SCHEMA, process=process
    )


def normalise_for_wer(text: str) -> str:
    """The authors' normalisation: lowercase, keep only a-z and spaces."""
    return " ".join(re.sub(r"[^a-z ]", "", text.lower()).split())


def wer_filter(
    settings: dict[str, Any],
    whisper: str | Path,
    input: str | Path,
    raw: str | Path,
    output: str | Path,
) -> Ledger:
    """Keep spoken instructions whose Whisper transcript is within ``threshold`` WER of the text."""
    import jiwer
    import torch
    from transformers import WhisperForConditionalGeneration, WhisperProcessor

    from alarm.data.audio import load_mono
    from alarm.files import read_shard

    device = "cuda" if torch.cuda.is_available() else "cpu"
    processor = WhisperProcessor.from_pretrained(str(whisper))
    model = WhisperForConditionalGeneration.from_pretrained(str(whisper)).to(device).eval()
    audio = {r["uid"]: r["audio"] for r in read_shard(raw, ["uid", "audio"])}

    def process(rows: list[dict[str, Any]]) -> StageOutput:
        kept, drops, transcripts = [], [], {}
        batch = settings["batch_size"]
        for start in range(0, len(rows), batch):
            chunk = rows[start : start + batch]
            waves = [load_mono(audio[r["uid"]], 16000, r["uid"]) for r in chunk]
            feats = processor(waves, sampling_rate=16000, return_tensors="pt").input_features
            with torch.no_grad():
                ids = model.generate(
                    feats.to(device),
                    language="en",
                    task="transcribe",
                    max_new_tokens=settings["max_new_tokens"],
                )
            for row, text in zip(
                chunk, processor.batch_decode(ids, skip_special_tokens=True), strict=True
            ):
                transcripts[row["uid"]] = text
        for row in rows:
            reference = normalise_for_wer(row["question"])
            if not reference:
                drops.append(Drop(row["uid"], "empty_reference", "the question has no letters"))
                continue
            hypothesis = transcripts[row["uid"]]
            wer = jiwer.wer(reference, normalise_for_wer(hypothesis) or "<empty>")
            if wer > settings["threshold"]:
                drops.append(Drop(row["uid"], "wer_above_threshold", f"WER {wer:.3f}"))
                continue
            kept.append({**row, "asr_transcript": hypothesis, "wer": wer})
        return StageOutput(kept, drops)

    return run_shard_stage(
        stage="wer_filter",
        input=input,
        output=output,
        schema=WER_FILTERED_SCHEMA,
        process=process,
    )


def answer_length_filter(
    settings: dict[str, Any], tokenizer: str | Path, input: str | Path, output: str | Path
) -> Ledger:
    """Keep targets of ``min..max`` tokens (the backbone's tokenizer, no special tokens);
    without ``apply``, keep every target and count those out of range."""
    from alarm.tokenizer import load_tokenizer

    tokenize = load_tokenizer(tokenizer)
    low, high, apply = settings["min"], settings["max"], settings["apply"]

    def process(rows: list[dict[str, Any]]) -> StageOutput:
        kept, drops, outside = [], [], 0
        for row in rows:
            n = len(tokenize(row["target"], add_special_tokens=False)["input_ids"])
            inside = low <= n <= high
            if apply and not inside:
                drops.append(
                    Drop(row["uid"], "answer_length", f"{n} tokens, outside {low}..{high}")
                )
                continue
            outside += not inside
            kept.append({**row, "target_tokens": n})
        return StageOutput(kept, drops, {FLAGGED: {"answer_length": outside}})

    return run_shard_stage(
        stage="answer_length_filter",
        input=input,
        output=output,
        schema=TARGETS_SCHEMA,
        process=process,
    )
