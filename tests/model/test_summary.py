import json
import subprocess
import sys

import pytest

from alarm.config import model_spec
from alarm.model.summary import model_summary
from alarm.specs import with_paths


# Trainable parameters of the reference architecture (model-training.md §10), in millions.
def summary_of(config, model):
    """The meta-device summary, as the rule runs it for hub roles (no local networks)."""
    return model_summary([with_paths(model_spec(config, model), {}, complete=False)])


PAPER = {
    "al_whisper_r": 18.63,
    "al_w2vbert2_r": 17.32,
    "al_sslam_r": 18.11,
    "al_muq_r": 4.73,
    "alarm_ca": 63.51,
    "alarm_p": 81.23,
}


@pytest.mark.parametrize(("model", "millions"), PAPER.items())
def test_paper_trainable_counts(paper_config, model, millions):
    summary = summary_of(paper_config, model)
    assert round(summary["trainable"] / 1e6, 2) == millions
    assert summary["audio_tokens_per_second"] == 25.0


def test_alarm_ca_frozen_adapters_and_p_prefix(paper_config):
    ca = summary_of(paper_config, "alarm_ca")
    frozen_adapters = sum(v["frozen"] for k, v in ca["modules"].items() if k.startswith("adapter."))
    assert round(frozen_adapters / 1e6, 2) == 58.76
    p = summary_of(paper_config, "alarm_p")
    assert p["fixed_audio_tokens"] == 64  # 60 latents, 2 condition vectors, 2 audio separators
    assert round(p["modules"]["adapter.whisper"]["frozen"] / 1e6, 2) == 18.63
    assert round(p["modules"]["llm"]["frozen"] / 1e9, 2) == 4.02  # Qwen3-4B, tied embeddings


def test_command_line_json(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "alarm.cli",
            "model-summary",
            "--configfile",
            "config/paper.yaml",
            "--model",
            "alarm_e",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    summary = json.loads(out)
    assert {"trainable", "frozen", "modules"} <= set(summary)
    assert summary["audio_tokens_per_second"] == 50.0  # ALARM-E concatenates two 25 Hz streams
