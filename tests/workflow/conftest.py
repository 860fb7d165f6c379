"""One run of the default workflow (test scale), shared by the workflow tests that need it."""

import pytest
from workflow_helpers import CI_ARGS, snakemake


@pytest.fixture(scope="session")
def default_run(tmp_path_factory):
    """A working directory where the whole default workflow ran, uninterrupted, on 2 cores."""
    workdir = tmp_path_factory.mktemp("default_run")
    snakemake("--cores", "2", *CI_ARGS, workdir=workdir)
    return workdir
