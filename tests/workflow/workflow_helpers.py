"""Running Snakemake on this repository's workflow, for the workflow tests."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SNAKEFILE = REPO / "workflow" / "Snakefile"
CI_CONFIG = REPO / "tests" / "workflow" / "ci.yaml"
# The default configuration at test scale (config files given replace the default one).
CI_ARGS = ("--configfile", str(REPO / "config" / "config.yaml"), str(CI_CONFIG))


def snakemake(
    *args: str, workdir: Path | None = None, check: bool = True, env=None, timeout: int = 3000
) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(SNAKEFILE), *args]
    if workdir is not None:
        command += ["--directory", str(workdir)]
    result = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=timeout, cwd=workdir or REPO
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"snakemake {' '.join(args)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        )
    return result


def planned_jobs(dry_run_output: str) -> list[tuple[str, dict[str, str]]]:
    """(rule, wildcards) of every job a `snakemake -n` output plans."""
    jobs = []
    for block in re.split(r"\n(?=(?:local)?rule \w+:)", dry_run_output):
        head = re.match(r"(?:local)?rule (\w+):", block.strip())
        if not head:
            continue
        wildcards = re.search(r"wildcards: (.*)", block)
        pairs = dict(p.split("=", 1) for p in wildcards[1].split(", ")) if wildcards else {}
        jobs.append((head[1], pairs))
    return jobs


def check_ledgers(workdir: Path) -> subprocess.CompletedProcess:
    """`alarm check-ledgers results` in a run's working directory."""
    return subprocess.run(
        [sys.executable, "-m", "alarm.cli", "check-ledgers", "results"],
        cwd=workdir,
        capture_output=True,
        text=True,
    )
