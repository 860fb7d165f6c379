"""Shared fixtures: tiny random models built from the default configuration's specs."""

from __future__ import annotations

import copy
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from alarm.config import load_config

REPO = Path(__file__).resolve().parents[1]


def pytest_configure(config):
    """Under pytest-xdist (`make test` runs two workers) each worker gets its share of the
    cores for the torch work it does in-process: two workers of two threads on two cores
    would spend their time waiting on each other."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        import torch

        torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))


@pytest.fixture(scope="session")
def built_once(tmp_path_factory) -> Callable[[str, Callable[[Path], object]], Path]:
    """built_once(name, build): a directory of this session that ``build`` fills once and
    every pytest-xdist worker shares; the first worker to ask builds it, the others wait."""
    from filelock import FileLock

    root = tmp_path_factory.getbasetemp()
    if "PYTEST_XDIST_WORKER" in os.environ:
        root = root.parent  # the session's base directory, above each worker's own

    def get(name: str, build: Callable[[Path], object]) -> Path:
        path, done, failed = root / name, root / f"{name}.built", root / f"{name}.failed"
        with FileLock(root / f"{name}.lock"):
            if failed.exists():  # one attempt per session: a failed build fails every user
                pytest.fail(f"{name} failed to build in another worker:\n{failed.read_text()}")
            if not done.exists():
                shutil.rmtree(path, ignore_errors=True)
                path.mkdir()
                try:
                    build(path)
                except BaseException as error:
                    failed.write_text(str(error)[-6000:])
                    raise
                done.touch()
        return path

    return get


# The modules that need the default run, longest first (from `make test`'s --durations on
# 2 cores: the vLLM stages ~13 min, SLURM ~11, the vLLM engine and benchmarks ~7, by hand
# ~5, two nodes ~3); modules not named here follow in collection order.
LONGEST_FIRST = [
    "test_vllm_stages.py",
    "test_slurm.py",
    "test_vllm.py",
    "test_by_hand.py",
    "test_multinode.py",
]


def pytest_collection_modifyitems(config, items):
    """For pytest-xdist's ``--dist loadscope`` (`make test`), which runs each module's tests
    in one worker: the longest module that needs the default run goes first, so that one
    worker makes the run (and then goes on with that module) while the other works through
    what does not need it; the other modules that need it go last, longest first, so that
    neither worker is left with a long module at the end."""
    # In collection order (a set's order would differ between xdist's workers, which must agree).
    users = list(dict.fromkeys(item.path for item in items if "default_run" in item.fixturenames))

    def longest_first(path) -> int:
        return LONGEST_FIRST.index(path.name) if path.name in LONGEST_FIRST else len(LONGEST_FIRST)

    ordered = sorted(users, key=longest_first)  # stable: collection order after the named

    def rank(item) -> tuple[int, int]:
        if item.path not in users:
            return (1, 0)
        position = ordered.index(item.path)
        return (0, 0) if position == 0 else (2, position)

    items.sort(key=rank)  # stable: collection order within each module and among the rest


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
def tiny_models(built_once, default_config) -> Path:
    """Every pretrained role of the default config as a tiny random model (no format fit)."""
    from alarm.tiny.models import make_tiny_model

    def build(root: Path) -> None:
        for role, spec in default_config["pretrained"].items():
            tiny = {k: v for k, v in spec["tiny"].items() if k != "format_fit"}
            make_tiny_model(tiny, root / role, seed=0, n_candidates=5)

    return built_once("pretrained", build)


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
