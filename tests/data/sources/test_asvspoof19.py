"""ASVspoof 2019 LA converter on a hub snapshot of its train split (Parquet, FLAC audio)."""

import pytest
from builders import (
    collect_descriptions,
    drop_reasons,
    flac_bytes,
    hub_schema,
    item_ids,
    write_parquet,
)

from alarm.data.sources import asvspoof19

SOURCE = {"type": "hub", "repo": "Bisher/ASVspoof_2019_LA", "revision": "aea92dd8"}
FIELDS = ("speaker_id", "audio_file_name", "system_id", "key")
SCHEMA = hub_schema(FIELDS)


def _row(speaker, name, system, audio):
    key = "bonafide" if system == "-" else "spoof"
    audio = {"bytes": audio, "path": f"{name}.flac"}
    return {
        "speaker_id": speaker,
        "audio_file_name": name,
        "system_id": system,
        "key": key,
        "audio": audio,
    }


@pytest.fixture
def source_dir(tmp_path):
    rows = [
        _row("LA_0079", "LA_T_1138215", "-", flac_bytes(3.4)),
        _row("LA_0079", "LA_T_1271820", "A04", flac_bytes(1.5)),
        _row("LA_0080", "LA_T_1000001", "A13", flac_bytes(1.0)),  # an eval attack: not mapped
        _row("LA_0080", "LA_T_1000002", "A01", b"not audio"),
    ]
    write_parquet(tmp_path / "src" / "data" / "train-00000-of-00001.parquet", rows, SCHEMA)
    return tmp_path / "src"


def test_raw_shard_a_text_and_drops(source_dir, tmp_path):
    assert item_ids(asvspoof19.items(source_dir, SOURCE)) == [
        ("LA_0079", "LA_T_1138215"),
        ("LA_0079", "LA_T_1271820"),
        ("LA_0080", "LA_T_1000001"),
        ("LA_0080", "LA_T_1000002"),
    ]
    settings = {"category": "speech", "source": SOURCE, "n_shards": 1}
    ledger, rows = collect_descriptions(
        "asvspoof19", settings, source_dir, tmp_path / "raw.parquet"
    )
    assert rows == {
        "asvspoof19/LA_0079/LA_T_1138215": (
            "[00:00-00:03] |Speech| (duration: 3s, is bona fide or spoof: bona fide, "
            "spoof algorithm description: None because this is a real audio)"
        ),
        "asvspoof19/LA_0079/LA_T_1271820": (
            "[00:00-00:02] |Speech| (duration: 2s, is bona fide or spoof: spoof, spoof algorithm "
            "description: Text-To-Speech using Waveform Concatenation based on MaryTTS)"
        ),
    }
    assert drop_reasons(ledger) == {
        "asvspoof19/LA_0080/LA_T_1000001": "missing_metadata",
        "asvspoof19/LA_0080/LA_T_1000002": "audio_undecodable",
    }
