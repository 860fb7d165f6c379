import io
import zipfile

import numpy as np
import soundfile as sf

from alarm.data.collect import collect_shard
from alarm.data.sources import esc50
from alarm.shards import read_shard

SOURCE = {"type": "url", "urls": ["https://github.com/karoldvl/ESC-50/archive/master.zip"]}
CSV = """filename,fold,target,category,esc10,src_file,take
1-100032-A-0.wav,1,0,dog,True,100032,A
1-100038-A-14.wav,1,14,chirping_birds,False,100038,A
5-9032-A-0.wav,5,0,dog,True,9032,A
2-1234-A-1.wav,2,1,,False,1234,A
"""


def _wav(seconds: float, sr: int = 44100) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, np.full(int(seconds * sr), 0.1), sr, format="WAV")
    return buf.getvalue()


def _source(tmp_path):
    root = tmp_path / "esc50"
    root.mkdir()
    with zipfile.ZipFile(root / "master.zip", "w") as z:
        z.writestr("ESC-50-master/audio/1-100032-A-0.wav", _wav(5.0))
        z.writestr("ESC-50-master/audio/1-100038-A-14.wav", _wav(2.5))
        z.writestr("ESC-50-master/audio/2-1234-A-1.wav", _wav(1.0))
        z.writestr("ESC-50-master/meta/esc50.csv", CSV)  # 5-9032-A-0.wav is missing
    (root / "esc50.csv").write_text(CSV)
    esc50.prepare(root, SOURCE)
    return root


def test_items_are_categories_of_every_fold_with_exact_a_text(tmp_path):
    root = _source(tmp_path)
    settings = {"category": "sound", "source": SOURCE, "n_shards": 1}
    ledger = collect_shard("esc50", settings, 0, root, tmp_path / "raw.parquet")
    rows = {r["uid"]: r for r in read_shard(tmp_path / "raw.parquet")}
    assert set(rows) == {"esc50/1-100032-A-0.wav/100032", "esc50/1-100038-A-14.wav/100038"}
    assert rows["esc50/1-100032-A-0.wav/100032"]["audio_description"] == (
        "[00:00-00:05] |dog| (duration: 5s)"
    )
    # Underscores are kept, and 2.5 s rounds to even.
    assert rows["esc50/1-100038-A-14.wav/100038"]["audio_description"] == (
        "[00:00-00:02] |chirping_birds| (duration: 2s)"
    )
    assert rows["esc50/1-100032-A-0.wav/100032"]["sample_rate"] == 44100  # stored as shipped
    assert {d.uid: d.reason for d in ledger.drops} == {
        "esc50/5-9032-A-0.wav/9032": "unreadable_item",
        "esc50/2-1234-A-1.wav/1234": "missing_metadata",
    }


def test_prepare_is_idempotent(tmp_path):
    root = _source(tmp_path)
    (root / "master.zip").unlink()
    esc50.prepare(root, SOURCE)  # already unpacked: nothing to do
    assert (root / "ESC-50-master" / "audio" / "1-100032-A-0.wav").exists()
