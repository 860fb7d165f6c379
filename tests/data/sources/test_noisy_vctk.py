"""Noisy VCTK converter on the DataShare 10283/2791 zips (logs, noisy/clean wavs, texts)."""

import pytest
from builders import collect_descriptions, drop_reasons, item_ids, wav_bytes, write_zip

from alarm.data.sources import noisy_vctk

SOURCE = {"type": "url", "urls": ["https://example.org/logfiles.zip"]}
SSN = "simulated speech-shaped noise (filtered white noise)"
CLEAN = "there is no noise - the audio is clean"


def _wav(seconds: float) -> bytes:
    return wav_bytes(seconds, 48000)


@pytest.fixture
def source_dir(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    write_zip(
        src / "logfiles.zip",
        {
            "log_trainset_28spk.txt": "p226_001 ssn 15\np226_002 cafeteria 5\n",
            "log_trainset_56spk.txt": "p234_001 babble 10\n",  # its transcript is missing
        },
    )
    write_zip(
        src / "noisy_trainset_28spk_wav.zip",
        {
            "noisy_trainset_28spk_wav/p226_001.wav": _wav(1.6),
            "noisy_trainset_28spk_wav/p226_002.wav": _wav(3.2),
        },
    )
    write_zip(
        src / "clean_trainset_28spk_wav.zip", {"clean_trainset_28spk_wav/p226_001.wav": _wav(1.6)}
    )
    write_zip(
        src / "noisy_trainset_56spk_wav.zip", {"noisy_trainset_56spk_wav/p234_001.wav": _wav(1.0)}
    )
    write_zip(
        src / "clean_trainset_56spk_wav.zip", {"clean_trainset_56spk_wav/p234_001.wav": _wav(1.0)}
    )
    write_zip(
        src / "trainset_28spk_txt.zip",
        {
            "trainset_28spk_txt/p226_001.txt": "Please call Stella.\n",
            "trainset_28spk_txt/p226_002.txt": "Ask her.\n",
        },
    )
    write_zip(src / "trainset_56spk_txt.zip", {"trainset_56spk_txt/p999_001.txt": "Other.\n"})
    noisy_vctk.prepare(src, SOURCE)
    return src


def test_prepare_unpacks_into_raw_data(source_dir):
    assert sorted(p.name for p in source_dir.iterdir()) == ["raw_data"]
    assert (source_dir / "raw_data" / "log_trainset_28spk.txt").is_file()


def test_each_log_line_gives_a_noisy_and_a_clean_item(source_dir):
    assert item_ids(noisy_vctk.items(source_dir, SOURCE)) == [
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
    ledger, rows = collect_descriptions("noisy_vctk", settings, source_dir, out)
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
    assert drop_reasons(ledger) == {
        "noisy_vctk/trainset_28spk_p226_002/clean_5": "unreadable_item",
        "noisy_vctk/trainset_56spk_p234_001/babble_10": "missing_metadata",
        "noisy_vctk/trainset_56spk_p234_001/clean_10": "missing_metadata",
    }
