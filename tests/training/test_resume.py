"""A training run killed at any point and restarted ends with the same weights, bit for bit."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from safetensors.torch import load_file
from training_helpers import train_model_args

from alarm.training.loop import train

pytestmark = pytest.mark.slow


def _command(settings_file, corpus, run_dir, model, files):
    """`alarm train-model` as the rule runs it."""
    settings = json.loads(settings_file.read_text())
    knobs = {k: settings["training"].pop(k) for k in ("checkpoint_every", "num_workers")}
    args = train_model_args(
        model, corpus, run_dir, files["pretrained"], settings, knobs, files["init"]
    )
    return [sys.executable, "-m", "alarm.cli", *args]


def _step(run_dir):
    progress = run_dir / "checkpoint" / "progress.json"
    return json.loads(progress.read_text())["step"] if progress.exists() else 0


def test_kill_and_restart_gives_the_uninterrupted_weights(
    train_settings, tiny_corpus, pretrained_dirs, tmp_path
):
    # ALARM-CA: frozen loaded adapters, BatchNorm, and dropout (so RNG state matters).
    init = {}
    for single, enc in (
        ("al_whisper_r", "whisper"),
        ("al_w2vbert2_r", "w2vbert"),
        ("al_muq_r", "muq"),
        ("al_sslam_r", "sslam"),
    ):
        train(
            *train_settings(single, max_steps=1),
            str(tiny_corpus / "train.parquet"),
            str(tiny_corpus / "validation.parquet"),
            str(tmp_path / single),
        )
        init[enc] = str(tmp_path / single / "adapter.safetensors")
    model, training, categories = train_settings("alarm_ca", init, max_steps=8, checkpoint_every=2)
    settings = {"model": model.to_dict(), "training": training.to_dict(), "datasets": categories}
    settings_file = tmp_path / "settings.json"
    settings_file.write_text(json.dumps(settings))
    files = {"pretrained": pretrained_dirs, "init": init}

    reference = tmp_path / "reference"
    subprocess.run(
        _command(settings_file, tiny_corpus, reference, "alarm_ca", files),
        check=True,
        capture_output=True,
    )

    interrupted = tmp_path / "interrupted"
    process = subprocess.Popen(
        _command(settings_file, tiny_corpus, interrupted, "alarm_ca", files),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 300
    while _step(interrupted) < 4 and process.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)  # no chance to clean up, as an OOM kill or node loss
    process.wait()
    assert 4 <= _step(interrupted) < 8 and not (interrupted / "adapter.safetensors").exists()

    resumed = subprocess.run(
        _command(settings_file, tiny_corpus, interrupted, "alarm_ca", files),
        capture_output=True,
        text=True,
        check=True,
    )
    assert "resuming from step" in resumed.stderr
    expected = load_file(str(reference / "adapter.safetensors"))
    actual = load_file(str(interrupted / "adapter.safetensors"))
    assert expected.keys() == actual.keys()
    assert all((expected[k] == actual[k]).all() for k in expected)
    assert json.loads((interrupted / "metrics.json").read_text())["steps"] == 8
