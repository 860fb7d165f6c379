"""A training job told its time limit stops before it: every rank after the same step, with
a checkpoint saved and a non-zero exit, so that the rule's retry resumes."""

import json
import socket
import time

import pytest
import torch.multiprocessing as mp
from training_helpers import train_model_args

from alarm.cli import main
from alarm.registry import TRAINING_KNOBS
from alarm.training.loop import STOPPED_EXIT, stop_time, time_is_up


def _train_model(settings, corpus, run_dir, pretrained, *extra):
    """`alarm train-model` in this process, with the arguments the rule passes."""
    model, training, categories = settings
    recipe = training.to_dict()
    knobs = {k: recipe.pop(k) for k in TRAINING_KNOBS}
    given = {"model": model.to_dict(), "training": recipe, "datasets": categories}
    return main(
        train_model_args(model.name, corpus, run_dir, pretrained, given, knobs, None, *extra)
    )


def test_a_run_out_of_time_saves_and_exits_for_the_retry_to_resume(
    train_settings, tiny_corpus, pretrained_dirs, tmp_path, caplog
):
    settings = train_settings(max_steps=3, checkpoint_every=1000)
    with pytest.raises(SystemExit) as stopped:
        # no time left: the run stops after its first step
        _train_model(settings, tiny_corpus, tmp_path, pretrained_dirs, "--time-limit-minutes", "0")
    assert stopped.value.code == STOPPED_EXIT != 0
    assert "stopped at step 1 of 3 before the job's time limit" in caplog.text
    progress = json.loads((tmp_path / "checkpoint" / "progress.json").read_text())
    assert progress["step"] == 1 and not (tmp_path / "adapter.safetensors").exists()

    caplog.clear()
    with caplog.at_level("INFO", logger="alarm.training.checkpoint"):
        assert _train_model(settings, tiny_corpus, tmp_path, pretrained_dirs) == 0
    assert "resuming from step 1" in caplog.text
    assert json.loads((tmp_path / "metrics.json").read_text())["steps"] == 3


def test_the_stop_leaves_a_margin_before_the_limit():
    now = time.monotonic()
    assert stop_time(None) is None
    assert 45 * 60 <= stop_time(60) - now < 45 * 60 + 5  # 15 minutes before
    assert 15 * 60 <= stop_time(20) - now < 15 * 60 + 5  # a quarter of a short limit


def _rank(rank, port, stop_in, answers):
    import os

    os.environ.update(
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        WORLD_SIZE="2",
        LOCAL_WORLD_SIZE="2",
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
    )
    from accelerate import Accelerator

    accelerator = Accelerator(cpu=True)
    now = time.monotonic()
    answers.put(
        (
            rank,
            time_is_up(accelerator, now + stop_in[rank]),  # one rank's time is up
            time_is_up(accelerator, now + 3600),  # no rank's
            time_is_up(accelerator, None),  # no limit
        )
    )


def test_the_ranks_stop_together_when_one_rank_s_time_is_up():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    context = mp.get_context("spawn")
    answers = context.Queue()
    mp.start_processes(_rank, args=(port, [-1.0, 3600.0], answers), nprocs=2, start_method="spawn")
    assert sorted(answers.get(timeout=60) for _ in range(2)) == [
        (0, True, False, False),
        (1, True, False, False),
    ]
