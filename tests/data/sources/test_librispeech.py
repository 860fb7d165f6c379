"""LibriSpeech converter on train-*.tar.gz tarballs laid out like OpenSLR 12."""

import io
import tarfile

import numpy as np
import pytest
import soundfile as sf

from alarm.data.collect import collect_shard
from alarm.data.sources import librispeech
from alarm.shards import read_shard

SOURCE = {"type": "url", "urls": ["https://www.openslr.org/resources/12/train-clean-100.tar.gz"]}
SPEAKERS = (
    "; LibriSpeech speakers\n"
    ";ID  |SEX| SUBSET           |MINUTES| NAME\n"
    "14   | F | train-clean-360  | 25.03 | Kristin LeMoine\n"
    "\n"
    "19   | F | train-clean-100  | 25.19 | Kara Shallenberg\n"
    "26   | M | train-clean-100  | 25.08 | Denny Sayers\n"
)


def _flac(seconds: float) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, np.full(int(seconds * 16000), 0.1), 16000, format="FLAC")
    return buf.getvalue()


def _tarball(path, files):
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            if data is None:  # a directory
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
                continue
            data = data.encode() if isinstance(data, str) else data
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


@pytest.fixture
def source_dir(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    book = "LibriSpeech/train-clean-100/19/198"
    _tarball(
        src / "train-clean-100.tar.gz",
        {
            "LibriSpeech/SPEAKERS.TXT": SPEAKERS,
            f"{book}/19-198.trans.txt": (
                "19-198-0001 NORTHANGER ABBEY\n19-198-0002 THIS LITTLE WORK\n"
            ),
            f"{book}/19-198-0001.flac": _flac(1.6),  # 19-198-0002.flac is missing
            "LibriSpeech/train-clean-100/26/495/26-495.trans.txt": "26-495-0000 CHAPTER ONE\n",
            "LibriSpeech/train-clean-100/26/495/26-495-0000.flac": _flac(0.7),
            "LibriSpeech/train-clean-100/33/1/33-1.trans.txt": "33-1-0000 NOBODY KNOWS\n",
            "LibriSpeech/train-clean-100/33/1/33-1-0000.flac": _flac(1.0),  # 33: no SPEAKERS line
        },
    )
    for subset in ("train-clean-360", "train-other-500"):
        _tarball(
            src / f"{subset}.tar.gz",
            {"LibriSpeech/SPEAKERS.TXT": SPEAKERS, f"LibriSpeech/{subset}": None},
        )
    librispeech.prepare(src, SOURCE)
    return src


def test_items_ids(source_dir):
    ids = [(i.unique_id_1, i.unique_id_2) for i in librispeech.items(source_dir, SOURCE)]
    assert ids == [
        ("19", "19-198-0001"),
        ("19", "19-198-0002"),
        ("26", "26-495-0000"),
        ("33", "33-1-0000"),
    ]


def test_raw_shard_a_text_and_drops(source_dir, tmp_path):
    settings = {"category": "speech", "source": SOURCE, "n_shards": 1}
    out = tmp_path / "raw.parquet"
    ledger = collect_shard("librispeech", settings, 0, source_dir, out)
    rows = {r["uid"]: r["audio_description"] for r in read_shard(out)}
    assert rows == {
        "librispeech/19/19-198-0001": (
            "[00:00-00:02] northanger abbey (duration: 2s, gender: Female)"
        ),
        "librispeech/26/26-495-0000": "[00:00-00:01] chapter one (duration: 1s, gender: Male)",
    }
    assert {d.uid: d.reason for d in ledger.drops} == {
        "librispeech/19/19-198-0002": "unreadable_item",
        "librispeech/33/33-1-0000": "missing_metadata",
    }
