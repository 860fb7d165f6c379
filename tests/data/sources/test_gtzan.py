from builders import collect_rows, wav_bytes, write_zip

from alarm.data.sources import gtzan

SOURCE = {
    "type": "url",
    "urls": [
        "https://www.kaggle.com/api/v1/datasets/download/andradaolteanu/"
        "gtzan-dataset-music-genre-classification"
    ],
}
SETTINGS = {"category": "music", "source": SOURCE, "n_shards": 1}


def test_kaggle_zip_gives_one_caption_per_clip(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    root = "Data/genres_original"
    write_zip(
        src / gtzan.ARCHIVE,  # as curl saves it: no extension
        {
            f"{root}/blues/blues.00000.wav": wav_bytes(30.0, 8000),
            f"{root}/jazz/jazz.00001.wav": wav_bytes(2.5, 8000),
            f"{root}/jazz/jazz.00054.wav": b"",  # the broken file the authors skip
            f"{root}/rock/rock.00003.wav": b"RIFF....WAVEjunk",
            "Data/features_30_sec.csv": "filename,label\n",
        },
    )
    gtzan.prepare(src, SOURCE)
    gtzan.prepare(src, SOURCE)  # a rerun is a no-op
    assert not (src / gtzan.ARCHIVE).exists()

    ledger, rows = collect_rows("gtzan", SETTINGS, src, tmp_path / "raw.parquet")
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
    (genre / "hiphop.00007.wav").write_bytes(wav_bytes(1.0, 8000))
    gtzan.prepare(tmp_path, SOURCE)
    [item] = gtzan.items(tmp_path, SOURCE)
    assert (item.unique_id_1, item.unique_id_2) == ("genre: hiphop", "hiphop.00007.wav")
    assert item.metadata == {"genre": "Hiphop"}
