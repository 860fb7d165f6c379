"""LibriSpeech converter on train-*.tar.gz tarballs laid out like OpenSLR 12."""

import pytest
from builders import collect_descriptions, drop_reasons, flac_bytes, item_ids, write_tar

from alarm.data.sources import librispeech

SOURCE = {"type": "url", "urls": ["https://www.openslr.org/resources/12/train-clean-100.tar.gz"]}
SPEAKERS = (
    "; LibriSpeech speakers\n"
    ";ID  |SEX| SUBSET           |MINUTES| NAME\n"
    "14   | F | train-clean-360  | 25.03 | Kristin LeMoine\n"
    "\n"
    "19   | F | train-clean-100  | 25.19 | Kara Shallenberg\n"
    "26   | M | train-clean-100  | 25.08 | Denny Sayers\n"
)


@pytest.fixture
def source_dir(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    book = "LibriSpeech/train-clean-100/19/198"
    write_tar(
        src / "train-clean-100.tar.gz",
        {
            "LibriSpeech/SPEAKERS.TXT": SPEAKERS,
            f"{book}/19-198.trans.txt": (
                "19-198-0001 NORTHANGER ABBEY\n19-198-0002 THIS LITTLE WORK\n"
            ),
            f"{book}/19-198-0001.flac": flac_bytes(1.6),  # 19-198-0002.flac is missing
            "LibriSpeech/train-clean-100/26/495/26-495.trans.txt": "26-495-0000 CHAPTER ONE\n",
            "LibriSpeech/train-clean-100/26/495/26-495-0000.flac": flac_bytes(0.7),
            "LibriSpeech/train-clean-100/33/1/33-1.trans.txt": "33-1-0000 NOBODY KNOWS\n",
            # 33: no SPEAKERS line
            "LibriSpeech/train-clean-100/33/1/33-1-0000.flac": flac_bytes(1.0),
        },
    )
    for subset in ("train-clean-360", "train-other-500"):
        write_tar(
            src / f"{subset}.tar.gz",
            {"LibriSpeech/SPEAKERS.TXT": SPEAKERS, f"LibriSpeech/{subset}": None},  # a directory
        )
    librispeech.prepare(src, SOURCE)
    return src


def test_items_ids(source_dir):
    assert item_ids(librispeech.items(source_dir, SOURCE)) == [
        ("19", "19-198-0001"),
        ("19", "19-198-0002"),
        ("26", "26-495-0000"),
        ("33", "33-1-0000"),
    ]


def test_raw_shard_a_text_and_drops(source_dir, tmp_path):
    settings = {"category": "speech", "source": SOURCE, "n_shards": 1}
    out = tmp_path / "raw.parquet"
    ledger, rows = collect_descriptions("librispeech", settings, source_dir, out)
    assert rows == {
        "librispeech/19/19-198-0001": (
            "[00:00-00:02] northanger abbey (duration: 2s, gender: Female)"
        ),
        "librispeech/26/26-495-0000": "[00:00-00:01] chapter one (duration: 1s, gender: Male)",
    }
    assert drop_reasons(ledger) == {
        "librispeech/19/19-198-0002": "unreadable_item",
        "librispeech/33/33-1-0000": "missing_metadata",
    }
