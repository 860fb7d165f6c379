"""Shared fixtures: tiny random models built from the default configuration's specs."""

from __future__ import annotations

import copy
import os
import shutil
from pathlib import Path

import pytest

from alarm.config import load_config

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _threads_restored():
    """A test that runs a stage in this process (``alarm.cli.main``) sets its threads for
    the process (``use_threads``); the next test gets the threads and variables it found,
    so no test's result depends on the tests before it."""
    import torch

    from alarm.cli import THREAD_VARIABLES

    saved = {v: os.environ.get(v) for v in THREAD_VARIABLES}
    threads = torch.get_num_threads()
    yield
    for variable, value in saved.items():
        if value is None:
            os.environ.pop(variable, None)
        else:
            os.environ[variable] = value
    torch.set_num_threads(threads)


@pytest.fixture
def installed():
    """installed("7z", ...): a test that needs programs `make` installs (APT_PACKAGES)
    fails naming the missing one, instead of being skipped."""

    def check(*tools: str) -> None:
        missing = [tool for tool in tools if shutil.which(tool) is None]
        if missing:
            pytest.fail(f"not installed: {', '.join(missing)}; run `make` (APT_PACKAGES)")

    return check


@pytest.fixture(scope="session")
def default_config() -> dict:
    return load_config([REPO / "config" / "config.yaml"])


@pytest.fixture(scope="session")
def paper_config() -> dict:
    return load_config([REPO / "config" / "paper.yaml"])


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory, default_config) -> Path:
    """Every pretrained role of the default config as a tiny random model (no format fit)."""
    from alarm.tiny.models import make_tiny_model

    root = tmp_path_factory.mktemp("pretrained")
    for role, spec in default_config["pretrained"].items():
        tiny = {k: v for k, v in spec["tiny"].items() if k != "format_fit"}
        make_tiny_model(tiny, root / role, seed=0, n_candidates=5)
    return root


@pytest.fixture(scope="session")
def pretrained_dirs(tiny_models, default_config) -> dict[str, str]:
    """ROLE -> directory for every pretrained role: what rules pass as --pretrained."""
    return {role: str(tiny_models / role) for role in default_config["pretrained"]}


@pytest.fixture
def config_with_models(default_config):
    """A copy of the default config that a test may change."""
    return copy.deepcopy(default_config)


@pytest.fixture
def model_settings(pretrained_dirs):
    """model_settings(config, model, init=None): a model's ModelSpec with the tiny networks'
    paths, as a job builds it."""
    from alarm.config import model_spec
    from alarm.specs import with_paths

    def make(config, model, init=None):
        return with_paths(model_spec(config, model), pretrained_dirs, init)

    return make
