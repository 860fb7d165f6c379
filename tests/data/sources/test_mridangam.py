import pytest
from builders import collect_descriptions, wav_bytes, write_zip

from alarm.data.sources import mridangam

SOURCE = {
    "type": "url",
    "urls": ["https://zenodo.org/records/4068196/files/mridangam_stroke_1.5.zip?download=1"],
}
SETTINGS = {"category": "music", "source": SOURCE, "n_shards": 1}


def test_zenodo_zip_gives_tonic_and_stroke(tmp_path):
    root = "mridangam_stroke_1.5"
    write_zip(
        tmp_path / mridangam.ARCHIVE,
        {
            f"{root}/B/224030__akshaylaya__bheem-b-001.wav": wav_bytes(0.4, 44100),
            f"{root}/C#/224500__akshaylaya__cha-c#-012.wav": wav_bytes(1.6, 44100),
            f"{root}/C#/224501__akshaylaya__dheem-c#-013.wav": b"not audio",
            f"{root}/C#/notes.txt": "not a stroke",
            f"__MACOSX/{root}/B/._224030__akshaylaya__bheem-b-001.wav": b"junk",
        },
    )
    mridangam.prepare(tmp_path, SOURCE)
    assert not (tmp_path / mridangam.ARCHIVE).exists()

    ledger, rows = collect_descriptions("mridangam", SETTINGS, tmp_path, tmp_path / "raw.parquet")
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
