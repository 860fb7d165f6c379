"""The report: the paper's tables with our rows, training and corpus tables, the radar."""

import json

import pytest

from alarm.benchmarks.score import score_records
from alarm.report import build_report, load_scores
from alarm.report.paper_results import MMAR, MMAU_TEST, MMAU_TEST_MINI, MMSU
from alarm.report.radar import radar_series

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def rec(category, correct, fields, choices=("Dog", "Cat"), fallback=False):
    """A scored record; under the authors' rule, ``fallback``: its answer was option 0."""
    return {
        "audio_error": None,
        "choices": list(choices),
        "answer": "Dog",
        "category": category,
        "fields": json.dumps(fields),
        "prediction": "Dog" if correct else "Cat",
        "response": "...",
        "fallback": fallback,
    }


def write_scores(root, benchmark, model, records, rule="alarm-parity"):
    path = root / "results" / "benchmarks" / benchmark / model / rule / "scores.json"
    path.parent.mkdir(parents=True)
    if rule == "clean":  # no option-0 fallback in the clean rule
        records = [{k: v for k, v in r.items() if k != "fallback"} for r in records]
    path.write_text(json.dumps(score_records(benchmark, records, rule)))
    return path


def mmsu_records():
    f = {"sub-category": "Linguistics", "task_name": "t"}
    # Perception 1/2 = 50.0, Reasoning 3/4 = 75.0, overall 4/6 = 66.7; option 0 (right
    # here) was the fallback for one Perception and one Reasoning item
    return [rec("Perception", ok, f, fallback=ok) for ok in (True, False)] + [
        rec("Reasoning", ok, f, fallback=i == 0) for i, ok in enumerate((True, True, True, False))
    ]


def airbench_records():
    return [
        rec(task, ok, {"task_name": task, "dataset_name": "d"})
        for task, ok in [
            ("Sound_AQA", True),
            ("Music_AQA", False),
            ("Speaker_Age_Prediction", True),
        ]
    ]


