"""Scorers on small hand-made records, and score_benchmark end to end on response shards."""

import json

import pytest

from alarm.benchmarks.schema import RESPONSE_SCHEMA
from alarm.benchmarks.score import score_benchmark, score_records
from alarm.files import write_shard

FOUR = ["Dog", "Cat", "Bird", "Car"]


def record(category, answer, prediction, *, choices=FOUR, response="...", fields=None, index=0):
    return {
        "uid": f"b/{index}",
        "id": str(index),
        "index": index,
        "audio_error": None if response is not None else "audio_missing: x.wav does not exist",
        "question": "Q?",
        "choices": choices,
        "answer": answer,
        "category": category,
        "fields": json.dumps(fields or {}),
        "prediction": prediction,
        "response": response,
    }


def test_mmau_tasks_mean_difficulty_and_counts():
    f = {"difficulty": "easy", "sub-category": "Counting"}
    records = [
        record("sound", "Dog", "Dog", fields=f),
        record("sound", "Dog", "Cat", fields=f | {"difficulty": "hard"}),
        record("music", "Bird", None, fields=f),  # answered nothing parsable
        record("speech", "Car", None, response=None, fields=f),  # no response at all
        record("speech", "Car", "Car", fields=f),
        # identical token sets are credited, as the official rule does
        record(
            "speech",
            "From far to near",
            "From near to far",
            choices=["From far to near", "From near to far"],
            fields=f,
        ),
    ]
    s = score_records("mmau_test_mini", records, "clean")
    assert s["n_items"] == 6
    assert s["n_no_response"] == 1 and s["n_no_answer"] == 1 and s["n_audio_error"] == 1
    assert s["none_share"] == pytest.approx(100 / 3)
    task = s["breakdowns"]["task"]
    assert task["sound"]["accuracy"] == 50.0
    assert task["music"]["accuracy"] == 0.0 and task["music"]["n_none"] == 1
    assert task["speech"]["accuracy"] == pytest.approx(200 / 3)
    # The paper's Mean is the mean of the three task accuracies, not the micro total.
    assert s["overall"] == s["mean"] == pytest.approx((50 + 0 + 200 / 3) / 3, abs=0.01)
    assert s["micro"] == 50.0
    assert s["breakdowns"]["difficulty"]["hard"] == {
        "n": 1,
        "n_none": 0,
        "correct": 0,
        "none_share": 0.0,
        "accuracy": 0.0,
    }
    assert s["breakdowns"]["sub-category"]["Counting"]["n"] == 6


def test_mmar_breakdowns():
    records = [
        record("speech", "Dog", "Dog", fields={"category": "Semantic Layer", "sub-category": "A"}),
        record(
            "mix-sound-speech",
            "Dog",
            "Cat",
            fields={"category": "Signal Layer", "sub-category": "B"},
        ),
        record("speech", "Dog", "dog", fields={"category": "Signal Layer", "sub-category": "B"}),
    ]
    s = score_records("mmar", records, "clean")
    assert s["overall"] == pytest.approx(200 / 3)
    assert s["breakdowns"]["modality"]["speech"]["accuracy"] == 100.0
    assert s["breakdowns"]["modality"]["mix-sound-speech"]["accuracy"] == 0.0
    assert s["breakdowns"]["category"]["Signal Layer"]["accuracy"] == 50.0
    assert s["breakdowns"]["sub-category"]["A"]["n"] == 1


def test_mmsu_exact_equality_and_micro_overall():
    lp = {"sub-category": "Linguistics", "task_name": "t1"}
    pp = {"sub-category": "Paralinguistics", "task_name": "t2"}
    records = [
        record("Perception", "Yes\n", "Yes", choices=["Yes", "No"], fields=lp),  # stripped
        record("Perception", "Dog", "dog", fields=pp),  # case matters
        record("Perception", "Dog", None, fields=pp),
        record("Reasoning", "Cat", "Cat", fields=lp),
    ]
    s = score_records("mmsu", records, "clean")
    cat = s["breakdowns"]["category"]
    assert cat["Perception"]["accuracy"] == pytest.approx(100 / 3)
    assert cat["Reasoning"]["accuracy"] == 100.0
    assert s["overall"] == 50.0  # micro, not the mean of the two categories (66.67)
    assert s["breakdowns"]["sub-category"]["Perception/Paralinguistics"]["accuracy"] == 0.0
    assert s["breakdowns"]["task_name"]["t1"]["accuracy"] == 100.0


