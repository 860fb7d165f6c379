"""One run of the default workflow (test scale), shared by the workflow tests that need it."""

import os
import shutil
from pathlib import Path

import pytest
from workflow_helpers import CI_ARGS, snakemake


@pytest.fixture(scope="session")
def default_run(built_once):
    """A working directory where the whole default workflow ran, uninterrupted, on 2 cores.

    Tests read it and may add files of their own beside results/, but change nothing in it:
    under pytest-xdist other tests read it at the same time (a test that changes the run
    takes ``default_run_copy``). ALARM_TEST_DEFAULT_RUN=DIR reuses a finished run of
    `--configfile config/config.yaml tests/workflow/ci.yaml` (a local shortcut)."""

    def run(workdir: Path) -> None:
        snakemake("--cores", "2", *CI_ARGS, workdir=workdir)

    reuse = os.environ.get("ALARM_TEST_DEFAULT_RUN")
    if reuse:
        run(Path(reuse))
        return Path(reuse)
    return built_once("default_run", run)


@pytest.fixture
def default_run_copy(default_run, tmp_path) -> Path:
    """A copy of the default run (its outputs, logs and Snakemake records, with every file's
    time), for a test that changes it; not what other tests add beside them."""
    copy = tmp_path / "run"
    for part in ("results", "logs", "benchmarks", ".snakemake"):
        shutil.copytree(default_run / part, copy / part, symlinks=True)
    return copy
