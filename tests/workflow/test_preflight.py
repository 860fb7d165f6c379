"""The site preflight on a real SLURM cluster (local_slurm.py): a node that cannot see the
login node's Python or scratch, and has no apptainer, is named with each problem and its
fix; a node that has them passes. The checks run from the login node through srun, in
plain shell, so they report even where no job could start."""

import os
import subprocess
import sys

import fake_apptainer
import pytest
from local_slurm import local_slurm, missing_requirements
from workflow_helpers import REPO

pytestmark = pytest.mark.slow


def _preflight(tmp_path, python, scratch, env=None):
    output = tmp_path / "cpu.ok"
    done = subprocess.run(
        [sys.executable, "-m", "alarm.preflight", "cpu", "--partition", "debug",
         "--python", str(python), "--scratch", str(scratch), "--output", str(output)],
        capture_output=True, text=True, timeout=300,
        env=dict(env or os.environ, PYTHONPATH=str(REPO / "scripts")),
    )  # fmt: skip
    return done, output


def test_the_preflight_names_what_a_node_lacks_and_passes_one_that_has_it(tmp_path):
    problem = missing_requirements()
    if problem:
        pytest.fail(f"cannot start the test cluster: {problem}")
    login_only = tmp_path / "login_only"  # on the login node's local disk, say
    (login_only / "venv" / "bin").mkdir(parents=True)
    python = login_only / "venv" / "bin" / "python3.11"
    python.symlink_to(sys.executable)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_apptainer.install(bin_dir)
    with local_slurm(tmp_path / "state", hide=login_only) as nodes:
        node = nodes[0]
        done, output = _preflight(tmp_path, python, login_only / "scratch")
        lines = done.stdout.splitlines()
        assert done.returncode == 1 and not output.exists(), done
        where = f"preflight: partition debug, node {node}: "
        assert f"{where}the host environment's Python {python} does not exist here" in (done.stdout)
        assert f"{where}apptainer is not on PATH here" in done.stdout
        assert f"{where}ALARM_SCRATCH ({login_only / 'scratch'}) is not the login node's" in (
            done.stdout
        )
        assert all(line.startswith(where) for line in lines), lines
        # The same node, given a Python, a scratch and apptainer it sees: nothing to say.
        env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
        done, output = _preflight(tmp_path, sys.executable, tmp_path / "scratch", env)
        assert done.returncode == 0, done
        assert output.read_text() == "partition debug: every check passed\n"
