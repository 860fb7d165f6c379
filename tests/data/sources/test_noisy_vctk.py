"""Noisy VCTK converter on the DataShare 10283/2791 zips (logs, noisy/clean wavs, texts)."""

import io
import zipfile

import numpy as np
import pytest
import soundfile as sf

from alarm.data.collect import collect_shard
from alarm.data.sources import noisy_vctk
from alarm.shards import read_shard

SOURCE = {"type": "url", "urls": ["https://example.org/logfiles.zip"]}
SSN = "simulated speech-shaped noise (filtered white noise)"
CLEAN = "there is no noise - the audio is clean"


def _wav(seconds: float, sr: int = 48000) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, np.full(int(seconds * sr), 0.1), sr, format="WAV")
    return buf.getvalue()


def _zip(path, files):
    with zipfile.ZipFile(path, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)


@pytest.fixture
def source_dir(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    _zip(
        src / "logfiles.zip",
        {
            "log_trainset_28spk.txt": "p226_001 ssn 15\np226_002 cafeteria 5\n",
            "log_trainset_56spk.txt": "p234_001 babble 10\n",  # its transcript is missing
        },
    )
    _zip(
        src / "noisy_trainset_28spk_wav.zip",
        {
            "noisy_trainset_28spk_wav/p226_001.wav": _wav(1.6),
            "noisy_trainset_28spk_wav/p226_002.wav": _wav(3.2),
        },
    )
    _zip(src / "clean_trainset_28spk_wav.zip", {"clean_trainset_28spk_wav/p226_001.wav": _wav(1.6)})
    _zip(src / "noisy_trainset_56spk_wav.zip", {"noisy_trainset_56spk_wav/p234_001.wav": _wav(1.0)})
    _zip(src / "clean_trainset_56spk_wav.zip", {"clean_trainset_56spk_wav/p234_001.wav": _wav(1.0)})
    _zip(
        src / "trainset_28spk_txt.zip",
        {
            "trainset_28spk_txt/p226_001.txt": "Please call Stella.\n",
            "trainset_28spk_txt/p226_002.txt": "Ask her.\n",
        },
    )
    _zip(src / "trainset_56spk_txt.zip", {"trainset_56spk_txt/p999_001.txt": "Other.\n"})
    noisy_vctk.prepare(src, SOURCE)
    return src


def test_prepare_unpacks_into_raw_data(source_dir):
    assert sorted(p.name for p in source_dir.iterdir()) == ["raw_data"]
    assert (source_dir / "raw_data" / "log_trainset_28spk.txt").is_file()


def test_each_log_line_gives_a_noisy_and_a_clean_item(source_dir):
    ids = [(i.unique_id_1, i.unique_id_2) for i in noisy_vctk.items(source_dir, SOURCE)]
    assert ids == [
        ("trainset_28spk_p226_001", f"{SSN}_15"),
        ("trainset_28spk_p226_001", "clean_15"),
        ("trainset_28spk_p226_002", "cafeteria_5"),
        ("trainset_28spk_p226_002", "clean_5"),
        ("trainset_56spk_p234_001", "babble_10"),
        ("trainset_56spk_p234_001", "clean_10"),
    ]


def test_raw_shard_a_text_and_drops(source_dir, tmp_path):
    settings = {"category": "speech", "source": SOURCE, "n_shards": 1}
    out = tmp_path / "raw.parquet"
    ledger = collect_shard("noisy_vctk", settings, 0, source_dir, out)
    rows = {r["uid"]: r["audio_description"] for r in read_shard(out)}
    assert rows == {
        f"noisy_vctk/trainset_28spk_p226_001/{SSN}_15": (
            f"[00:00-00:02] Please call Stella. (duration: 2s, noise description: {SSN}, snr: 15)"
        ),
        "noisy_vctk/trainset_28spk_p226_001/clean_15": (
            "[00:00-00:02] Please call Stella. "
            f"(duration: 2s, noise description: {CLEAN}, snr: 100)"
        ),
        "noisy_vctk/trainset_28spk_p226_002/cafeteria_5": (
            "[00:00-00:03] Ask her. (duration: 3s, noise description: cafeteria, snr: 5)"
        ),
    }
    assert {d.uid: d.reason for d in ledger.drops} == {
        "noisy_vctk/trainset_28spk_p226_002/clean_5": "unreadable_item",
        "noisy_vctk/trainset_56spk_p234_001/babble_10": "missing_metadata",
        "noisy_vctk/trainset_56spk_p234_001/clean_10": "missing_metadata",
    }
