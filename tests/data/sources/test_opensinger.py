import io
import tarfile

import numpy as np
import soundfile as sf

from alarm.data.collect import collect_shard
from alarm.data.sources import opensinger
from alarm.shards import read_shard

SOURCE = {
    "type": "gdrive",
    "urls": ["https://drive.google.com/file/d/1EofoZxvalgMjZqzUEuEdleHIZ6SHtNuK/view?usp=sharing"],
}
SETTINGS = {"category": "music", "source": SOURCE, "n_shards": 1}


def _wav(seconds: float, sr: int = 24000) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, np.full(int(seconds * sr), 0.1, dtype=np.float32), sr, format="WAV")
    return buf.getvalue()


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def test_drive_tarball_gives_lyrics_song_and_gender(tmp_path):
    with tarfile.open(tmp_path / "OpenSinger.tar.gz", "w:gz") as tar:
        man, woman = "OpenSinger/ManRaw/0_海阔天空", "OpenSinger/WomanRaw/12_夜曲"
        _add(tar, f"{man}/0_海阔天空_0.wav", _wav(3.6))
        _add(tar, f"{man}/0_海阔天空_0.txt", "今天我 寒夜里看雪飘过\n".encode())
        _add(tar, f"{man}/0_海阔天空_1.wav", _wav(1.0))  # its lyrics file is missing
        _add(tar, f"{woman}/12_夜曲_3.wav", _wav(2.2))
        _add(tar, f"{woman}/12_夜曲_3.txt", "一群嗜血的蚂蚁\n".encode())
        _add(tar, "OpenSinger/WomanRaw/12_a_b/12_a_b_0.wav", _wav(1.0))  # not <singer>_<song>
        _add(tar, "OpenSinger/ManRaw/readme.txt", b"not a song folder")
    opensinger.prepare(tmp_path, SOURCE)

    out = tmp_path / "raw.parquet"
    ledger = collect_shard("opensinger", SETTINGS, 0, tmp_path, out)
    rows = {r["uid"]: r["audio_description"] for r in read_shard(out)}
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