def test_airbench_task_ids_and_parity_none_rule():
    choices = ["Dog", "Cat", "None"]  # a null choice_c becomes "None"
    records = [
        record(
            "Sound_AQA", "Dog", "Dog", fields={"task_name": "Sound_AQA", "dataset_name": "avqa"}
        ),
        record(
            "Sound_AQA",
            "Dog",
            "None",
            choices=choices,
            fields={"task_name": "Sound_AQA", "dataset_name": "clothoaqa"},
        ),
        record(
            "Music_AQA",
            "Cat",
            "Dog",
            fields={"task_name": "Music_AQA", "dataset_name": "music_avqa"},
        ),
    ]
    clean = score_records("airbench_foundation", records, "clean")
    assert clean["breakdowns"]["task_id"]["Sound_AQA_avqa"]["accuracy"] == 100.0
    assert clean["breakdowns"]["task_id"]["Sound_AQA_clothoaqa"]["accuracy"] == 0.0
    assert clean["breakdowns"]["task_name"]["Sound_AQA"]["accuracy"] == 50.0
    assert clean["overall"] == pytest.approx(100 / 3)
    parity = score_records("airbench_foundation", records, "alarm-parity")
    # The authors' scorer turns "None" into the first option, which is the answer here.
    assert parity["breakdowns"]["task_id"]["Sound_AQA_clothoaqa"]["accuracy"] == 100.0
    assert parity["overall"] == pytest.approx(200 / 3)


def test_synthetic_breakdowns():
    records = [
        record(
            "speech",
            "Male",
            "Male",
            choices=["Male", "Female"],
            fields={"sub-category": "gender recognition"},
        ),
        record(
            "sound",
            "3",
            "2",
            choices=["1", "2", "3", "4"],
            fields={"sub-category": "event counting"},
        ),
    ]
    s = score_records("synthetic", records, "clean")
    assert s["overall"] == 50.0
    assert s["breakdowns"]["category"]["speech"]["accuracy"] == 100.0
    assert s["breakdowns"]["sub-category"]["event counting"]["accuracy"] == 0.0


def test_mmau_test_reports_counts_only():
    records = [record("sound", "", "Dog"), record("music", "", None)]
    s = score_records("mmau_test", records, "clean")
    assert s["overall"] is None
    assert s["breakdowns"]["task"]["music"] == {"n": 1, "n_none": 1, "none_share": 100.0}
    assert s["none_share"] == 50.0


def _response_row(benchmark, index, answer, choices, response, category, fields):
    return {
        "uid": f"{benchmark}/{fields.get('id', index)}",
        "benchmark": benchmark,
        "id": str(fields.get("id", index)),
        "index": index,
        "audio": b"",
        "audio_error": None,
        "question": "What is it?",
        "choices": choices,
        "answer": answer,
        "category": category,
        "fields": json.dumps(fields),
        "response": response,
    }


def _write_responses(tmp_path, benchmark, rows):
    # Two shards, rows deliberately out of order: scoring restores the metadata order.
    paths = [tmp_path / "r" / "00000.parquet", tmp_path / "r" / "00001.parquet"]
    write_shard(rows[1::2], paths[0], RESPONSE_SCHEMA)
    write_shard(rows[0::2], paths[1], RESPONSE_SCHEMA)
    return paths