@pytest.fixture
def inputs(tmp_path):
    mmau_fields = {"difficulty": "easy", "sub-category": "S"}
    scores = [
        write_scores(tmp_path, "mmsu", "alarm_e", mmsu_records()),
        write_scores(
            tmp_path, "mmsu", "alarm_e", [rec("Perception", True, {"task_name": "t"})], "clean"
        ),
        write_scores(
            tmp_path,
            "mmau_test_mini",
            "alarm_e",
            [rec(t, True, mmau_fields) for t in ("sound", "music", "speech")],
        ),
        write_scores(tmp_path, "airbench_foundation", "alarm_e", airbench_records()),
        write_scores(tmp_path, "airbench_foundation", "al_muq_r", airbench_records()[:2]),
        write_scores(
            tmp_path,
            "synthetic",
            "alarm_e",
            [rec("speech", True, {"sub-category": "gender recognition"})],
        ),
    ]
    metrics = []
    for model, loss in [("alarm_e", 1.25), ("al_muq_r", 2.5)]:
        path = tmp_path / "results" / "models" / model / "metrics.json"
        path.parent.mkdir(parents=True)
        path.write_text(
            json.dumps(
                {
                    "model": model,
                    "initial_val_loss": 3.0,
                    "final_val_loss": loss,
                    "steps": 1200,
                    "trainable_params": 1234567,
                    "samples_per_second": 42.5,
                }
            )
        )
        metrics.append(path)
    stats = tmp_path / "stats.json"
    stats.write_text(
        json.dumps(
            {
                "table1": {
                    group: {
                        split: {"elements": n, "hours": n / 20, "unique_prompts": n // 2}
                        for split, n in (("total", 12), ("train", 10), ("validation", 2))
                    }
                    for group in ("Speech", "Total")
                },
                "datasets": ["speech_set"],
                "drops": {
                    "Speech": {
                        "collect": {"rows_in": 14, "dropped": {"audio_empty": 2}},
                        "answer_length_filter": {
                            "rows_in": 12,
                            "dropped": {},
                            "flagged": {"answer_length": 3},
                        },
                    },
                    "Total": {"corpus_index": {"rows_in": 12, "dropped": {}}},
                },
            }
        )
    )
    return scores, metrics, stats


def test_report_has_our_rows_beside_the_reported_ones(tmp_path, inputs):
    scores, metrics, stats = inputs
    md, radar = tmp_path / "report" / "report.md", tmp_path / "report" / "radar.png"
    build_report(scores, metrics, stats, md, radar)
    text = md.read_text()
    lines = text.splitlines()
    # Table 3 under the authors' rule: our ALARM-E row, then the paper's.
    assert "## MMSU (Table 3), extraction: alarm-parity, the authors' rule" in lines
    assert "| ALARM-E | 50.0 | 75.0 | 66.7 | 0.0 |" in lines
    assert "| ALARM-E (reported) | 45.4 | 78.3 | 61.3 | – |" in lines
    assert "| ALARM-P (reported) | 38.4 | 74.2 | 55.8 | – |" in lines
    # Table 5: test-mini ours, test not scored; the reported row has both and MMAR.
    assert "| ALARM-E | 100.0 / – | 100.0 / – | 100.0 / – | 100.0 / – | – | 0.0 / – / – |" in lines
    assert (
        "| ALARM-E (reported) | 64.0 / 59.1 | 54.8 / 54.2 | 77.2 / 73.7 | 65.3 / 62.4 | 48.7 | – |"
        in lines
    )
    muq = (
        "| AL-MuQ-R (reported) | 50.5 / 49.1 | 53.9 / 53.3 | 40.8 / 43.1 | 48.4 / 48.5 | 36.0 | – |"
    )
    assert muq in lines
    # AIR-Bench per task, models as columns, with the none share.
    assert "| task_name | n | AL-MuQ-R | ALARM-E |" in lines
    assert "| Speaker_Age_Prediction | 1 | – | 100.0 |" in lines
    assert "| None % | – | 0.0 | 0.0 |" in lines
    # How often the authors' rule fell back to option 0, and how often that was right.
    assert "| mmsu | all | – | 2/6 |" in lines
    assert "| mmsu | category: Perception | – | 1/2, 1 right |" in lines
    assert "| mmsu | category: Reasoning | – | 1/4, 1 right |" in lines
    assert "| airbench_foundation | task_name: Music_AQA | 0/1, 0 right | 0/1, 0 right |" in lines
    # The clean rule's scores: a table of their own, without the paper's rows.
    clean = text[text.index("## Extraction: clean (ours)") : text.index("## All scores")]
    assert "| ALARM-E | 100.0 | – | 100.0 | 0.0 |" in clean and "(reported)" not in clean
    assert (
        "| mmsu | ALARM-E | clean | 100.0 |" in text
        and "| mmsu | ALARM-E | alarm-parity | 66.7 |" in text
    )
    # Training and corpus tables.
    assert "| ALARM-E | 3.0000 | 1.2500 | 1,200 | 1,234,567 | 42.5000 |" in lines
    assert "| audio type | # elements | # hours | # unique prompts |" in lines
    assert "| Speech | 12 / 10 / 2 | 0.6000 / 0.5000 / 0.1000 | 6 / 5 / 1 |" in lines
    assert (
        "| Total | 6.08M / 5.49M / 0.56M | 18.89K / 17.03K / 1.78K | 2.49M / 2.3M / 0.26M |"
        in lines
    )
    # Beside Table 1: what each corpus stage dropped, per audio type.
    assert "| Speech | collect | 14 | 2 | 14.3 | audio_empty 2 | – |" in lines
    # and what it kept that the stricter setting would have dropped
    assert "| Speech | answer_length_filter | 12 | 0 | 0.0 | – | answer_length 3 |" in lines
    assert "| Total | corpus_index | 12 | 0 | 0.0 | – | – |" in lines
    assert radar.read_bytes().startswith(PNG_SIGNATURE)


def test_reported_rows_appear_even_without_our_scores(tmp_path, inputs):
    _, metrics, stats = inputs
    only_synthetic = [
        write_scores(
            tmp_path / "other",
            "synthetic",
            "alarm_p",
            [rec("music", False, {"sub-category": "timbre"})],
        )
    ]
    md, radar = tmp_path / "r.md", tmp_path / "r.png"
    build_report(only_synthetic, metrics, stats, md, radar)
    text = md.read_text()
    assert "| ALARM-E (reported) | 45.4 | 78.3 | 61.3 | – |" in text
    assert "MMSU was not scored in this run" in text
    assert "| timbre | 1 | 0.0 |" in text
    assert radar.read_bytes().startswith(PNG_SIGNATURE)


def test_radar_prefers_airbench_and_falls_back_to_synthetic(inputs):
    scores, _, _ = inputs
    loaded = load_scores(scores)
    title, series = radar_series(loaded["alarm-parity"])
    assert title.startswith("AIR-Bench Foundation")
    assert list(series) == ["al_muq_r", "alarm_e"]  # the paper's model order
    assert series["alarm_e"] == {
        "Music_AQA": 0.0,
        "Sound_AQA": 100.0,
        "Speaker_Age_Prediction": 100.0,
    }
    del loaded["alarm-parity"]["airbench_foundation"]
    title, series = radar_series(loaded["alarm-parity"])
    assert title.startswith("Synthetic benchmark") and "AIR-Bench was not scored" in title
    assert series == {"alarm_e": {"gender recognition": 100.0}}


def test_paper_numbers():
    assert MMSU["alarm_e"] == {"perception": 45.4, "reasoning": 78.3, "overall": 61.3}
    assert MMAU_TEST_MINI["alarm_ca"] == {
        "sound": 66.4,
        "music": 57.2,
        "speech": 60.1,
        "mean": 61.2,
    }
    assert MMAU_TEST["alarm_e"] == {"sound": 59.1, "music": 54.2, "speech": 73.7, "mean": 62.4}
    assert MMAR["al_whisper_instruct_r"] == {"overall": 49.1}
    assert (
        set(MMAU_TEST_MINI)
        == set(MMAR)
        == {
            "al_whisper_instruct_r",
            "al_w2vbert2_r",
            "al_muq_r",
            "al_sslam_r",
            "al_whisper_r",
            "alarm_ca",
            "alarm_p",
            "alarm_e",
        }
    )
