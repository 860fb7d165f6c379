"""Converters on small fixtures shaped like the real metadata files, with tiny clips."""

import io
import json

import numpy as np
import pytest
import soundfile as sf

from alarm.benchmarks.schema import BENCHMARK_SCHEMA
from alarm.benchmarks.sources import convert_shard
from alarm.files import read_shard
from alarm.ledger import Ledger, ledger_path

SUBTYPES = {"WAV": "PCM_16", "FLAC": "PCM_16", "MP3": "MPEG_LAYER_III"}


def write_clip(path, seconds=0.5, sr=16000, channels=1, fmt="WAV"):
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * sr)) / sr
    wave = 0.3 * np.sin(2 * np.pi * 440 * t).astype(np.float32)
    data = np.stack([wave] * channels, axis=1) if channels > 1 else wave
    sf.write(path, data, sr, format=fmt, subtype=SUBTYPES[fmt])


def convert(name, source, tmp_path, shard=0, n_shards=1, limit=None):
    out = tmp_path / "out" / f"{name}-{shard}-{n_shards}-{limit}.parquet"
    ledger = convert_shard(name, source, shard, n_shards, limit, out)
    return ledger, read_shard(out), out


def mmau_record(i, category="Reasoning"):
    return {
        "id": f"uuid-{i}",
        "audio_id": f"./test-mini-audios/uuid-{i}.wav",
        "question": f"Question {i}?",
        "choices": ["Dog", "Cat", "Dog", "Bird"] if i == 1 else ["Man", "Woman"],
        "answer": "Cat" if i == 1 else "Man",
        "dataset": "AudioSet",
        "task": ["sound", "music", "speech"][i % 3],
        "split": "test-mini",
        "category": category,
        "sub-category": "Counting",
        "difficulty": "easy",
    }


@pytest.fixture
def mmau_source(tmp_path):
    src = tmp_path / "mmau"
    records = [mmau_record(0), mmau_record(1, ["Reasoning"]), mmau_record(2), mmau_record(3)]
    src.mkdir()
    (src / "mmau-test-mini.json").write_text(json.dumps(records))
    write_clip(src / "test-mini-audios" / "uuid-0.wav")
    write_clip(src / "test-mini-audios" / "uuid-1.wav", channels=2, sr=44100)
    (src / "test-mini-audios" / "uuid-2.wav").write_bytes(b"")  # empty file
    # uuid-3.wav is missing
    return src


def test_mmau_rows_keep_every_item(tmp_path, mmau_source):
    ledger, rows, out = convert("mmau_test_mini", mmau_source, tmp_path)
    assert [r["index"] for r in sorted(rows, key=lambda r: r["index"])] == [0, 1, 2, 3]
    by_index = {r["index"]: r for r in rows}
    first = by_index[0]
    assert first["uid"] == "mmau_test_mini/uuid-0" and first["id"] == "uuid-0"
    assert first["benchmark"] == "mmau_test_mini"
    assert first["category"] == "sound" and first["answer"] == "Man"
    assert first["audio_error"] is None
    assert sf.info(io.BytesIO(first["audio"])).samplerate == 16000
    # The original clip's bytes, not a re-encoding.
    assert first["audio"] == (mmau_source / "test-mini-audios" / "uuid-0.wav").read_bytes()
    second = by_index[1]
    assert second["choices"] == ["Dog", "Cat", "Dog", "Bird"]  # duplicates stay
    assert json.loads(second["fields"])["category"] == ["Reasoning"]  # list category kept
    assert sf.info(io.BytesIO(second["audio"])).channels == 2
    assert by_index[2]["audio_error"].startswith("audio_empty:") and by_index[2]["audio"] == b""
    assert by_index[3]["audio_error"].startswith("audio_missing:")
    assert "test-mini-audios/uuid-3.wav" in by_index[3]["audio_error"]
    assert ledger.rows_in == ledger.rows_out == 4 and not ledger.drops
    assert ledger.stats["audio_errors"] == {"audio_empty": 1, "audio_missing": 1}
    assert Ledger.read(ledger_path(out)).balanced


