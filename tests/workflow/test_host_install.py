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
    # The monitor on the login node (README "Monitor"), from this set alone: alarm
    # progress's plan and account of the paper run, its plot, and the dashboard's server.
    monitor = slurm_env() | {"PYTHONPATH": str(REPO / "scripts")}
    paper = ["--", "--configfile", str(REPO / "config/paper.yaml")]
    progress = [python, "-m", "alarm.progress", "--directory", tmp_path / "run"]
    asked = subprocess.run(
        [*progress, "--plan", *paper], capture_output=True, text=True, env=monitor
    )
    assert asked.returncode == 0, asked.stderr[-3000:]
    assert "| train/train_model | 7 | 4 | 4320 | 2016.0 |" in asked.stdout
    account = subprocess.run(
        [*progress, "--png", tmp_path / "progress.png", *paper],
        capture_output=True, text=True, env=monitor,
    )  # fmt: skip
    assert account.returncode == 0, account.stderr[-3000:]
    assert "| train/train_model | 0 | 0 | 0 | 7 |" in account.stdout
    assert "Projected end: unknown." in account.stdout
    assert (tmp_path / "progress.png").read_bytes()[:4] == b"\x89PNG"
    plugins = "import snakemake_logger_plugin_panoptes, snakemake_logger_plugin_rich"
    subprocess.run([python, "-c", plugins], check=True)
    assert (venv / "bin" / "panoptes").exists()
