import io
import zipfile

import numpy as np
import pytest
import soundfile as sf

from alarm.data.collect import collect_shard
from alarm.data.sources import mridangam
from alarm.shards import read_shard

SOURCE = {
    "type": "url",
    "urls": ["https://zenodo.org/records/4068196/files/mridangam_stroke_1.5.zip?download=1"],
}
SETTINGS = {"category": "music", "source": SOURCE, "n_shards": 1}


def _wav(seconds: float, sr: int = 44100) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, np.full(int(seconds * sr), 0.1, dtype=np.float32), sr, format="WAV")
    return buf.getvalue()


def test_zenodo_zip_gives_tonic_and_stroke(tmp_path):
    root = "mridangam_stroke_1.5"
    with zipfile.ZipFile(tmp_path / mridangam.ARCHIVE, "w") as zf:
        zf.writestr(f"{root}/B/224030__akshaylaya__bheem-b-001.wav", _wav(0.4))
        zf.writestr(f"{root}/C#/224500__akshaylaya__cha-c#-012.wav", _wav(1.6))
        zf.writestr(f"{root}/C#/224501__akshaylaya__dheem-c#-013.wav", b"not audio")
        zf.writestr(f"{root}/C#/notes.txt", "not a stroke")
        zf.writestr(f"__MACOSX/{root}/B/._224030__akshaylaya__bheem-b-001.wav", b"junk")
    mridangam.prepare(tmp_path, SOURCE)
    assert not (tmp_path / mridangam.ARCHIVE).exists()

    out = tmp_path / "raw.parquet"
    ledger = collect_shard("mridangam", SETTINGS, 0, tmp_path, out)
    rows = {r["uid"]: r["audio_description"] for r in read_shard(out)}
    assert rows == {
        "mridangam/tonic: B/224030__akshaylaya__bheem-b-001.wav": (
            "[00:00-00:00] |Mridangam| (duration: 0s, tonic: B, stroke: Bheem)"
        ),
        "mridangam/tonic: C#/224500__akshaylaya__cha-c#-012.wav": (
            "[00:00-00:02] |Mridangam| (duration: 2s, tonic: C#, stroke: Cha)"
        ),
    }
    assert ledger.dropped == {"audio_undecodable": 1}


def test_missing_download_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="download"):
        mridangam.prepare(tmp_path, SOURCE)
