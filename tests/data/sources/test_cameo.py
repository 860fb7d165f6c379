"""CAMEO converter on a hub snapshot: one Parquet file per split, audio as {bytes, path}."""

import io

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import soundfile as sf

from alarm.data.collect import collect_shard
from alarm.data.sources import cameo
from alarm.shards import read_shard

SOURCE = {"type": "hub", "repo": "amu-cai/CAMEO", "revision": "38e9e968"}
FIELDS = (
    "file_id",
    "emotion",
    "transcription",
    "speaker_id",
    "gender",
    "age",
    "dataset",
    "language",
)
SCHEMA = pa.schema(
    [(f, pa.string()) for f in FIELDS]
    + [("audio", pa.struct([("bytes", pa.binary()), ("path", pa.string())]))]
)


def _wav(seconds: float, sr: int = 16000) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, np.full(int(seconds * sr), 0.1), sr, format="WAV")
    return buf.getvalue()


def _row(file_id, dataset, audio, **fields):
    row = {
        "file_id": file_id,
        "emotion": "anger",
        "transcription": " Dogs are sitting by the door. ",
        "speaker_id": "1001",
        "gender": "male",
        "age": "51",
        "dataset": dataset,
        "language": "english",
        "audio": {"bytes": audio, "path": f"{file_id}.wav"},
    }
    return row | fields


@pytest.fixture
def source_dir(tmp_path):
    rows = {
        "cafe": [_row("cafe_1", "cafe", _wav(1.5), language="french", transcription="Un cheval")],
        "crema_d": [
            _row("1001_DFA_ANG_XX", "crema_d", _wav(2.6)),
            _row("1001_DFA_HAP_XX", "crema_d", _wav(1.0), emotion=None),
            _row("1001_DFA_SAD_XX", "crema_d", None),
        ],
    }
    (tmp_path / "src" / "data").mkdir(parents=True)
    for split in cameo.SPLITS:
        table = pa.Table.from_pylist(rows.get(split, []), schema=SCHEMA)
        path = tmp_path / "src" / "data" / f"{split}-00000-of-00001.parquet"
        pq.write_table(table, path, row_group_size=2)
    return tmp_path / "src"


def test_items_follow_the_authors_split_order(source_dir):
    ids = [(i.unique_id_1, i.unique_id_2) for i in cameo.items(source_dir, SOURCE)]
    assert ids == [
        ("cafe", "cafe_1"),
        ("crema_d", "1001_DFA_ANG_XX"),
        ("crema_d", "1001_DFA_HAP_XX"),
        ("crema_d", "1001_DFA_SAD_XX"),
    ]


def test_raw_shard_a_text_and_drops(source_dir, tmp_path):
    settings = {"category": "speech", "source": SOURCE, "n_shards": 1}
    out = tmp_path / "raw.parquet"
    ledger = collect_shard("cameo", settings, 0, source_dir, out)
    rows = {r["uid"]: r["audio_description"] for r in read_shard(out)}
    assert rows == {
        "cameo/cafe/cafe_1": (
            "[00:00-00:02] Un cheval "
            "(duration: 2s, emotion: Anger, gender: Male, age: 51, language: French)"
        ),
        "cameo/crema_d/1001_DFA_ANG_XX": (
            "[00:00-00:03] Dogs are sitting by the door. "
            "(duration: 3s, emotion: Anger, gender: Male, age: 51, language: English)"
        ),
    }
    assert {d.uid: d.reason for d in ledger.drops} == {
        "cameo/crema_d/1001_DFA_HAP_XX": "missing_metadata",
        "cameo/crema_d/1001_DFA_SAD_XX": "unreadable_item",
    }


def test_a_missing_split_is_an_error(source_dir):
    (source_dir / "data" / "subesco-00000-of-00001.parquet").unlink()
    with pytest.raises(FileNotFoundError, match="subesco"):
        list(cameo.items(source_dir, SOURCE))
