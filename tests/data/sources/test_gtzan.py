import io
import zipfile

import numpy as np
import soundfile as sf

from alarm.data.collect import collect_shard
from alarm.data.sources import gtzan
from alarm.shards import read_shard

SOURCE = {
    "type": "url",
    "urls": [
        "https://www.kaggle.com/api/v1/datasets/download/andradaolteanu/"
        "gtzan-dataset-music-genre-classification"
    ],
}
SETTINGS = {"category": "music", "source": SOURCE, "n_shards": 1}


def _wav(seconds: float, sr: int = 8000) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, np.full(int(seconds * sr), 0.1, dtype=np.float32), sr, format="WAV")
    return buf.getvalue()


def test_kaggle_zip_gives_one_caption_per_clip(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    root = "Data/genres_original"
    with zipfile.ZipFile(src / gtzan.ARCHIVE, "w") as zf:  # as curl saves it: no extension
        zf.writestr(f"{root}/blues/blues.00000.wav", _wav(30.0))
        zf.writestr(f"{root}/jazz/jazz.00001.wav", _wav(2.5))
        zf.writestr(f"{root}/jazz/jazz.00054.wav", b"")  # the broken file the authors skip
        zf.writestr(f"{root}/rock/rock.00003.wav", b"RIFF....WAVEjunk")
        zf.writestr("Data/features_30_sec.csv", "filename,label\n")
    gtzan.prepare(src, SOURCE)
    gtzan.prepare(src, SOURCE)  # a rerun is a no-op
    assert not (src / gtzan.ARCHIVE).exists()

    out = tmp_path / "raw.parquet"
    ledger = collect_shard("gtzan", SETTINGS, 0, src, out)
    rows = {r["uid"]: r for r in read_shard(out)}
    assert sorted(rows) == [
        "gtzan/genre: blues/blues.00000.wav",
        "gtzan/genre: jazz/jazz.00001.wav",
    ]
    assert rows["gtzan/genre: blues/blues.00000.wav"]["audio_description"] == (
        "[00:00-00:30] |Music| (duration: 30s, genre: Blues)"
    )
    # 2.5 s rounds to even, as Python's round does for the authors.
    assert rows["gtzan/genre: jazz/jazz.00001.wav"]["audio_description"] == (
        "[00:00-00:02] |Music| (duration: 2s, genre: Jazz)"
    )
    assert ledger.dropped == {"audio_undecodable": 1}
    assert ledger.drops[0].uid == "gtzan/genre: rock/rock.00003.wav"


def test_kaggle_cli_layout_needs_no_unpacking(tmp_path):
    genre = tmp_path / "Data" / "genres_original" / "hiphop"
    genre.mkdir(parents=True)
    (genre / "hiphop.00007.wav").write_bytes(_wav(1.0))
    gtzan.prepare(tmp_path, SOURCE)
    [item] = gtzan.items(tmp_path, SOURCE)
    assert (item.unique_id_1, item.unique_id_2) == ("genre: hiphop", "hiphop.00007.wav")
    assert item.metadata == {"genre": "Hiphop"}