def test_shards_partition_the_items_and_limit_comes_first(tmp_path, mmau_source):
    uids = []
    for shard in range(3):
        _, rows, _ = convert("mmau_test_mini", mmau_source, tmp_path, shard, 3)
        uids += [r["uid"] for r in rows]
    assert sorted(uids) == sorted(f"mmau_test_mini/uuid-{i}" for i in range(4))
    limited = []
    for shard in range(3):
        _, rows, _ = convert("mmau_test_mini", mmau_source, tmp_path, shard, 3, limit=2)
        limited += [r["index"] for r in rows]
    assert sorted(limited) == [0, 1]


def test_shard_schema_is_the_benchmark_schema(tmp_path, mmau_source):
    import pyarrow.parquet as pq

    _, _, out = convert("mmau_test_mini", mmau_source, tmp_path)
    assert pq.read_schema(out).remove_metadata().equals(BENCHMARK_SCHEMA, check_metadata=False)


def test_mmar(tmp_path):
    src = tmp_path / "mmar"
    src.mkdir()
    meta = [
        {
            "id": "f0Vch_00-11-10_00-11-30",
            "audio_path": "./audio/f0Vch_00-11-10_00-11-30.wav",
            "question": "How many speakers?",
            "choices": ["1", "2", "3"],
            "answer": "2",
            "modality": "mix-sound-speech",
            "category": "Perception Layer",
            "sub-category": "Counting",
            "language": None,
            "source": "youtube",
            "url": "https://youtube.com/x",
            "timestamp": "00:11:10,00:11:30",
        },
    ]
    (src / "MMAR-meta.json").write_text(json.dumps(meta))
    write_clip(src / "audio" / "f0Vch_00-11-10_00-11-30.wav")
    _, rows, _ = convert("mmar", src, tmp_path)
    (row,) = rows
    assert row["category"] == "mix-sound-speech" and row["choices"] == ["1", "2", "3"]
    assert row["audio_error"] is None and row["answer"] == "2"
    assert json.loads(row["fields"])["category"] == "Perception Layer"


