"""The common benchmark schema every converter writes and every later stage reads."""

from __future__ import annotations

import pyarrow as pa

BENCHMARK_SCHEMA = pa.schema(
    [
        pa.field("uid", pa.string(), nullable=False),  # f"{benchmark}/{id}"
        pa.field("benchmark", pa.string(), nullable=False),
        pa.field("id", pa.string(), nullable=False),
        # 0-based position in the source metadata file: the authors' dataset_index.
        pa.field("index", pa.int64(), nullable=False),
        # The clip in its original codec (AIR-Bench: mono 16 kHz WAV cropped to 60 s).
        pa.field("audio", pa.binary(), nullable=False),
        # Why the clip is missing, empty or undecodable; such items stay and score as wrong.
        pa.field("audio_error", pa.string()),
        pa.field("question", pa.string(), nullable=False),
        pa.field("choices", pa.list_(pa.string()), nullable=False),
        # "" where the answers are withheld (MMAU test).
        pa.field("answer", pa.string(), nullable=False),
        pa.field("category", pa.string(), nullable=False),
        # JSON of the original record: breakdown keys and the official prediction files.
        pa.field("fields", pa.string(), nullable=False),
    ]
)

# What a benchmark generation stage writes: the questions plus the raw model output
# (null where the model produced nothing, e.g. for an item without audio).
RESPONSE_SCHEMA = BENCHMARK_SCHEMA.append(pa.field("response", pa.string()))


def benchmark_uid(benchmark: str, item_id: str) -> str:
    return f"{benchmark}/{item_id}"
