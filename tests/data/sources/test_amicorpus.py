import pyarrow as pa
import pyarrow.parquet as pq
from builders import AUDIO, collect_rows, drop_reasons, wav_bytes

from alarm.data.audio import decode
from alarm.data.sources import amicorpus

SOURCE = {
    "type": "hub",
    "repo": "edinburghcstr/ami",
    "revision": "8dfb8d51a914b60af751fa9b561878bbba07160d",
    "allow_patterns": ["ihm/partial-train/*.parquet"],
}

# (meeting, mic, speaker, begin, end, text, audio): file order is by headset, as the hub's.
ROWS = [
    ("EN2001a", "H00", "MEE068", 10.0, 12.0, "HELLO THERE ", wav_bytes(2.0, value=0.1)),
    ("EN2001a", "H00", "MEE068", 30.0, 51.5, "OKAY", wav_bytes(0.5, value=0.3)),
    ("EN2001a", "SDM1", "MEE068", 10.5, 11.0, "FAR FIELD", wav_bytes(0.5, value=0.0)),
    ("EN2001a", "H01", "FEE005", 11.0, 13.5, "HI", wav_bytes(0.5, value=-0.2)),
    ("EN2001a", "H01", "FEE005", 52.0, 53.0, "BYE", wav_bytes(1.0, value=-0.2)),
    ("ES2002a", "H02", "MEO012", 1.0, 2.0, None, wav_bytes(1.0, value=0.1)),
]


def _source(tmp_path):
    path = tmp_path / "ami" / "ihm" / "partial-train" / "0000.parquet"
    path.parent.mkdir(parents=True)
    columns = list(zip(*ROWS, strict=True))
    table = pa.table(
        {
            "meeting_id": columns[0],
            "audio_id": [f"AMI_{m}_{h}_{s}" for m, h, s in zip(*columns[:3], strict=True)],
            "text": columns[5],
            "audio": pa.array([{"bytes": a, "path": None} for a in columns[6]], AUDIO),
            "begin_time": pa.array(columns[3], pa.float32()),
            "end_time": pa.array(columns[4], pa.float32()),
            "microphone_id": columns[1],
            "speaker_id": columns[2],
        }
    )
    pq.write_table(table, path, row_group_size=2)
    return tmp_path / "ami"


def test_meeting_clips_of_40_s_with_overlaid_audio(tmp_path):
    root = _source(tmp_path)
    settings = {"category": "multi_speaker", "source": SOURCE, "n_shards": 1}
    ledger, rows = collect_rows("amicorpus", settings, root, tmp_path / "raw.parquet")
    assert set(rows) == {
        "amicorpus/EN2001a/EN2001a_0_068_005_068",
        "amicorpus/EN2001a/EN2001a_1_005",
    }
    first = rows["amicorpus/EN2001a/EN2001a_0_068_005_068"]
    # The clip closes at 51.5 - 10 >= 40 s; 3.5 and 41.5 round to even.
    assert first["audio_description"] == (
        "[00:00-00:02, the first speaker] hello there [00:01-00:04, the second speaker] hi "
        "[00:20-00:42, the first speaker] okay (duration: 42s, the first speaker's gender: Male, "
        "the second speaker's gender: Female, the number of speakers: 2)"
    )
    assert rows["amicorpus/EN2001a/EN2001a_1_005"]["audio_description"] == (
        "[00:00-00:01, the first speaker] bye "
        "(duration: 1s, the first speaker's gender: Female, the number of speakers: 1)"
    )
    audio, sr = decode(first["audio"])
    assert (sr, audio.shape) == (16000, (1, 20 * 16000 + 8000))  # last piece's own length
    canvas = audio[0]
    assert abs(canvas[8000] - 0.1) < 1e-3  # first utterance
    assert abs(canvas[20000] + 0.2) < 1e-3  # the later one overwrites the overlap
    assert abs(canvas[30000] - 0.1) < 1e-3 and canvas[100000] == 0  # then a zero gap
    assert abs(canvas[-1] - 0.3) < 1e-3
    assert drop_reasons(ledger) == {"amicorpus/ES2002a/ES2002a_0_012": "missing_metadata"}


def test_sdm_rows_are_left_out(tmp_path):
    items = list(amicorpus.items(_source(tmp_path), SOURCE))
    assert all("far field" not in (i.text or []) for i in items)
