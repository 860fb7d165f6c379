from builders import collect_rows, drop_reasons, wav_bytes, write_zip

from alarm.data.sources import esc50

SOURCE = {"type": "url", "urls": ["https://github.com/karoldvl/ESC-50/archive/master.zip"]}
CSV = """filename,fold,target,category,esc10,src_file,take
1-100032-A-0.wav,1,0,dog,True,100032,A
1-100038-A-14.wav,1,14,chirping_birds,False,100038,A
5-9032-A-0.wav,5,0,dog,True,9032,A
2-1234-A-1.wav,2,1,,False,1234,A
"""


def _source(tmp_path):
    root = tmp_path / "esc50"
    root.mkdir()
    write_zip(
        root / "master.zip",
        {
            "ESC-50-master/audio/1-100032-A-0.wav": wav_bytes(5.0, 44100),
            "ESC-50-master/audio/1-100038-A-14.wav": wav_bytes(2.5, 44100),
            "ESC-50-master/audio/2-1234-A-1.wav": wav_bytes(1.0, 44100),
            "ESC-50-master/meta/esc50.csv": CSV,  # 5-9032-A-0.wav is missing
        },
    )
    (root / "esc50.csv").write_text(CSV)
    esc50.prepare(root, SOURCE)
    return root


def test_items_are_categories_of_every_fold_with_exact_a_text(tmp_path):
    root = _source(tmp_path)
    settings = {"category": "sound", "source": SOURCE, "n_shards": 1}
    ledger, rows = collect_rows("esc50", settings, root, tmp_path / "raw.parquet")
    assert set(rows) == {"esc50/1-100032-A-0.wav/100032", "esc50/1-100038-A-14.wav/100038"}
    assert rows["esc50/1-100032-A-0.wav/100032"]["audio_description"] == (
        "[00:00-00:05] |dog| (duration: 5s)"
    )
    # Underscores are kept, and 2.5 s rounds to even.
    assert rows["esc50/1-100038-A-14.wav/100038"]["audio_description"] == (
        "[00:00-00:02] |chirping_birds| (duration: 2s)"
    )
    assert rows["esc50/1-100032-A-0.wav/100032"]["sample_rate"] == 44100  # stored as shipped
    assert drop_reasons(ledger) == {
        "esc50/5-9032-A-0.wav/9032": "unreadable_item",
        "esc50/2-1234-A-1.wav/1234": "missing_metadata",
    }


def test_prepare_is_idempotent(tmp_path):
    root = _source(tmp_path)
    (root / "master.zip").unlink()
    esc50.prepare(root, SOURCE)  # already unpacked: nothing to do
    assert (root / "ESC-50-master" / "audio" / "1-100032-A-0.wav").exists()
