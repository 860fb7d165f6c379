"""The corpus filters, each a shard stage with its own ledger.

- audio filter (after the raw stage): the clip must decode and be shorter than
  ``max_duration_s`` (60 s: the authors drop ``duration >= 60``). ``audio_check:
  authors`` checks as theirs did (the described corpora only, the first 10 ms
  decoded) and counts what a full decode would have dropped; ``full`` decodes
  every clip of every corpus;
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
from collections import Counter
from pathlib import Path
from typing import Any

from alarm.data.audio import AudioError, decode_mono
from alarm.data.items import ITEM_SCHEMA, TARGETS_SCHEMA, WER_FILTERED_SCHEMA
from alarm.ledger import FLAGGED, Drop, Ledger
from alarm.stage import StageOutput, run_shard_stage

log = logging.getLogger(__name__)


def audio_filter(settings: dict[str, Any], input: str | Path, output: str | Path) -> Ledger:
    """Keep clips that decode and last less than ``max_duration_s`` (see the module)."""
    max_duration, authors = settings["max_duration_s"], settings["audio_check"] == "authors"

    def process(rows: list[dict[str, Any]]) -> StageOutput:
        kept, drops = [], []
        flagged: Counter[str] = Counter()
        for position, row in enumerate(rows):  # rows in raw-shard order: position = row number
            uid, audio = row["uid"], row.pop("audio")
            # A full decode finds a file truncated mid-stream, which would otherwise fail
            # in a training worker.
            problems = [Drop(uid, *p) for p in [_full_decode_problem(audio)] if p]
            if row["duration"] >= max_duration:
                detail = f"{row['duration']:.2f} s >= {max_duration} s"
                problems.append(Drop(uid, "audio_too_long", detail))
            if not authors:
                drop, flags = next(iter(problems), None), []
            elif row["category"] == "instruction":  # their check never saw these corpora
                drop, flags = None, problems
            else:
                # validate_and_filter_indexes.py: the first 10 ms decoded by their decoder,
                # duration >= max_duration dropped.
                first = _first_10_ms_problem(audio)
                too_long = [p for p in problems if p.reason == "audio_too_long"]
                drop = Drop(uid, *first) if first else next(iter(too_long), None)
                flags = [] if drop else problems
            flagged.update(p.reason for p in flags)
            if drop:
                log.warning("%s: %s: %s", uid, drop.reason, drop.detail)
                drops.append(drop)
                continue
            kept.append({**row, "audio_shard": str(input), "audio_row": position})
        return StageOutput(kept, drops, {FLAGGED: dict(flagged)} if authors else {})

    return run_shard_stage(
        stage="audio_filter", input=input, output=output, schema=ITEM_SCHEMA, process=process
    )


def _full_decode_problem(audio: bytes) -> tuple[str, str] | None:
    """(reason, detail) if the whole clip does not decode to finite samples."""
    try:
        decode_mono(audio, "soundfile", None)
    except AudioError as err:
        return err.reason, err.detail
    return None


def _first_10_ms_problem(audio: bytes) -> tuple[str, str] | None:
    """(reason, detail) if torchcodec cannot decode the first 10 ms (the authors' check)."""
    from torchcodec.decoders import AudioDecoder

    if not audio:
        return "audio_empty", "the file has no bytes"
    try:
        AudioDecoder(audio).get_samples_played_in_range(0, 0.01)
    except (RuntimeError, ValueError) as err:
        return "audio_undecodable", f"the first 10 ms: {err}"
    return None


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
        kept, drops, transcripts, heard = [], [], {}, []
        for row in rows:  # under audio_check: authors no earlier stage decoded these clips
            try:
                heard.append((row, load_mono(audio[row["uid"]], 16000, row["uid"])))
            except AudioError as err:
                log.warning("%s: %s", row["uid"], err)
                drops.append(Drop(row["uid"], err.reason, err.detail))
        batch = settings["batch_size"]
        for start in range(0, len(heard), batch):
            chunk = [row for row, _ in heard[start : start + batch]]
            waves = [wave for _, wave in heard[start : start + batch]]
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
        for row, _ in heard:
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
    from alarm.tokenizer import token_counter

    count = token_counter(tokenizer)
    low, high, apply = settings["min"], settings["max"], settings["apply"]

    def process(rows: list[dict[str, Any]]) -> StageOutput:
        kept, drops, outside = [], [], 0
        for row, n in zip(rows, count([row["target"] for row in rows]), strict=True):
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