def test_score_benchmark_writes_scores_and_official_predictions(tmp_path):
    f = {"difficulty": "easy", "sub-category": "S"}
    rows = [
        _response_row(
            "mmau_test_mini",
            0,
            "Dog",
            FOUR,
            "x</think><answer>0</answer>",
            "sound",
            f | {"id": "u0", "answer": "Dog"},
        ),
        _response_row(
            "mmau_test_mini",
            1,
            "Cat",
            FOUR,
            "x</think><answer>B</answer>",
            "music",
            f | {"id": "u1", "answer": "Cat"},
        ),
        _response_row(
            "mmau_test_mini",
            2,
            "Bird",
            FOUR,
            "</think>no idea",
            "speech",
            f | {"id": "u2", "answer": "Bird"},
        ),
        _response_row(
            "mmau_test_mini", 3, "Car", FOUR, None, "speech", f | {"id": "u3", "answer": "Car"}
        ),
    ]
    paths = _write_responses(tmp_path, "mmau_test_mini", rows)
    scores_out, preds_out = tmp_path / "scores.json", tmp_path / "predictions.json"
    scores = score_benchmark("mmau_test_mini", paths, scores_out, preds_out, "clean")
    on_disk = json.loads(scores_out.read_text())
    assert on_disk == scores
    assert {"benchmark", "extraction", "n_items", "none_share", "overall", "breakdowns"} <= set(
        on_disk
    )
    assert on_disk["benchmark"] == "mmau_test_mini" and on_disk["extraction"] == "clean"
    assert (on_disk["n_items"], on_disk["n_no_response"], on_disk["n_no_answer"]) == (4, 1, 1)
    assert on_disk["breakdowns"]["task"]["sound"]["accuracy"] == 100.0
    assert on_disk["breakdowns"]["task"]["music"]["accuracy"] == 100.0
    preds = json.loads(preds_out.read_text())
    assert [p["id"] for p in preds] == ["u0", "u1", "u2", "u3"]
    assert [p["model_prediction"] for p in preds] == ["Dog", "Cat", "", ""]
    assert preds[1]["model_output"] == "Cat" and preds[1]["difficulty"] == "easy"

    assert "n_fallback" not in on_disk  # the clean rule has no fallback

    parity = score_benchmark("mmau_test_mini", paths, scores_out, preds_out, "alarm-parity")
    # "B" and "no idea" fall back to option 0 ("Dog"): music wrong, speech's "Bird" wrong.
    assert parity["breakdowns"]["task"]["music"]["accuracy"] == 0.0
    assert parity["n_no_answer"] == 0 and parity["n_no_response"] == 1
    # Counted per task and overall; no response is no fallback.
    assert (parity["n_fallback"], parity["fallback_share"]) == (2, 50.0)
    music, speech = (parity["breakdowns"]["task"][t] for t in ("music", "speech"))
    assert (music["n_fallback"], music["fallback_correct"]) == (1, 0)
    assert (speech["n_fallback"], speech["fallback_correct"]) == (1, 0)


def test_mmsu_predictions_carry_a_letter_response(tmp_path):
    rows = [
        _response_row(
            "mmsu",
            i,
            "Cat",
            FOUR,
            resp,
            "Reasoning",
            {"id": f"m{i}", "sub-category": "Linguistics", "task_name": "t"},
        )
        for i, resp in enumerate(["</think><answer>1</answer>", "</think>???"])
    ]
    paths = _write_responses(tmp_path, "mmsu", rows)
    score_benchmark("mmsu", paths, tmp_path / "s.json", tmp_path / "p.json", "clean")
    preds = json.loads((tmp_path / "p.json").read_text())
    assert [p["response"] for p in preds] == ["B", "N/A"]
    assert preds[0]["model_prediction"] == "Cat"


def test_predictions_are_the_original_records_with_the_prediction_as_json_and_jsonl(tmp_path):
    # MMAU-Eval takes the test records with model_prediction; MMSU's and AIR-Bench's
    # official scorers read one record per line.
    rows = [
        _response_row("mmau_test", i, "", FOUR, resp, "sound", {"id": f"t{i}", "audio_id": a})
        for i, (resp, a) in enumerate([("</think><answer>2</answer>", "x.wav"), (None, "y.wav")])
    ]
    paths = _write_responses(tmp_path, "mmau_test", rows)
    preds_out = tmp_path / "predictions.json"
    scores = score_benchmark("mmau_test", paths, tmp_path / "s.json", preds_out, "clean")
    assert scores["overall"] is None
    predictions = json.loads(preds_out.read_text())
    assert [(p["id"], p["audio_id"], p["model_prediction"]) for p in predictions] == [
        ("t0", "x.wav", "Bird"),
        ("t1", "y.wav", ""),
    ]
    lines = (tmp_path / "predictions.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == predictions


def test_accuracies_are_rounded_once_at_display():
    from alarm.report.tables import fmt

    lp = {"sub-category": "Linguistics", "task_name": "t1"}
    records = [
        record("Perception", "Dog", "Dog" if i < 151 else "Cat", fields=lp, index=i)
        for i in range(333)
    ]
    overall = score_records("mmsu", records, "clean")["overall"]
    assert fmt(overall) == "45.3"  # 45.345...; rounded to 45.35 first it would show 45.4
