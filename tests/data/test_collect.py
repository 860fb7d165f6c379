import json

import numpy as np
import pytest
import soundfile as sf

from alarm.data.collect import collect_shard
from alarm.data.describe import audio_description
from alarm.data.filters import audio_filter
from alarm.data.items import RAW_SCHEMA
from alarm.files import read_shard, write_shard
from alarm.ledger import check_ledgers


def _write_part(root, rows):
    part = root / "speech"
    (part / "audio").mkdir(parents=True)
    lines = []
    for row in rows:
        audio = row.pop("audio")
        if audio is not None:
            (part / row["file"]).write_bytes(audio)
        lines.append(json.dumps(row))
    (part / "metadata.jsonl").write_text("\n".join(lines) + "\n")


def _wav(seconds, sr=16000, channels=1):
    buf = __import__("io").BytesIO()
    data = np.random.default_rng(0).uniform(-0.5, 0.5, (int(seconds * sr), channels))
    sf.write(buf, data, sr, format="WAV")
    return buf.getvalue()


SETTINGS = {
    "category": "speech",
    "source": {"type": "synthetic", "part": "speech"},
    "n_shards": 1,
    "repeated_ids": "drop",
    "train_for": {},
}


@pytest.fixture
def shard(tmp_path):
    meta = {"gender": "Female", "MOS": 4.035799026489258}
    rows = [
        {
            "file": "audio/ok.wav",
            "unique_id_1": "s1",
            "unique_id_2": "ok",
            "text": "hello",
            "metadata": meta,
            "audio": _wav(2.5),
        },
        {
            "file": "audio/stereo.wav",
            "unique_id_1": "s1",
            "unique_id_2": "stereo",
            "text": "hi",
            "metadata": meta,
            "audio": _wav(1.0, 44100, 2),
        },
        {
            "file": "audio/empty.wav",
            "unique_id_1": "s1",
            "unique_id_2": "empty",
            "text": "x",
            "metadata": meta,
            "audio": b"",
        },
        {
            "file": "audio/corrupt.wav",
            "unique_id_1": "s1",
            "unique_id_2": "corrupt",
            "text": "x",
            "metadata": meta,
            "audio": b"RIFF....WAVEjunkjunk",
        },
        {
            "file": "audio/missing.wav",
            "unique_id_1": "s1",
            "unique_id_2": "missing",
            "text": "x",
            "metadata": meta,
            "audio": None,
        },
        {
            "file": "audio/notext.wav",
            "unique_id_1": "s1",
            "unique_id_2": "notext",
            "metadata": meta,
            "audio": _wav(1.0),
        },
        {
            "file": "audio/long.wav",
            "unique_id_1": "s1",
            "unique_id_2": "long",
            "text": "x",
            "metadata": meta,
            "audio": _wav(61.0, 8000),
        },
        {
            "file": "audio/ok.wav",
            "unique_id_1": "s1",
            "unique_id_2": "ok",
            "text": "again",
            "metadata": meta,
            "audio": None,
        },
    ]
    _write_part(tmp_path / "src", rows)
    out = tmp_path / "results" / "raw" / "00000.parquet"
    ledger = collect_shard("toy", SETTINGS, 0, tmp_path / "src", out)
    return tmp_path, out, ledger


def test_bad_items_are_recorded_drops_not_crashes(shard):
    _, _, ledger = shard
    assert ledger.rows_in == 8 and ledger.rows_out == 3
    assert ledger.dropped == {
        "audio_empty": 1,
        "audio_undecodable": 1,
        "unreadable_item": 1,
        "missing_metadata": 1,
        "duplicate_uid": 1,
    }
    reasons = {d.uid: d.reason for d in ledger.drops}
    assert reasons["toy/s1/notext"] == "missing_metadata"
    assert reasons["toy/s1/missing"] == "unreadable_item"


def test_raw_rows_carry_audio_duration_and_a_text(shard):
    _, out, _ = shard
    rows = {r["uid"]: r for r in read_shard(out)}
    ok = rows["toy/s1/ok"]
    assert ok["duration"] == pytest.approx(2.5)
    assert ok["audio_description"] == audio_description(
        2.5, "hello", gender="Female", MOS=4.035799026489258
    )
    assert ok["audio_description"].endswith(
        "(duration: 2s, gender: Female, mos: 4.035799026489258)"
    )
    assert json.loads(ok["metadata"]) == {"gender": "Female", "MOS": 4.035799026489258}
    stereo = rows["toy/s1/stereo"]
    assert (stereo["sample_rate"], stereo["channels"]) == (44100, 2)  # kept as shipped


def test_audio_filter_drops_long_clips_and_keeps_references(shard):
    root, out, _ = shard
    items = root / "results" / "items" / "00000.parquet"
    ledger = audio_filter({"max_duration_s": 60.0, "audio_check": "full"}, out, items)
    assert ledger.dropped == {"audio_too_long": 1}
    rows = read_shard(items)
    assert {r["uid"] for r in rows} == {"toy/s1/ok", "toy/s1/stereo"}
    assert all("audio" not in r and r["audio_shard"] == str(out) for r in rows)
    raw = read_shard(out, ["uid"])
    assert all(raw[r["audio_row"]]["uid"] == r["uid"] for r in rows)
    assert check_ledgers(root / "results") == (2, [])


