"""The cluster login node's install: `make install-host` gives a venv whose snakemake plans
the paper's DAG, with no apt, no sudo, no torch."""

import subprocess

import pytest
from workflow_helpers import REPO, slurm_env

pytestmark = pytest.mark.slow


def test_make_install_host_plans_the_paper_dag_without_apt_or_torch(tmp_path):
    venv = tmp_path / "host"
    recipe = subprocess.run(
        ["make", "-n", "install-host", f"VENV={venv}"],
        cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "apt-get" not in recipe and "sudo" not in recipe and "--require-hashes" in recipe
    subprocess.run(
        ["make", "install-host", f"VENV={venv}"], cwd=REPO, capture_output=True, check=True
    )
    python = venv / "bin" / "python"
    has_torch = subprocess.run([python, "-c", "import torch"], capture_output=True)
    assert has_torch.returncode != 0  # every stage runs in its image
    plan = subprocess.run(
        [venv / "bin" / "snakemake", "-n", "--snakefile", REPO / "workflow/Snakefile",
         "--configfile", REPO / "config/paper.yaml", "--directory", tmp_path / "run"],
        capture_output=True, text=True, env=slurm_env(),
    )  # fmt: skip
    assert plan.returncode == 0, plan.stderr[-3000:]
    assert "rule train_model:" in plan.stdout
