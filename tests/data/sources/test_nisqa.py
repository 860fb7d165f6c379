"""NISQA converter on a NISQA_Corpus.zip laid out like the release (corpus csv, <db>/deg)."""

import pytest
from builders import collect_descriptions, drop_reasons, item_ids, wav_bytes, write_zip

from alarm.data.sources import nisqa

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


def _zip_corpus(path):
    files = {
        "NISQA_Corpus/NISQA_corpus_file.csv": HEADER + "\n".join(ROWS) + "\n",
        "NISQA_Corpus/NISQA_TRAIN_SIM/deg/c00001_sim.wav": wav_bytes(1.6, 48000),
        "NISQA_Corpus/NISQA_TRAIN_SIM/deg/c00002_sim.wav": wav_bytes(1.0, 48000),
        "NISQA_Corpus/NISQA_VAL_SIM/deg/c00004_sim.wav": wav_bytes(1.0, 48000),
        "NISQA_Corpus/NISQA_TRAIN_LIVE/deg/c00005_live.wav": wav_bytes(9.5, 48000),
    }
    write_zip(path, files)


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
    assert item_ids(nisqa.items(source_dir, SOURCE)) == [
        ("c00005_live.wav", "NISQA_TRAIN_LIVE"),
        ("c00001_sim.wav", "NISQA_TRAIN_SIM"),
        ("c00002_sim.wav", "NISQA_TRAIN_SIM"),
        ("c00003_sim.wav", "NISQA_TRAIN_SIM"),
    ]


def test_raw_shard_a_text_and_drops(source_dir, tmp_path):
    settings = {"category": "speech", "source": SOURCE, "n_shards": 1}
    ledger, rows = collect_descriptions("nisqa", settings, source_dir, tmp_path / "raw.parquet")
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
    assert drop_reasons(ledger) == {
        "nisqa/c00002_sim.wav/NISQA_TRAIN_SIM": "missing_metadata",
        "nisqa/c00003_sim.wav/NISQA_TRAIN_SIM": "unreadable_item",
    }
