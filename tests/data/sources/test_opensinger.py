from builders import collect_descriptions, wav_bytes, write_tar

from alarm.data.sources import opensinger

SOURCE = {
    "type": "gdrive",
    "urls": ["https://drive.google.com/file/d/1EofoZxvalgMjZqzUEuEdleHIZ6SHtNuK/view?usp=sharing"],
}
SETTINGS = {"category": "music", "source": SOURCE, "n_shards": 1}


def test_drive_tarball_gives_lyrics_song_and_gender(tmp_path):
    man, woman = "OpenSinger/ManRaw/0_海阔天空", "OpenSinger/WomanRaw/12_夜曲"
    write_tar(
        tmp_path / "OpenSinger.tar.gz",
        {
            f"{man}/0_海阔天空_0.wav": wav_bytes(3.6, 24000),
            f"{man}/0_海阔天空_0.txt": "今天我 寒夜里看雪飘过\n".encode(),
            f"{man}/0_海阔天空_1.wav": wav_bytes(1.0, 24000),  # its lyrics file is missing
            f"{woman}/12_夜曲_3.wav": wav_bytes(2.2, 24000),
            f"{woman}/12_夜曲_3.txt": "一群嗜血的蚂蚁\n".encode(),
            "OpenSinger/WomanRaw/12_a_b/12_a_b_0.wav": wav_bytes(1.0, 24000),  # not <singer>_<song>
            "OpenSinger/ManRaw/readme.txt": b"not a song folder",
        },
    )
    opensinger.prepare(tmp_path, SOURCE)

    ledger, rows = collect_descriptions("opensinger", SETTINGS, tmp_path, tmp_path / "raw.parquet")
    # The lyrics are stripped (the authors keep the file's trailing newline in A_text).
    assert rows == {
        "opensinger/gender: Male/0_海阔天空_0.wav": (
            "[00:00-00:04] 今天我 寒夜里看雪飘过 (duration: 4s, song name: 海阔天空, gender: Male)"
        ),
        "opensinger/gender: Female/12_夜曲_3.wav": (
            "[00:00-00:02] 一群嗜血的蚂蚁 (duration: 2s, song name: 夜曲, gender: Female)"
        ),
    }
    assert ledger.dropped == {"missing_metadata": 1}
    assert ledger.drops[0].uid == "opensinger/gender: Male/0_海阔天空_1.wav"
