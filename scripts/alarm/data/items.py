"""The row types of the corpus stages and the raw shard schema every converter writes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa


@dataclass
class SourceItem:
    """One item of a source corpus as its converter reads it, before any audio is decoded.

    ``text``/``text_type``/``metadata`` build A_text (``segments`` for multi-speaker
    clips); instruction corpora fill ``question``/``context`` instead.
    """

    unique_id_1: str
    unique_id_2: str
    load_audio: Callable[[], bytes]
    text: str | list[str] | None = None
    text_type: str = "speech"
    metadata: dict[str, Any] = field(default_factory=dict)
    segments: list[tuple[float, float, str]] | None = None
    question: str | None = None
    context: str | None = None
    official_split: str | None = None


# Rows per Parquet row group of a raw shard: training reads one clip by reading its row
# group, so a small group keeps that read small while the footer stays compact.
RAW_ROW_GROUP_ROWS = 16

# Raw shards: audio bytes in the source's own codec and rate, plus what later stages read.
RAW_SCHEMA = pa.schema(
    [
        ("uid", pa.string()),
        ("dataset", pa.string()),
        ("unique_id_1", pa.string()),
        ("unique_id_2", pa.string()),
        ("category", pa.string()),
        ("audio", pa.binary()),
        ("sample_rate", pa.int32()),
        ("channels", pa.int32()),
        ("duration", pa.float64()),
        ("audio_description", pa.string()),
        ("metadata", pa.string()),  # JSON object, keys in the source's order
        ("question", pa.string()),
        ("context", pa.string()),
        ("official_split", pa.string()),
    ]
)

# Everything of a raw row but the audio, plus where the audio lives: what the
# text stages and the corpus index carry (audio is never rewritten after the raw stage).
ITEM_SCHEMA = pa.schema(
    [f for f in RAW_SCHEMA if f.name != "audio"]
    + [("audio_shard", pa.string()), ("audio_row", pa.int64())]
)

# The text stages' shards, in DAG order.
PROMPTS_SCHEMA = pa.schema(
    [
        ("uid", pa.string()),
        ("dataset", pa.string()),
        ("audio_description", pa.string()),
        ("prompt_candidates", pa.list_(pa.string())),
        ("candidate_answerable", pa.list_(pa.bool_())),
        ("candidate_exposes_text", pa.list_(pa.bool_())),
        ("prompt", pa.string()),
    ]
)

R0_SCHEMA = pa.schema(
    [
        ("uid", pa.string()),
        ("dataset", pa.string()),
        ("audio_description", pa.string()),
        ("prompt", pa.string()),
        ("r0", pa.string()),
        ("r0_finish_reason", pa.string()),
        ("r0_complete", pa.bool_()),
        ("r0_tokens", pa.int32()),
    ]
)

REPHRASED_SCHEMA = pa.schema(
    [
        ("uid", pa.string()),
        ("dataset", pa.string()),
        ("prompt", pa.string()),
        ("r0", pa.string()),
        ("r0_complete", pa.bool_()),
        ("target", pa.string()),
        ("rephrase_passes", pa.int32()),
        ("rephrase_forced_close", pa.bool_()),
        ("rephrase_tokens", pa.int32()),
        ("rephrase_attempts", pa.int32()),
    ]
)

INSTRUCTION_SCHEMA = pa.schema(
    [
        ("uid", pa.string()),
        ("dataset", pa.string()),
        ("question", pa.string()),
        ("context", pa.string()),
        ("response_with_context", pa.string()),
        ("response_no_context", pa.string()),
    ]
)

# The filters' shards: what they keep, plus what they measured.
WER_FILTERED_SCHEMA = INSTRUCTION_SCHEMA.append(pa.field("asr_transcript", pa.string())).append(
    pa.field("wer", pa.float64())
)
TARGETS_SCHEMA = REPHRASED_SCHEMA.append(pa.field("target_tokens", pa.int32()))

# Spoken instructions are answered with the context and the question, or the question alone.
VARIANTS = ("with_context", "no_context")


def instruction_text(question: str, context: str | None, variant: str) -> str:
    if variant == "with_context":
        return ((context or "") + "\n" + question).strip()
    return question
