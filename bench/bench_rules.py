"""Where a run's time goes: every job's Snakemake `benchmark:` file, summed per rule.

    .venv/bin/python bench/bench_rules.py [WORKDIR]       # default: the checkout's run
    .venv/bin/python bench/bench_rules.py WORKDIR --jobs 10 --cores 2

Reads ``benchmarks/<rule>/**/*.tsv`` (Snakemake's benchmark files: wall seconds, CPU seconds,
peak RSS) under the working directory of a finished run and prints, per rule, the jobs,
their wall and CPU seconds (total, median, longest) and the largest peak memory, then
the slowest jobs, and the least wall time any schedule of those jobs could take on the
run's cores. The suite's slowest tests are in every `make test` (pytest's
``--durations``, set in pyproject.toml).
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from alarm.progress import benchmark_row

REPO = Path(__file__).resolve().parents[1]


def read_benchmarks(workdir: Path) -> list[dict]:
    """One row per job: rule, job (the file's path below the rule), wall s, CPU s, MB."""
    jobs = []
    for path in sorted((workdir / "benchmarks").glob("*/**/*.tsv")):
        last = benchmark_row(path)
        if last is None or "cpu_time" not in last:
            continue
        rule = path.relative_to(workdir / "benchmarks").parts[0]
        jobs.append(
            {
                "rule": rule,
                "job": str(path.relative_to(workdir / "benchmarks" / rule).with_suffix("")),
                "wall": float(last["s"]),
                "cpu": float(last["cpu_time"]),
                "rss": float(last["max_rss"]) if last["max_rss"] not in ("", "-") else 0.0,
            }
        )
    return jobs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workdir", nargs="?", type=Path, default=REPO)
    parser.add_argument("--jobs", type=int, default=8, help="how many of the slowest jobs")
    parser.add_argument("--cores", type=int, default=2, help="the run's --cores")
    a = parser.parse_args()
    jobs = read_benchmarks(a.workdir)
    if not jobs:
        folder = a.workdir / "benchmarks"
        raise SystemExit(f"no benchmark files under {folder}: run the workflow first")
    by_rule: dict[str, list[dict]] = {}
    for job in jobs:
        by_rule.setdefault(job["rule"], []).append(job)
    total_wall = sum(j["wall"] for j in jobs)
    total_cpu = sum(j["cpu"] for j in jobs)
    print(f"{len(jobs)} jobs in {a.workdir}: {total_wall:.0f} s of job time, {total_cpu:.0f} CPU s")
    # Each job runs on one thread (the default config's resources), so no schedule of
    # these jobs on --cores cores ends sooner: a goal below it needs less work, not order.
    print(f"no run of these jobs on {a.cores} cores ends before {total_wall / a.cores:.0f} s")
    print()
    print("| rule | jobs | wall s | share | median s | longest s | CPU s | peak MB |")
    print("|---|---|---|---|---|---|---|---|")
    for rule, rows in sorted(by_rule.items(), key=lambda kv: -sum(j["wall"] for j in kv[1])):
        wall = [j["wall"] for j in rows]
        print(
            f"| `{rule}` | {len(rows)} | {sum(wall):.0f} | {sum(wall) / total_wall:.0%} | "
            f"{statistics.median(wall):.1f} | {max(wall):.1f} | "
            f"{sum(j['cpu'] for j in rows):.0f} | {max(j['rss'] for j in rows):.0f} |"
        )
    print()
    print(f"slowest {a.jobs} jobs:")
    for job in sorted(jobs, key=lambda j: -j["wall"])[: a.jobs]:
        print(f"  {job['wall']:7.1f} s  {job['cpu']:7.1f} CPU s  {job['rule']} {job['job']}")


if __name__ == "__main__":
    main()
