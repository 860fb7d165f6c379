"""One run of the default workflow (test scale), shared by the workflow tests that need it."""

import os
from pathlib import Path

import pytest
from workflow_helpers import CI_ARGS, snakemake


@pytest.fixture(scope="session")
def default_run(tmp_path_factory):
    """A working directory where the whole default workflow ran, uninterrupted, on 2 cores.

    ALARM_TEST_DEFAULT_RUN=DIR reuses a finished run of `--configfile config/config.yaml
    tests/workflow/ci.yaml` (a local shortcut; some tests change the run they are given)."""
    reuse = os.environ.get("ALARM_TEST_DEFAULT_RUN")
    workdir = Path(reuse) if reuse else tmp_path_factory.mktemp("default_run")
    snakemake("--cores", "2", *CI_ARGS, workdir=workdir)
    return workdir
