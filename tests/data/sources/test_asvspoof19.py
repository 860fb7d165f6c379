"""ASVspoof 2019 LA converter on a hub snapshot of its train split (Parquet, FLAC audio)."""

import io

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import soundfile as sf

from alarm.data.collect import collect_shard
from alarm.data.sources import asvspoof19
from alarm.shards import read_shard

SOURCE = {"type": "hub", "repo": "Bisher/ASVspoof_2019_LA", "revision": "aea92dd8"}
FIELDS = ("speaker_id", "audio_file_name", "system_id", "key")
SCHEMA = pa.schema(
    [(f, pa.string()) for f in FIELDS]
    + [("audio", pa.struct([("bytes", pa.binary()), ("path", pa.string())]))]
)


def _flac(seconds: float, sr: int = 16000) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, np.full(int(seconds * sr), 0.1), sr, format="FLAC")
    return buf.getvalue()


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
        _row("LA_0079", "LA_T_1138215", "-", _flac(3.4)),
        _row("LA_0079", "LA_T_1271820", "A04", _flac(1.5)),
        _row("LA_0080", "LA_T_1000001", "A13", _flac(1.0)),  # an eval attack: not mapped
        _row("LA_0080", "LA_T_1000002", "A01", b"not audio"),
    ]
    (tmp_path / "src" / "data").mkdir(parents=True)
    table = pa.Table.from_pylist(rows, schema=SCHEMA)
    pq.write_table(table, tmp_path / "src" / "data" / "train-00000-of-00001.parquet")
    return tmp_path / "src"


def test_raw_shard_a_text_and_drops(source_dir, tmp_path):
    ids = [(i.unique_id_1, i.unique_id_2) for i in asvspoof19.items(source_dir, SOURCE)]
    assert ids == [
        ("LA_0079", "LA_T_1138215"),
        ("LA_0079", "LA_T_1271820"),
        ("LA_0080", "LA_T_1000001"),
        ("LA_0080", "LA_T_1000002"),
    ]
    settings = {"category": "speech", "source": SOURCE, "n_shards": 1}
    out = tmp_path / "raw.parquet"
    ledger = collect_shard("asvspoof19", settings, 0, source_dir, out)
    rows = {r["uid"]: r["audio_description"] for r in read_shard(out)}
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
    assert {d.uid: d.reason for d in ledger.drops} == {
        "asvspoof19/LA_0080/LA_T_1000001": "missing_metadata",
        "asvspoof19/LA_0080/LA_T_1000002": "audio_undecodable",
    }
