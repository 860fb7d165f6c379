"""ASVspoof 5 converter on the flac_T_a?.tar parts and the protocols tar."""

import io
import tarfile

import numpy as np
import pytest
import soundfile as sf

from alarm.data.collect import collect_shard
from alarm.data.sources import asvspoof5
from alarm.shards import read_shard

SOURCE = {"type": "url", "urls": ["https://example.org/flac_T_aa.tar"]}
# SPEAKER FLAC GENDER CODEC CODEC_Q CODEC_SEED ATTACK_TAG ATTACK_LABEL KEY TMP
PROTOCOL = (
    "T_4850 T_0000000000 F - - - AC3 A05 spoof -\n"
    "T_4851 T_0000000001 M - - - AC1 A99 spoof -\n"  # an attack the authors do not map
    "T_4852 T_0000000002 F - - - AC2 A01 spoof -\n"  # its flac is missing
    "T_1138 T_0000000003 M - - - - bonafide bonafide -\n"  # the last line
)


def _flac(seconds: float) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, np.full(int(seconds * 16000), 0.1), 16000, format="FLAC")
    return buf.getvalue()


def _tar(path, files):
    with tarfile.open(path, "w") as tar:
        for name, data in files.items():
            data = data.encode() if isinstance(data, str) else data
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


@pytest.fixture
def source_dir(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    parts = {
        "aa": {"flac_T/T_0000000000.flac": _flac(2.4)},
        "ab": {"flac_T/T_0000000001.flac": _flac(1.0)},
        "ac": {},
        "ad": {},
        "ae": {"flac_T/T_0000000003.flac": _flac(1.0)},
    }
    for part, files in parts.items():
        _tar(src / f"flac_T_{part}.tar", files)
    _tar(
        src / "ASVspoof5_protocols.tar",
        {
            "ASVspoof5.train.tsv": PROTOCOL,
            "ASVspoof5.dev.track_1.tsv": "D_1 D_0 F - - - - A11 spoof -\n",
        },
    )
    asvspoof5.prepare(src, SOURCE)
    return src


def test_prepare_unpacks_every_tar(source_dir):
    assert sorted(p.name for p in source_dir.iterdir()) == [
        "ASVspoof5.dev.track_1.tsv",
        "ASVspoof5.train.tsv",
        "flac_T",
    ]


def test_items_ids_are_file_then_speaker(source_dir):
    ids = [(i.unique_id_1, i.unique_id_2) for i in asvspoof5.items(source_dir, SOURCE)]
    assert ids == [
        ("T_0000000000", "T_4850"),
        ("T_0000000001", "T_4851"),
        ("T_0000000002", "T_4852"),
        ("T_0000000003", "T_1138"),
    ]


def test_raw_shard_a_text_and_drops(source_dir, tmp_path):
    settings = {"category": "speech", "source": SOURCE, "n_shards": 1}
    out = tmp_path / "raw.parquet"
    ledger = collect_shard("asvspoof5", settings, 0, source_dir, out)
    rows = {r["uid"]: r["audio_description"] for r in read_shard(out)}
    assert rows == {
        "asvspoof5/T_0000000000/T_4850": (
            "[00:00-00:02] |Speech| (duration: 2s, is bona fide or spoof: spoof, "
            "spoof algorithm description: Text-To-Speech using GradTTS)"
        ),
        # Bona fide, which the authors' `== "-"` test labelled "spoof".
        "asvspoof5/T_0000000003/T_1138": (
            "[00:00-00:01] |Speech| (duration: 1s, is bona fide or spoof: bona fide, "
            "spoof algorithm description: None because this is a real audio)"
        ),
    }
    assert {d.uid: d.reason for d in ledger.drops} == {
        "asvspoof5/T_0000000001/T_4851": "missing_metadata",
        "asvspoof5/T_0000000002/T_4852": "unreadable_item",
    }
