"""Shared fixtures: tiny random models built from the default configuration's specs."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from alarm.config import load_config

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def default_config() -> dict:
    return load_config([REPO / "config" / "config.yaml"])


@pytest.fixture(scope="session")
def paper_config() -> dict:
    return load_config([REPO / "config" / "paper.yaml"])


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory, default_config) -> Path:
    """Every pretrained role of the default config as a tiny random model (no format fit)."""
    from alarm.model.tiny import make_tiny_model

    root = tmp_path_factory.mktemp("pretrained")
    for role, spec in default_config["pretrained"].items():
        tiny = {k: v for k, v in spec["tiny"].items() if k != "format_fit"}
        make_tiny_model(tiny, root / role, seed=0, n_candidates=5)
    return root


@pytest.fixture
def config_with_models(default_config, tiny_models):
    """The default config whose pretrained paths point at the session's tiny models."""
    import alarm.config

    config = copy.deepcopy(default_config)
    original = alarm.config.pretrained_path
    alarm.config.pretrained_path = lambda config, role: str(tiny_models / role)
    yield config
    alarm.config.pretrained_path = original
