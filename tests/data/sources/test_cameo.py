"""CAMEO converter on a hub snapshot: one Parquet file per split, audio as {bytes, path}."""

import pytest
from builders import (
    collect_descriptions,
    drop_reasons,
    hub_schema,
    item_ids,
    wav_bytes,
    write_parquet,
)

from alarm.data.sources import cameo

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
SCHEMA = hub_schema(FIELDS)


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
        "cafe": [
            _row("cafe_1", "cafe", wav_bytes(1.5), language="french", transcription="Un cheval")
        ],
        "crema_d": [
            _row("1001_DFA_ANG_XX", "crema_d", wav_bytes(2.6)),
            _row("1001_DFA_HAP_XX", "crema_d", wav_bytes(1.0), emotion=None),
            _row("1001_DFA_SAD_XX", "crema_d", None),
        ],
    }
    for split in cameo.SPLITS:
        path = tmp_path / "src" / "data" / f"{split}-00000-of-00001.parquet"
        write_parquet(path, rows.get(split, []), SCHEMA, row_group_size=2)
    return tmp_path / "src"


def test_items_follow_the_authors_split_order(source_dir):
    assert item_ids(cameo.items(source_dir, SOURCE)) == [
        ("cafe", "cafe_1"),
        ("crema_d", "1001_DFA_ANG_XX"),
        ("crema_d", "1001_DFA_HAP_XX"),
        ("crema_d", "1001_DFA_SAD_XX"),
    ]


def test_raw_shard_a_text_and_drops(source_dir, tmp_path):
    settings = {"category": "speech", "source": SOURCE, "n_shards": 1}
    ledger, rows = collect_descriptions("cameo", settings, source_dir, tmp_path / "raw.parquet")
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
    assert drop_reasons(ledger) == {
        "cameo/crema_d/1001_DFA_HAP_XX": "missing_metadata",
        "cameo/crema_d/1001_DFA_SAD_XX": "unreadable_item",
    }


def test_a_missing_split_is_an_error(source_dir):
    (source_dir / "data" / "subesco-00000-of-00001.parquet").unlink()
    with pytest.raises(FileNotFoundError, match="subesco"):
        list(cameo.items(source_dir, SOURCE))
