"""VCTK converter on a VCTK-Corpus.zip laid out like the 0.80 release (wav48, txt)."""

import io
import zipfile

import numpy as np
import pytest
import soundfile as sf

from alarm.data.collect import collect_shard
from alarm.data.sources import vctk
from alarm.shards import read_shard

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


def _wav(seconds: float, sr: int = 48000) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, np.full(int(seconds * sr), 0.1), sr, format="WAV")
    return buf.getvalue()


@pytest.fixture
def source_dir(tmp_path):
    files = {
        "speaker-info.txt": SPEAKER_INFO,
        "txt/p225/p225_001.txt": "Please call Stella.\n",
        "wav48/p225/p225_001.wav": _wav(2.6),
        "txt/p225/p225_002.txt": "Ask her to bring these things.\n",  # its wav is missing
        "wav48/p315/p315_001.wav": _wav(1.0),  # no transcripts at all
        "txt/p999/p999_001.txt": "Six spoons.\n",  # speaker line without gender/accent
        "wav48/p999/p999_001.wav": _wav(1.0),
        "txt/p362/p362_001.txt": "  Bob.  \n",
        "wav48/p362/p362_001.wav": _wav(0.8),
    }
    src = tmp_path / "src"
    src.mkdir()
    with zipfile.ZipFile(src / "VCTK-Corpus.zip", "w") as z:
        for name, data in files.items():
            z.writestr(f"VCTK-Corpus/{name}", data)
    vctk.prepare(src, SOURCE)
    return src


def test_prepare_unpacks_the_zip_once(source_dir):
    assert not (source_dir / "VCTK-Corpus.zip").exists()
    assert (source_dir / "VCTK-Corpus" / "speaker-info.txt").is_file()
    vctk.prepare(source_dir, SOURCE)  # already unpacked: nothing to do


def test_items_ids_in_speaker_file_order(source_dir):
    ids = [(i.unique_id_1, i.unique_id_2) for i in vctk.items(source_dir, SOURCE)]
    assert ids == [
        ("225", "p225_001"),
        ("225", "p225_002"),
        ("999", "p999_001"),
        ("362", "p362_001"),
    ]


def test_raw_shard_a_text_and_drops(source_dir, tmp_path):
    settings = {"category": "speech", "source": SOURCE, "n_shards": 1}
    out = tmp_path / "raw.parquet"
    ledger = collect_shard("vctk", settings, 0, source_dir, out)
    rows = {r["uid"]: r for r in read_shard(out)}
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
    reasons = {d.uid: d.reason for d in ledger.drops}
    assert reasons == {
        "vctk/225/p225_002": "unreadable_item",
        "vctk/999/p999_001": "missing_metadata",
    }
