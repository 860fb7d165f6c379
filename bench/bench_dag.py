"""DAG scale: time and job count of a dry run over the paper's whole DAG.

    .venv/bin/python bench/bench_dag.py [--runs 3]

Target (issue 7): under 15 s on a 2-core machine for every corpus, shard, model
and benchmark of config/paper.yaml.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def dry_run(configfile: str) -> tuple[float, int]:
    """A dry run in an empty working directory, so that every job of the DAG is planned."""
    with tempfile.TemporaryDirectory() as workdir:
        start = time.perf_counter()
        command = [sys.executable, "-m", "snakemake", "-n", "--quiet", "rules"]
        command += ["--snakefile", str(REPO / "workflow" / "Snakefile"), "--directory", workdir]
        out = subprocess.run(
            [*command, "--configfile", str(REPO / configfile)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    seconds = time.perf_counter() - start
    total = int(re.search(r"^total\s+(\d+)", out, re.MULTILINE)[1])
    return seconds, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    for configfile in ("config/paper.yaml", "config/config.yaml"):
        timings, jobs = zip(*(dry_run(configfile) for _ in range(args.runs)), strict=True)
        median = statistics.median(timings)
        print(
            f"{configfile}: {jobs[0]} jobs, dry run {median:.2f} s (median of {args.runs}; "
            f"min {min(timings):.2f} s), {jobs[0] / median:.0f} jobs/s"
        )


if __name__ == "__main__":
    main()
