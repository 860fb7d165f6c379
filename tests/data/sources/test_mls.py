"""MLS converter on mls_<language>_opus.tar.gz tarballs laid out like the Opus release."""

import pytest
from builders import audio_bytes, collect_rows, drop_reasons, item_ids, write_tar

from alarm.data.sources import mls

SOURCE = {"type": "url", "urls": ["https://dl.fbaipublicfiles.com/mls/mls_german_opus.tar.gz"]}
HEADER = " SPEAKER   |   GENDER   | PARTITION  |  MINUTES   |  BOOK ID   |   TITLE   |  CHAPTER\n"
METAINFO = (
    HEADER
    + "  1844     |     F      |   train    |   30.1     |   1234     | Buch      | Kapitel 1\n"
    + "  2422     |     M      |   train    |   20.5     |   5678     | Roman     | Kapitel 2\n"
)
TRANSCRIPTS = (
    "1844_1234_000001\tguten tag \n"
    "9999_1_000003\tniemand spricht\n"  # speaker not in metainfo
    "1844_1234_000004\tnoch etwas\n"  # its audio is missing
    "2422_5678_000002\tauf wiedersehen\n"  # the last line, which the authors dropped
)


def _opus(seconds: float) -> bytes:
    return audio_bytes(seconds, 48000, "OGG", subtype="OPUS")


@pytest.fixture
def source_dir(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for language in mls.LANGUAGES:
        root = f"mls_{language}_opus"
        files = {f"{root}/metainfo.txt": HEADER, f"{root}/train/transcripts.txt": ""}
        if language == "german":
            files = {
                f"{root}/metainfo.txt": METAINFO,
                f"{root}/train/transcripts.txt": TRANSCRIPTS,
                f"{root}/train/audio/1844/1234/1844_1234_000001.opus": _opus(1.4),
                f"{root}/train/audio/2422/5678/2422_5678_000002.opus": _opus(2.2),
                f"{root}/train/audio/9999/1/9999_1_000003.opus": _opus(1.0),
            }
        write_tar(src / f"mls_{language}_opus.tar.gz", files)
    mls.prepare(src, SOURCE)
    return src


def test_prepare_unpacks_each_language(source_dir):
    assert sorted(p.name for p in source_dir.iterdir()) == sorted(mls.LANGUAGES)
    assert (source_dir / "polish" / "mls_polish_opus" / "metainfo.txt").is_file()


def test_items_keep_every_transcript_line(source_dir):
    assert item_ids(mls.items(source_dir, SOURCE)) == [
        ("german", "1844_1234_000001"),
        ("german", "9999_1_000003"),
        ("german", "1844_1234_000004"),
        ("german", "2422_5678_000002"),
    ]


def test_raw_shard_a_text_and_drops(source_dir, tmp_path):
    settings = {"category": "speech", "source": SOURCE, "n_shards": 1}
    ledger, rows = collect_rows("mls", settings, source_dir, tmp_path / "raw.parquet")
    assert {uid: r["audio_description"] for uid, r in rows.items()} == {
        "mls/german/1844_1234_000001": "[00:00-00:01] guten tag (duration: 1s, gender: Female)",
        "mls/german/2422_5678_000002": "[00:00-00:02] auf wiedersehen (duration: 2s, gender: Male)",
    }
    assert rows["mls/german/1844_1234_000001"]["audio"][:4] == b"OggS"  # the Opus as shipped
    assert drop_reasons(ledger) == {
        "mls/german/9999_1_000003": "missing_metadata",
        "mls/german/1844_1234_000004": "unreadable_item",
    }