def _raw_shard(path, clips):
    """A raw shard of (uid, category, audio bytes, duration) rows."""
    rows = [
        dict.fromkeys(RAW_SCHEMA.names, "")
        | {"uid": uid, "category": category, "audio": audio, "duration": duration}
        | {"sample_rate": 16000, "channels": 1}
        for uid, category, audio, duration in clips
    ]
    write_shard(rows, path, RAW_SCHEMA)
    return path


def test_the_authors_audio_check_reads_10_ms_of_the_described_corpora_only(tmp_path):
    nan_late = np.zeros(16000, dtype=np.float32)
    nan_late[8000:] = np.nan  # the first 10 ms decode; a full decode finds the NaN
    buf = __import__("io").BytesIO()
    sf.write(buf, nan_late, 16000, format="WAV", subtype="FLOAT")
    raw = _raw_shard(
        tmp_path / "raw.parquet",
        [
            ("d/nan", "speech", buf.getvalue(), 1.0),
            ("d/garbage", "speech", b"RIFF...not audio", 1.0),
            ("d/long", "speech", _wav(1.0), 61.0),
            ("q/nan", "instruction", buf.getvalue(), 1.0),
            ("q/long", "instruction", _wav(1.0), 75.0),
            ("q/garbage", "instruction", b"RIFF...not audio", 1.0),
        ],
    )

    def kept(check):
        out = tmp_path / f"{check}.parquet"
        ledger = audio_filter({"max_duration_s": 60.0, "audio_check": check}, raw, out)
        return sorted(r["uid"] for r in read_shard(out, ["uid"])), ledger

    uids, ledger = kept("authors")
    assert uids == ["d/nan", "q/garbage", "q/long", "q/nan"]
    assert ledger.dropped == {"audio_undecodable": 1, "audio_too_long": 1}
    assert ledger.flagged == {"audio_nan": 2, "audio_too_long": 1, "audio_undecodable": 1}
    uids, ledger = kept("full")
    assert uids == [] and ledger.flagged == {}
    assert ledger.dropped == {"audio_nan": 2, "audio_undecodable": 2, "audio_too_long": 2}


def test_only_the_shards_own_items_are_read(tmp_path):
    rows = [
        {
            "file": f"audio/{i}.wav",
            "unique_id_1": "s",
            "unique_id_2": str(i),
            "text": "t",
            "metadata": {},
            "audio": _wav(0.5),
        }
        for i in range(20)
    ]
    _write_part(tmp_path / "src", rows)
    settings = SETTINGS | {"n_shards": 3}
    uids = []
    for k in range(3):
        ledger = collect_shard("toy", settings, k, tmp_path / "src", tmp_path / f"{k}.parquet")
        uids += [r["uid"] for r in read_shard(tmp_path / f"{k}.parquet", ["uid"])]
        assert ledger.rows_in == ledger.rows_out
    assert sorted(uids) == sorted(f"toy/s/{i}" for i in range(20))


def test_a_repeated_id_is_kept_under_a_uid_of_its_own_as_the_authors_table_keeps_it(shard):
    root, _, _ = shard
    out = root / "keep.parquet"
    ledger = collect_shard("toy", SETTINGS | {"repeated_ids": "keep"}, 0, root / "src", out)
    assert ledger.rows_out == 4 and "duplicate_uid" not in ledger.dropped
    assert ledger.stats["kept_flagged"] == {"repeated_ids": 1}
    repeats = [r for r in read_shard(out) if r["unique_id_2"] == "ok"]
    assert [(r["uid"], r["audio_description"].split()[1]) for r in repeats] == [
        ("toy/s1/ok", "hello"),
        ("toy/s1/ok#2", "again"),
    ]
    assert ["s1", "ok"] not in ledger.stats["authors_rows_dropped"]


def test_the_ledger_names_the_dropped_rows_the_authors_table_holds(shard):
    # Their split numbers every row of their table: a repeat, a file that fails to decode.
    _, _, ledger = shard
    assert sorted(ledger.stats["authors_rows_dropped"]) == [
        ["s1", "corrupt"],
        ["s1", "empty"],
        ["s1", "missing"],
        ["s1", "notext"],
        ["s1", "ok"],
    ]


def test_a_converter_whose_authors_skip_unreadable_files_leaves_them_out(shard, monkeypatch):
    import alarm.data.sources.synthetic as converter

    root, _, _ = shard
    monkeypatch.setattr(converter, "AUTHORS_SKIP_UNREADABLE", True, raising=False)
    ledger = collect_shard("toy", SETTINGS, 0, root / "src", root / "skip.parquet")
    assert sorted(ledger.stats["authors_rows_dropped"]) == [["s1", "notext"], ["s1", "ok"]]
