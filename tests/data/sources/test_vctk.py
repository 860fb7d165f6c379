"""VCTK converter on a VCTK-Corpus.zip laid out like the 0.80 release (wav48, txt)."""

import pytest
from builders import collect_rows, drop_reasons, item_ids, wav_bytes, write_zip

from alarm.data.sources import vctk

URL = (
    "https://datashare.ed.ac.uk/bitstream/handle/10283/2651/VCTK-Corpus.zip?sequence=2&isAllowed=y"
)
SOURCE = {"type": "url", "urls": [URL]}
SPEAKER_INFO = (
    "ID  AGE  GENDER  ACCENTS  REGION\n"
    "225  23  F    English    Southern  England\n"
    "315  23  M    American    Connecticut  (no txt)\n"
    "999  30\n"
    "362  29  F    American\n"
)


@pytest.fixture
def source_dir(tmp_path):
    files = {
        "speaker-info.txt": SPEAKER_INFO,
        "txt/p225/p225_001.txt": "Please call Stella.\n",
        "wav48/p225/p225_001.wav": wav_bytes(2.6, 48000),
        "txt/p225/p225_002.txt": "Ask her to bring these things.\n",  # its wav is missing
        "wav48/p315/p315_001.wav": wav_bytes(1.0, 48000),  # no transcripts at all
        "txt/p999/p999_001.txt": "Six spoons.\n",  # speaker line without gender/accent
        "wav48/p999/p999_001.wav": wav_bytes(1.0, 48000),
        "txt/p362/p362_001.txt": "  Bob.  \n",
        "wav48/p362/p362_001.wav": wav_bytes(0.8, 48000),
    }
    src = tmp_path / "src"
    src.mkdir()
    write_zip(src / "VCTK-Corpus.zip", {f"VCTK-Corpus/{n}": d for n, d in files.items()})
    vctk.prepare(src, SOURCE)
    return src


def test_prepare_unpacks_the_zip_once(source_dir):
    assert not (source_dir / "VCTK-Corpus.zip").exists()
    assert (source_dir / "VCTK-Corpus" / "speaker-info.txt").is_file()
    vctk.prepare(source_dir, SOURCE)  # already unpacked: nothing to do


def test_items_ids_in_speaker_file_order(source_dir):
    assert item_ids(vctk.items(source_dir, SOURCE)) == [
        ("225", "p225_001"),
        ("225", "p225_002"),
        ("999", "p999_001"),
        ("362", "p362_001"),
    ]


def test_raw_shard_a_text_and_drops(source_dir, tmp_path):
    settings = {"category": "speech", "source": SOURCE, "n_shards": 1}
    ledger, rows = collect_rows("vctk", settings, source_dir, tmp_path / "raw.parquet")
    assert sorted(rows) == ["vctk/225/p225_001", "vctk/362/p362_001"]
    assert rows["vctk/225/p225_001"]["audio_description"] == (
        "[00:00-00:03] Please call Stella. "
        "(duration: 3s, age: 23, accent: English, gender: Female, region: Southern England)"
    )
    assert rows["vctk/362/p362_001"]["audio_description"] == (
        "[00:00-00:01] Bob. (duration: 1s, age: 29, accent: American, gender: Female, "
        "region: Unknown)"
    )
    assert rows["vctk/225/p225_001"]["sample_rate"] == 48000  # stored as shipped
    reasons = drop_reasons(ledger)
    assert reasons == {
        "vctk/225/p225_002": "unreadable_item",
        "vctk/999/p999_001": "missing_metadata",
    }
