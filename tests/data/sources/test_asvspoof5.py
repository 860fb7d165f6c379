"""ASVspoof 5 converter on the flac_T_a?.tar parts and the protocols tar."""

import pytest
from builders import collect_descriptions, drop_reasons, flac_bytes, item_ids, write_tar

from alarm.data.sources import asvspoof5

SOURCE = {"type": "url", "urls": ["https://example.org/flac_T_aa.tar"]}
# SPEAKER FLAC GENDER CODEC CODEC_Q CODEC_SEED ATTACK_TAG ATTACK_LABEL KEY TMP
PROTOCOL = (
    "T_4850 T_0000000000 F - - - AC3 A05 spoof -\n"
    "T_4851 T_0000000001 M - - - AC1 A99 spoof -\n"  # an attack the authors do not map
    "T_4852 T_0000000002 F - - - AC2 A01 spoof -\n"  # its flac is missing
    "T_1138 T_0000000003 M - - - - bonafide bonafide -\n"  # the last line
)


@pytest.fixture
def source_dir(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    parts = {
        "aa": {"flac_T/T_0000000000.flac": flac_bytes(2.4)},
        "ab": {"flac_T/T_0000000001.flac": flac_bytes(1.0)},
        "ac": {},
        "ad": {},
        "ae": {"flac_T/T_0000000003.flac": flac_bytes(1.0)},
    }
    for part, files in parts.items():
        write_tar(src / f"flac_T_{part}.tar", files)
    write_tar(
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
    assert item_ids(asvspoof5.items(source_dir, SOURCE)) == [
        ("T_0000000000", "T_4850"),
        ("T_0000000001", "T_4851"),
        ("T_0000000002", "T_4852"),
        ("T_0000000003", "T_1138"),
    ]


def test_raw_shard_a_text_and_drops(source_dir, tmp_path):
    settings = {"category": "speech", "source": SOURCE, "n_shards": 1}
    ledger, rows = collect_descriptions("asvspoof5", settings, source_dir, tmp_path / "raw.parquet")
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
    assert drop_reasons(ledger) == {
        "asvspoof5/T_0000000001/T_4851": "missing_metadata",
        "asvspoof5/T_0000000002/T_4852": "unreadable_item",
    }