def test_mmsu(tmp_path):
    src = tmp_path / "mmsu"
    (src / "question").mkdir(parents=True)
    lines = [
        {
            "id": "code_switch_question_answering_abc",
            "task_name": "code_switch_question_answering",
            "audio_path": "/audio/code_switch_question_answering_abc.wav",
            "question": "Q?",
            "choice_a": "Yes",
            "choice_b": "No",
            "choice_c": "Maybe",
            "choice_d": 4,
            "answer_gt": 4,
            "category": "Reasoning",
            "sub-category": "Linguistics",
            "sub-sub-category": "Semantics",
            "linguistics_sub_discipline": "Semantics",
        },
        {
            "id": "emotion_xyz",
            "task_name": "emotion",
            "audio_path": "/audio/emotion_xyz.wav",
            "question": "Q2?",
            "choice_a": "happy",
            "choice_b": "sad",
            "answer_gt": "sad",
            "category": "Perception",
            "sub-category": "Paralinguistics",
            "sub-sub-category": "Emotion",
            "linguistics_sub_discipline": None,
        },
    ]
    (src / "question" / "mmsu.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    write_clip(src / "audio" / "code_switch_question_answering_abc.wav")
    write_clip(src / "audio" / "emotion_xyz.wav")
    _, rows, _ = convert("mmsu", src, tmp_path)
    by_id = {r["id"]: r for r in rows}
    first = by_id["code_switch_question_answering_abc"]
    assert first["choices"] == ["Yes", "No", "Maybe", "4"] and first["answer"] == "4"
    assert first["category"] == "Reasoning" and first["audio_error"] is None
    assert json.loads(first["fields"])["choices"] == ["Yes", "No", "Maybe", 4]
    assert by_id["emotion_xyz"]["choices"] == ["happy", "sad"]


def test_airbench_flac_grounding_null_choice_crop_and_repeated_ids(tmp_path):
    src = tmp_path / "airbench"
    meta = [
        {
            "path": "ground_1.wav",
            "task_name": "Audio_Grounding",
            "dataset_name": "AudioGrounding",
            "uniq_id": 5973,
            "question": "When?",
            "choice_a": "[0.0, 1.0]",
            "choice_b": "[2.0, 3.0]",
            "answer_gt": "[0.0, 1.0]",
            "answer_gt_word": "dog",
        },
        {
            "path": "long.mp3",
            "task_name": "Sound_AQA",
            "dataset_name": "clothoaqa",
            "uniq_id": 12,
            "question": "What?",
            "choice_a": "rain",
            "choice_b": "wind",
            "choice_c": None,
            "answer_gt": "rain",
        },
        {
            "path": "gone.wav",
            "task_name": "Sound_AQA",
            "dataset_name": "avqa",
            "uniq_id": 12,
            "question": "Where?",
            "choice_a": "a",
            "choice_b": "b",
            "choice_c": "c",
            "choice_d": "d",
            "answer_gt": "d",
        },
    ]
    (src / "Foundation").mkdir(parents=True)
    (src / "Foundation" / "Foundation_meta.json").write_text(json.dumps(meta))
    write_clip(
        src / "Foundation" / "Audio_Grounding_AudioGrounding" / "ground_1.flac",
        sr=44100,
        channels=2,
        fmt="FLAC",
    )
    # A 70 s stereo MP3: cropped to its first 60 s, mono, 16 kHz.
    write_clip(
        src / "Foundation" / "Sound_AQA_clothoaqa" / "long.mp3",
        seconds=70,
        sr=22050,
        channels=2,
        fmt="MP3",
    )
    _, rows, _ = convert("airbench_foundation", src, tmp_path)
    by_index = {r["index"]: r for r in rows}
    grounding = by_index[0]
    assert grounding["id"] == "5973" and grounding["category"] == "Audio_Grounding"
    assert grounding["audio_error"] is None
    info = sf.info(io.BytesIO(grounding["audio"]))
    assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "FLOAT")
    assert info.frames == pytest.approx(0.5 * 16000, abs=2)
    long = by_index[1]
    assert long["choices"] == ["rain", "wind", "None"]  # null option, as the authors build it
    info = sf.info(io.BytesIO(long["audio"]))
    assert (info.samplerate, info.channels, info.frames) == (16000, 1, 60 * 16000)
    # uniq_id 12 repeats: both items stay, told apart by their index.
    assert (long["id"], by_index[2]["id"]) == ("12@1", "12@2")
    assert by_index[2]["audio_error"].startswith("audio_missing:")
    assert json.loads(by_index[0]["fields"])["answer_gt_word"] == "dog"


def test_synthetic(tmp_path):
    src = tmp_path / "synthetic"
    lines = [
        {
            "file": "audio/bench_0000.wav",
            "unique_id_1": "bench_0000",
            "unique_id_2": "speech",
            "question": "What is the gender of the speaker?",
            "choices": ["Male", "Female"],
            "answer": "Female",
            "category": "speech",
            "sub-category": "gender recognition",
        },
        {
            "file": "audio/bench_0001.flac",
            "unique_id_1": "bench_0001",
            "unique_id_2": "sound",
            "question": "How many times?",
            "choices": ["1", "2", "3", "4"],
            "answer": "3",
            "category": "sound",
            "sub-category": "event counting",
        },
    ]
    (src / "benchmark").mkdir(parents=True)
    (src / "benchmark" / "metadata.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    write_clip(src / "benchmark" / "audio" / "bench_0000.wav")
    (src / "benchmark" / "audio" / "bench_0001.flac").write_bytes(b"not audio at all" * 4)
    _, rows, _ = convert("synthetic", src, tmp_path)
    by_id = {r["id"]: r for r in rows}
    assert by_id["bench_0000"]["uid"] == "synthetic/bench_0000"
    assert by_id["bench_0000"]["category"] == "speech" and by_id["bench_0000"]["answer"] == "Female"
    assert by_id["bench_0001"]["audio_error"].startswith("audio_undecodable:")


def test_unknown_benchmark(tmp_path):
    with pytest.raises(ValueError, match="unknown benchmark"):
        convert_shard("nope", tmp_path, 0, 1, None, tmp_path / "x.parquet")
