"""GLOBE v3 converter on a hub snapshot of its train split (Parquet, audio {bytes, path})."""

import io

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import soundfile as sf

from alarm.data.collect import collect_shard
from alarm.data.sources import globe_v3
from alarm.shards import read_shard

SOURCE = {"type": "hub", "repo": "MushanW/GLOBE_V3", "revision": "0eb6d96f"}
STRINGS = (
    "common_voice_path",
    "common_voice_sentence_id",
    "common_voice_sentence",
    "common_voice_gender",
    "common_voice_accents",
    "common_voice_age",
    "predicted_gender",
    "predicted_accent",
    "predicted_age",
)
SCHEMA = pa.schema(
    [(f, pa.string()) for f in STRINGS]
    + [("utmos", pa.float32()), ("snr", pa.float64())]
    + [("audio", pa.struct([("bytes", pa.binary()), ("path", pa.string())]))]
)


def _mp3(seconds: float, sr: int = 24000) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, np.full(int(seconds * sr), 0.1), sr, format="MP3")
    return buf.getvalue()


def _row(path, audio, **fields):
    row = {
        "common_voice_path": path,
        "common_voice_sentence_id": f"id_{path}",
        "common_voice_sentence": "The quick fox jumps. ",
        "common_voice_gender": "female",
        "common_voice_accents": "United States English",
        "common_voice_age": "twenties",
        "predicted_gender": "female",
        "predicted_accent": "England English",
        "predicted_age": "thirties",
        "utmos": 3.9208226203918457,
        "snr": 41.5,
        "audio": {"bytes": audio, "path": path},
    }
    return row | fields


@pytest.fixture
def source_dir(tmp_path):
    rows = [
        _row("common_voice_en_1.mp3", _mp3(2.6)),
        _row("common_voice_en_2.mp3", _mp3(1.0), common_voice_age="nan"),  # predicted: filtered
        _row("common_voice_en_3.mp3", _mp3(1.0), common_voice_sentence=None),
        _row("common_voice_en_4.mp3", b""),
    ]
    (tmp_path / "src" / "data").mkdir(parents=True)
    table = pa.Table.from_pylist(rows, schema=SCHEMA)
    pq.write_table(
        table, tmp_path / "src" / "data" / "train-00000-of-00001.parquet", row_group_size=3
    )
    pq.write_table(table.slice(0, 0), tmp_path / "src" / "data" / "test-00000-of-00001.parquet")
    return tmp_path / "src"


def test_rows_with_predicted_labels_are_not_items(source_dir):
    ids = [(i.unique_id_1, i.unique_id_2) for i in globe_v3.items(source_dir, SOURCE)]
    assert ids == [
        ("common_voice_en_1.mp3", "id_common_voice_en_1.mp3"),
        ("common_voice_en_3.mp3", "id_common_voice_en_3.mp3"),
        ("common_voice_en_4.mp3", "id_common_voice_en_4.mp3"),
    ]


def test_raw_shard_a_text_and_drops(source_dir, tmp_path):
    settings = {"category": "speech", "source": SOURCE, "n_shards": 1}
    out = tmp_path / "raw.parquet"
    ledger = collect_shard("globe_v3", settings, 0, source_dir, out)
    rows = {r["uid"]: r for r in read_shard(out)}
    assert list(rows) == ["globe_v3/common_voice_en_1.mp3/id_common_voice_en_1.mp3"]
    row = rows["globe_v3/common_voice_en_1.mp3/id_common_voice_en_1.mp3"]
    # utmos is float32 in the file: printed as the float it widens to, unrounded.
    assert row["audio_description"] == (
        "[00:00-00:03] The quick fox jumps. (duration: 3s, mos: 3.9208226203918457, snr: 41.5, "
        "gender: Female, accent: United States English, age: twenties)"
    )
    shipped = pq.read_table(source_dir / "data" / "train-00000-of-00001.parquet")["audio"][0]
    assert row["audio"] == shipped.as_py()["bytes"]  # the MP3 as shipped
    assert {d.uid: d.reason for d in ledger.drops} == {
        "globe_v3/common_voice_en_3.mp3/id_common_voice_en_3.mp3": "missing_metadata",
        "globe_v3/common_voice_en_4.mp3/id_common_voice_en_4.mp3": "audio_empty",
    }
