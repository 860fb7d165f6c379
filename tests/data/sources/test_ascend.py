"""ASCEND converter on a hub snapshot of its train split, as Parquet and as Arrow files."""

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from builders import (
    collect_descriptions,
    drop_reasons,
    hub_schema,
    item_ids,
    wav_bytes,
)

from alarm.data.sources import ascend

SOURCE = {"type": "hub", "repo": "CAiRE/ASCEND", "revision": "737e9800"}
FIELDS = ("id", "path", "transcription", "duration", "language", "original_speaker_id")
SCHEMA = hub_schema(FIELDS)


def _row(index, audio, **fields):
    row = {
        "id": f"{index:05d}",
        "path": f"ascend/train/{index:05d}.wav",
        "transcription": "我们 去 shopping mall ",
        "duration": "1.0",
        "language": "mixed",
        "original_speaker_id": "3",
        "audio": {"bytes": audio, "path": f"{index:05d}.wav"},
    }
    return row | fields


ROWS = [
    _row(1, wav_bytes(1.6)),
    _row(2, wav_bytes(0.6), transcription="okay", language="en"),
    _row(3, wav_bytes(1.0), transcription=None),
    _row(4, None),
]


def _check(source_dir, tmp_path):
    assert item_ids(ascend.items(source_dir, SOURCE)) == [
        ("00001", "ascend/train/00001.wav"),
        ("00002", "ascend/train/00002.wav"),
        ("00003", "ascend/train/00003.wav"),
        ("00004", "ascend/train/00004.wav"),
    ]
    settings = {"category": "speech", "source": SOURCE, "n_shards": 1}
    ledger, rows = collect_descriptions("ascend", settings, source_dir, tmp_path / "raw.parquet")
    assert rows == {
        "ascend/00001/ascend/train/00001.wav": (
            "[00:00-00:02] 我们 去 shopping mall (duration: 2s, language: zh-en code-switching)"
        ),
        "ascend/00002/ascend/train/00002.wav": "[00:00-00:01] okay (duration: 1s, language: en)",
    }
    assert drop_reasons(ledger) == {
        "ascend/00003/ascend/train/00003.wav": "missing_metadata",
        "ascend/00004/ascend/train/00004.wav": "unreadable_item",
    }


def test_parquet_snapshot(tmp_path):
    src = tmp_path / "src"
    (src / "data").mkdir(parents=True)
    table = pa.Table.from_pylist(ROWS, schema=SCHEMA)
    pq.write_table(
        table.slice(0, 2), src / "data" / "train-00000-of-00002.parquet", row_group_size=1
    )
    pq.write_table(table.slice(2), src / "data" / "train-00001-of-00002.parquet")
    pq.write_table(table.slice(0, 1), src / "data" / "validation-00000-of-00001.parquet")
    _check(src, tmp_path)


def test_arrow_snapshot(tmp_path):
    # A repo holding save_to_disk output: <split>/data-*.arrow IPC streams.
    src = tmp_path / "src"
    (src / "train").mkdir(parents=True)
    table = pa.Table.from_pylist(ROWS, schema=SCHEMA)
    path = src / "train" / "data-00000-of-00001.arrow"
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_stream(sink, SCHEMA) as writer:
        writer.write_table(table, max_chunksize=3)
    _check(src, tmp_path)


def test_a_missing_column_is_an_error(tmp_path):
    src = tmp_path / "src"
    (src / "data").mkdir(parents=True)
    table = pa.Table.from_pylist(ROWS, schema=SCHEMA).drop_columns(["language"])
    pq.write_table(table, src / "data" / "train-00000-of-00001.parquet")
    with pytest.raises(ValueError, match="language"):
        list(ascend.items(src, SOURCE))
