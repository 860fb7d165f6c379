"""GLOBE v3 converter on a hub snapshot of its train split (Parquet, audio {bytes, path})."""

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from builders import (
    audio_bytes,
    collect_rows,
    drop_reasons,
    hub_schema,
    item_ids,
    write_parquet,
)

from alarm.data.sources import globe_v3

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
SCHEMA = hub_schema(STRINGS, ("utmos", pa.float32()), ("snr", pa.float64()))


def _mp3(seconds: float) -> bytes:
    return audio_bytes(seconds, 24000, "MP3")


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
    data = tmp_path / "src" / "data"
    write_parquet(data / "train-00000-of-00001.parquet", rows, SCHEMA, row_group_size=3)
    write_parquet(data / "test-00000-of-00001.parquet", [], SCHEMA)
    return tmp_path / "src"


def test_rows_with_predicted_labels_are_not_items(source_dir):
    assert item_ids(globe_v3.items(source_dir, SOURCE)) == [
        ("common_voice_en_1.mp3", "id_common_voice_en_1.mp3"),
        ("common_voice_en_3.mp3", "id_common_voice_en_3.mp3"),
        ("common_voice_en_4.mp3", "id_common_voice_en_4.mp3"),
    ]


def test_raw_shard_a_text_and_drops(source_dir, tmp_path):
    settings = {"category": "speech", "source": SOURCE, "n_shards": 1}
    ledger, rows = collect_rows("globe_v3", settings, source_dir, tmp_path / "raw.parquet")
    assert list(rows) == ["globe_v3/common_voice_en_1.mp3/id_common_voice_en_1.mp3"]
    row = rows["globe_v3/common_voice_en_1.mp3/id_common_voice_en_1.mp3"]
    # utmos is float32 in the file: printed as the float it widens to, unrounded.
    assert row["audio_description"] == (
        "[00:00-00:03] The quick fox jumps. (duration: 3s, mos: 3.9208226203918457, snr: 41.5, "
        "gender: Female, accent: United States English, age: twenties)"
    )
    shipped = pq.read_table(source_dir / "data" / "train-00000-of-00001.parquet")["audio"][0]
    assert row["audio"] == shipped.as_py()["bytes"]  # the MP3 as shipped
    assert drop_reasons(ledger) == {
        "globe_v3/common_voice_en_3.mp3/id_common_voice_en_3.mp3": "missing_metadata",
        "globe_v3/common_voice_en_4.mp3/id_common_voice_en_4.mp3": "audio_empty",
    }
