"""NISQA converter on a NISQA_Corpus.zip laid out like the release (corpus csv, <db>/deg)."""

import io
import zipfile

import numpy as np
import pytest
import soundfile as sf

from alarm.data.collect import collect_shard
from alarm.data.sources import nisqa
from alarm.shards import read_shard

SOURCE = {
    "type": "url",
    "urls": ["https://depositonce.tu-berlin.de/bitstream/11303/13012.5/9/NISQA_Corpus.zip"],
}
HEADER = (
    "db,con,file,con_description,filename_deg,filename_ref,source,lang,votes,"
    "mos,noi,col,dis,loud,mos_std\n"
)
ROWS = [
    "NISQA_TRAIN_SIM,1,1,bandpass + white noise,c00001_sim.wav,r1.wav,x,en,5,"
    "3.1415926,2.2,1.75,1.0,3.33333,0.8",
    "NISQA_TRAIN_SIM,2,2,lowpass,c00002_sim.wav,r2.wav,x,en,5,,2.0,2.0,2.0,3.0,0.8",  # no mos
    "NISQA_TRAIN_SIM,3,3,clipping,c00003_sim.wav,r3.wav,x,en,5,2.0,2.0,2.0,2.0,3.0,0.8",  # no audio
    "NISQA_VAL_SIM,4,4,lowpass,c00004_sim.wav,r4.wav,x,en,5,2.0,2.0,2.0,2.0,3.0,0.8",
    "NISQA_TRAIN_LIVE,5,5,live,c00005_live.wav,,x,en,5,4.2,1.4,1.2,1.1,4.05,0.6",
]
EXPLANATION = (
    "[Noisiness (the smaller the level the better): the presence of the background, circuit, "
    "or coding noise; Coloration (the smaller the level the better): frequency response "
    "distortions, low-bitrate codecs, or packet-loss concealment; Discontinuity (the smaller "
    "the level the better): isolated or non-stationary distortions, e.g. introduced by "
    "packet-loss or clipping; Loudness (the higher the better): if small, the loudness is not "
    "ideal, either too loud or too quit signals or loudness variation]"
)


def _wav(seconds: float, sr: int = 48000) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, np.full(int(seconds * sr), 0.1), sr, format="WAV")
    return buf.getvalue()


def _zip_corpus(path):
    files = {
        "NISQA_Corpus/NISQA_corpus_file.csv": HEADER + "\n".join(ROWS) + "\n",
        "NISQA_Corpus/NISQA_TRAIN_SIM/deg/c00001_sim.wav": _wav(1.6),
        "NISQA_Corpus/NISQA_TRAIN_SIM/deg/c00002_sim.wav": _wav(1.0),
        "NISQA_Corpus/NISQA_VAL_SIM/deg/c00004_sim.wav": _wav(1.0),
        "NISQA_Corpus/NISQA_TRAIN_LIVE/deg/c00005_live.wav": _wav(9.5),
    }
    with zipfile.ZipFile(path, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)


@pytest.fixture
def source_dir(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    _zip_corpus(src / "NISQA_Corpus.zip")
    nisqa.prepare(src, SOURCE)
    return src


def test_prepare_takes_the_archive_name_from_the_url(tmp_path):
    # DepositOnce's current links end in ".../download": that is the downloaded file's name.
    source = {"type": "url", "urls": ["https://depositonce.tu-berlin.de/bitstreams/x/download"]}
    _zip_corpus(tmp_path / "download")
    nisqa.prepare(tmp_path, source)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["NISQA_Corpus"]


def test_items_live_then_sim_train_only(source_dir):
    ids = [(i.unique_id_1, i.unique_id_2) for i in nisqa.items(source_dir, SOURCE)]
    assert ids == [
        ("c00005_live.wav", "NISQA_TRAIN_LIVE"),
        ("c00001_sim.wav", "NISQA_TRAIN_SIM"),
        ("c00002_sim.wav", "NISQA_TRAIN_SIM"),
        ("c00003_sim.wav", "NISQA_TRAIN_SIM"),
    ]


def test_raw_shard_a_text_and_drops(source_dir, tmp_path):
    settings = {"category": "speech", "source": SOURCE, "n_shards": 1}
    out = tmp_path / "raw.parquet"
    ledger = collect_shard("nisqa", settings, 0, source_dir, out)
    rows = {r["uid"]: r["audio_description"] for r in read_shard(out)}
    assert rows == {
        "nisqa/c00001_sim.wav/NISQA_TRAIN_SIM": (
            "[00:00-00:02] |Speech| (duration: 2s, mos: 3.142, noise level: 2.8/5, "
            "coloration level: 3.25/5, discontinuity: 4.0/5, loudness: 3.333/5, "
            f"degradation type: bandpass + white noise, degradation explanation: {EXPLANATION})"
        ),
        "nisqa/c00005_live.wav/NISQA_TRAIN_LIVE": (
            "[00:00-00:10] |Speech| (duration: 10s, mos: 4.2, noise level: 3.6/5, "
            "coloration level: 3.8/5, discontinuity: 3.9/5, loudness: 4.05/5, "
            f"degradation type: live, degradation explanation: {EXPLANATION})"
        ),
    }
    assert {d.uid: d.reason for d in ledger.drops} == {
        "nisqa/c00002_sim.wav/NISQA_TRAIN_SIM": "missing_metadata",
        "nisqa/c00003_sim.wav/NISQA_TRAIN_SIM": "unreadable_item",
    }
