import pyarrow as pa
import pyarrow.parquet as pq
from builders import AUDIO, collect_rows, drop_reasons, flac_bytes, item_ids

from alarm.data.sources import audiocaps

SOURCE = {"type": "hub", "repo": "OpenSound/AudioCaps", "revision": "b29b3243"}


def _flac(seconds: float) -> bytes:
    return flac_bytes(seconds, 48000)


def _write(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.table(
        {
            "audiocap_id": pa.array([r[0] for r in rows], pa.int64()),
            "youtube_id": [r[1] for r in rows],
            "start_time": pa.array([30] * len(rows), pa.int64()),
            "caption": [r[2] for r in rows],
            "audio": pa.array([{"bytes": r[3], "path": f"{r[1]}.flac"} for r in rows], AUDIO),
        }
    )
    pq.write_table(table, path, row_group_size=2)  # several row groups per file


def test_rows_of_the_train_files_with_lazy_audio(tmp_path):
    root = tmp_path / "audiocaps"
    _write(
        root / "data" / "train-00000-of-00002.parquet",
        [
            (91139, "r1nicOVtvkQ", "A woman talks nearby as water pours ", _flac(1.5)),
            (58146, "UDGBjjwyaqE", "Multiple clanging and clanking sounds", _flac(10.0)),
            (11, "missingcapt", None, _flac(1.0)),
        ],
    )
    _write(
        root / "data" / "train-00001-of-00002.parquet",
        [(97, "noaudiobyte", "A dog barks", None), (98, "okokokokokk", "Wind blows", _flac(2.0))],
    )
    _write(root / "data" / "test-00000-of-00001.parquet", [(5, "testsplitxx", "x", _flac(1))])
    items = list(audiocaps.items(root, SOURCE))
    assert item_ids(items) == [
        ("91139", "r1nicOVtvkQ"),
        ("58146", "UDGBjjwyaqE"),
        ("11", "missingcapt"),
        ("97", "noaudiobyte"),
        ("98", "okokokokokk"),
    ]
    assert items[1].load_audio() == _flac(10.0)  # the row's own bytes, from its row group
    settings = {"category": "sound", "source": SOURCE, "n_shards": 1}
    ledger, rows = collect_rows("audiocaps", settings, root, tmp_path / "raw.parquet")
    assert rows["audiocaps/91139/r1nicOVtvkQ"]["audio_description"] == (
        "[00:00-00:02] |A woman talks nearby as water pours| (duration: 2s)"
    )
    assert rows["audiocaps/91139/r1nicOVtvkQ"]["sample_rate"] == 48000
    assert rows["audiocaps/58146/UDGBjjwyaqE"]["audio_description"] == (
        "[00:00-00:10] |Multiple clanging and clanking sounds| (duration: 10s)"
    )
    assert drop_reasons(ledger) == {
        "audiocaps/11/missingcapt": "missing_metadata",
        "audiocaps/97/noaudiobyte": "unreadable_item",
    }
