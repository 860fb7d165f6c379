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
