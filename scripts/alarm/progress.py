"""``alarm progress``: how far a run is, what it has spent, what is left and when it ends.

Read only from Snakemake's own records, in the run's working directory:

- the DAG: two dry runs of the same workflow, one with ``--forceall`` (every job, with
  the resources Snakemake gives it) and one as a launch would plan it (the jobs to go);
- ``.snakemake/metadata`` (each finished job's start and end, per output),
  ``.snakemake/incomplete`` (outputs of jobs started and not finished),
  ``.snakemake/locks`` (a Snakemake holds the directory) and ``.snakemake/log`` (each
  launch's log, whose "Error in rule" blocks name the jobs that failed);
- the rules' ``benchmark:`` files (a job's measured wall time).

No monitor has this (panoptes shows the jobs of the launches it saw, SLURM's tools the
jobs of the queue): a projection of the time left from measured durations, and the
GPU-hours a configuration asks for before it is launched (``--plan``).

The standard library, alarm.cluster, Snakemake and matplotlib only: it runs on the login
node with the host environment (``PYTHONPATH=scripts .venv/bin/python -m alarm.progress``)
as well as ``alarm progress`` in the CPU environment.
"""

from __future__ import annotations

import argparse
import base64
import csv
import json
import re
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from itertools import accumulate
from pathlib import Path

from alarm.cluster import explain_failures

REPO = Path(__file__).resolve().parents[2]
RULE_FILES = REPO / "workflow" / "rules"


class DryRunError(RuntimeError):
    """The workflow's dry run failed: its own message says why."""


@dataclass(frozen=True)
class PlannedJob:
    """One job of a dry run, with what it asks of the cluster (per job, all nodes)."""

    rule: str
    wildcards: dict[str, str]
    outputs: tuple[str, ...]
    benchmark: str | None
    gpus: int
    cpus: int
    runtime_min: float | None  # the time it requests (first attempt), if it says

    @property
    def key(self) -> tuple[str, ...]:
        return (self.rule, *self.outputs)


JOB_HEAD = re.compile(r"^(?:local)?(?:rule|checkpoint) (\w+):$", re.M)
# Resource values are printed as key=value joined by ", "; JSON-valued ones (run knobs)
# hold commas too, so only whole-number resources are read, each by its name.
NUMBER = r"(?:^|, ){}=(\d+(?:\.\d+)?)(?=,|$)"


def planned_jobs(dry_run_output: str) -> list[PlannedJob]:
    """Every job a ``snakemake --dry-run`` output plans (Snakemake 9's job blocks)."""
    heads = list(JOB_HEAD.finditer(dry_run_output))
    jobs = []
    for i, head in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(dry_run_output)
        block = dry_run_output[head.end() : end]
        fields = dict(re.findall(r"^ {4}(\w+): (.*)$", block, re.M))
        resources = fields.get("resources", "")

        def number(name: str, default=None, resources=resources):
            found = re.search(NUMBER.format(name), resources)
            return float(found[1]) if found else default

        nodes = int(number("nodes", 1))
        threads = int(fields.get("threads", 1))
        wildcards = fields.get("wildcards", "")
        jobs.append(
            PlannedJob(
                rule=head[1],
                wildcards=dict(p.split("=", 1) for p in wildcards.split(", ")) if wildcards else {},
                outputs=tuple(fields["output"].split(", ")) if "output" in fields else (),
                benchmark=fields.get("benchmark"),
                gpus=int(number("gpu", 0)) * nodes,
                cpus=int(number("cpus_per_task", threads)) * nodes,
                runtime_min=number("runtime"),
            )
        )
    return jobs


def dry_run(snakemake_args: list[str], workdir: Path, forceall: bool) -> list[PlannedJob]:
    """The jobs of the workflow (``forceall``) or those a launch would run now."""
    # A live run's started jobs have incomplete outputs, which a dry run refuses unless
    # told they will be remade (as they count here: running, or failed).
    command = [sys.executable, "-m", "snakemake", "--dry-run", "--rerun-incomplete"]
    command += snakemake_args
    if forceall:
        command.append("--forceall")
    done = subprocess.run(command, cwd=workdir, capture_output=True, text=True)
    if done.returncode != 0:
        lines = (done.stdout + done.stderr).splitlines()
        errors = [i for i, line in enumerate(lines) if re.match(r"\w*(Error|Exception)\b", line)]
        said = "\n".join(lines[errors[-1] : errors[-1] + 12] if errors else lines[-12:])
        raise DryRunError(f"the dry run failed ({' '.join(command[3:])}):\n{said}")
    return [j for j in planned_jobs(done.stdout) if j.rule != "all"]


# --- Snakemake's records ---------------------------------------------------------------------


def decode_record_name(relative: Path) -> str:
    """The output path a ``.snakemake/{metadata,incomplete}`` file is named after: its
    urlsafe base64, cut into folder names of which all but the last start with "@"."""
    return base64.urlsafe_b64decode("".join(p.lstrip("@") for p in relative.parts)).decode()


def records(folder: Path) -> dict[str, dict]:
    """Every record of a ``.snakemake`` folder, by the output path it is about."""
    found = {}
    if not folder.is_dir():
        return found
    for path in folder.rglob("*"):
        if path.is_file() and path.name != "migration_underway":
            try:
                found[decode_record_name(path.relative_to(folder))] = json.loads(path.read_text())
            except (ValueError, json.JSONDecodeError):
                continue  # a record being written by the running Snakemake
    return found


@dataclass
class Failure:
    """A job's last logged failure: when (its launch log's last write) and what it says
    (one line: its log, or the SLURM job and what to change)."""

    at: float
    said: str


def failures(log_folder: Path) -> dict[str, Failure]:
    """The last failure each launch's log reports under "Error in rule", by output."""
    failed: dict[str, Failure] = {}
    for log in sorted(log_folder.glob("*.snakemake.log")) if log_folder.is_dir() else []:
        at = log.stat().st_mtime
        for block in re.split(r"\n(?=\S)", log.read_text(errors="replace")):
            output = re.search(r"^ {4}output: (.*)$", block, re.M)
            if block.startswith("Error in rule ") and output:
                said = "; ".join(explain_failures(block))
                for path in output[1].split(", "):
                    if path not in failed or failed[path].at <= at:
                        failed[path] = Failure(at, said)
    return failed


def benchmark_row(path: Path) -> dict[str, str] | None:
    """A ``benchmark:`` file's last row (a job benchmarked with repeats: its last run), or
    None where there is none."""
    try:
        with path.open() as f:
            rows = list(csv.DictReader(f, delimiter="\t"))
    except OSError:
        return None
    return rows[-1] if rows else None


def benchmark_seconds(path: Path) -> float | None:
    """A ``benchmark:`` file's wall seconds."""
    row = benchmark_row(path)
    try:
        return float(row["s"]) if row else None
    except (KeyError, ValueError):
        return None


def disk_bytes(paths: list[Path]) -> int:
    """Bytes held under these outputs; a link (a download's) counts what it points to,
    each file once."""
    seen, total = set(), 0
    for top in paths:
        if not top.exists():
            continue
        walk = [top] if top.is_file() else [p for p in top.rglob("*")]
        for path in walk:
            try:
                st = path.stat()
            except OSError:
                continue
            if path.is_file() and (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                total += st.st_size
    return total


# --- the account ------------------------------------------------------------------------------


@dataclass
class Finished:
    """A finished job as measured: when it ended and how long it ran (seconds)."""

    rule: str
    end: float
    seconds: float
    gpus: int
    cpus: int


@dataclass
class RuleProgress:
    rule: str
    family: str
    done: int = 0
    running: int = 0
    failed: int = 0
    to_go: int = 0
    median_s: float | None = None
    longest_s: float | None = None
    gpu_hours: float = 0.0
    cpu_hours: float = 0.0
    disk_bytes: int = 0
    work_left_s: float | None = None  # job-seconds left at this rule's mean; None: unknown

    @property
    def left(self) -> int:
        return self.running + self.failed + self.to_go


@dataclass
class Progress:
    workdir: str
    at: float
    rules: list[RuleProgress]
    finished: list[Finished] = field(repr=False)  # every finish on record
    concurrency: float | None  # jobs running at once on average, so far
    eta_s: float | None  # projected seconds to the end; None: unknown
    assumptions: list[str]
    failed: list[dict] = field(default_factory=list)  # rule, wildcards, what its log says
    running: list[dict] = field(default_factory=list)  # rule, wildcards, its SLURM job

    def total(self) -> RuleProgress:
        total = RuleProgress("total", "")
        for r in self.rules:
            for name in ("done", "running", "failed", "to_go", "disk_bytes"):
                setattr(total, name, getattr(total, name) + getattr(r, name))
            total.gpu_hours += r.gpu_hours
            total.cpu_hours += r.cpu_hours
        seconds = [f.seconds for f in self.finished]
        total.median_s = statistics.median(seconds) if seconds else None
        total.longest_s = max(seconds, default=None)
        unknown = any(r.left and r.work_left_s is None for r in self.rules)
        if not unknown:
            total.work_left_s = sum(r.work_left_s or 0.0 for r in self.rules)
        return total


def rule_families(rule_files: Path = RULE_FILES) -> dict[str, str]:
    """Each rule's family: the name of the rule file that declares it (corpus, train, ...)."""
    families = {}
    for path in sorted(rule_files.glob("*.smk")):
        for name in re.findall(r"^(?:rule|checkpoint) (\w+):", path.read_text(), re.M):
            families[name] = path.stem
    return families


def account(
    workdir: Path,
    jobs: list[PlannedJob],
    to_go: set[tuple[str, ...]],
    now: float | None = None,
) -> Progress:
    """What is done, running, failed and left of ``jobs``, given the keys a launch would
    still run, measured from the records under ``workdir``."""
    now = time.time() if now is None else now
    dot = workdir / ".snakemake"
    metadata = records(dot / "metadata")
    started = records(dot / "incomplete")  # {"external_jobid": the SLURM job, if any}
    locked = any((dot / "locks").glob("*.lock")) if (dot / "locks").is_dir() else False
    failed = failures(dot / "log")
    families = rule_families()

    rules: dict[str, RuleProgress] = {}
    finished: list[Finished] = []
    failed_jobs, running_jobs = [], []
    for job in jobs:
        r = rules.setdefault(job.rule, RuleProgress(job.rule, families.get(job.rule, "other")))
        r.disk_bytes += disk_bytes([workdir / o for o in job.outputs])
        record = next((metadata[o] for o in job.outputs if o in metadata), {})
        # Its last finish, also when it is to run again (a rerun overwrites the records).
        seconds = benchmark_seconds(workdir / job.benchmark) if job.benchmark else None
        end = record.get("endtime")
        if seconds is not None and end is None:
            end = (workdir / job.benchmark).stat().st_mtime
        if seconds is None and record.get("starttime") and end:
            seconds = end - record["starttime"]
        if seconds is not None and end is not None:
            finished.append(Finished(job.rule, end, seconds, job.gpus, job.cpus))
        marker = next((started[o] for o in job.outputs if o in started), None)
        failure = max(
            (failed[o] for o in job.outputs if o in failed), key=lambda f: f.at, default=None
        )
        named = {"rule": job.rule, "wildcards": job.wildcards}
        if job.key not in to_go:
            r.done += 1
        elif marker is not None and locked:
            r.running += 1
            running_jobs.append(named | {"slurm_job": marker.get("external_jobid")})
        elif failure is not None and failure.at > (end or 0.0):
            r.failed += 1  # its last attempt failed after its last finish
            failed_jobs.append(named | {"said": failure.said})
        elif marker is not None:
            r.failed += 1
            failed_jobs.append(named | {"said": "a launch stopped while it ran (rerun it)"})
        else:
            r.to_go += 1

    by_rule: dict[str, list[Finished]] = defaultdict(list)
    for f in finished:
        by_rule[f.rule].append(f)
    concurrency = observed_concurrency(finished)
    for r in rules.values():
        seconds = [f.seconds for f in by_rule[r.rule]]
        if seconds:
            r.median_s, r.longest_s = statistics.median(seconds), max(seconds)
            r.work_left_s = r.left * statistics.fmean(seconds)
        elif not r.left:
            r.work_left_s = 0.0
        r.gpu_hours = sum(f.gpus * f.seconds for f in by_rule[r.rule]) / 3600
        r.cpu_hours = sum(f.cpus * f.seconds for f in by_rule[r.rule]) / 3600
    progress = Progress(str(workdir), now, sorted(rules.values(), key=order), finished,
                        concurrency, None, [], failed_jobs, running_jobs)  # fmt: skip
    work_left = progress.total().work_left_s
    if work_left is not None and (work_left == 0 or concurrency):
        progress.eta_s = work_left / concurrency if work_left else 0.0
    progress.assumptions = assumptions(progress)
    return progress


def observed_concurrency(finished: list[Finished]) -> float | None:
    """Jobs at work at once on average so far: their summed time over the span from the
    first start to the last end."""
    if not finished:
        return None
    span = max(f.end for f in finished) - min(f.end - f.seconds for f in finished)
    return sum(f.seconds for f in finished) / span if span > 0 else None


def order(r: RuleProgress) -> tuple:
    return (r.family, r.rule)


def assumptions(p: Progress) -> list[str]:
    said = [
        "a job's time is its last finish's: its benchmark file's wall time, else Snakemake's "
        "record from its start (its submission, on SLURM) to its end; GPU- and CPU-hours "
        "spent are those times the GPUs and CPUs it requested, over every finish on record "
        "(also of jobs to run again)",
        "a job left (to go, failed or running) takes the mean time of its rule's finishes "
        "on record (a running one counts as a whole job)",
    ]
    if p.concurrency:
        said.append(
            f"jobs keep running {p.concurrency:.2f} at a time, as so far (their summed time "
            "over the span from the first start to the last end)"
        )
    unknown = [r.rule for r in p.rules if r.left and r.work_left_s is None]
    if unknown:
        said.append("unknown until a job of each has finished: " + ", ".join(unknown))
    return said


# --- the plan ---------------------------------------------------------------------------------


@dataclass
class RulePlan:
    rule: str
    family: str
    jobs: int
    gpus_per_job: list[int]
    runtime_min: list[float]
    gpu_hours: float  # GPUs x requested runtime: an upper bound of what the jobs spend
    cpu_hours: float


def plan(jobs: list[PlannedJob]) -> list[RulePlan]:
    families = rule_families()
    by_rule: dict[str, list[PlannedJob]] = defaultdict(list)
    for job in jobs:
        by_rule[job.rule].append(job)
    plans = []
    for rule, group in by_rule.items():
        hours = [(j.runtime_min or 0.0) / 60 for j in group]
        plans.append(
            RulePlan(
                rule,
                families.get(rule, "other"),
                len(group),
                sorted({j.gpus for j in group}),
                sorted({j.runtime_min for j in group if j.runtime_min is not None}),
                sum(j.gpus * h for j, h in zip(group, hours, strict=True)),
                sum(j.cpus * h for j, h in zip(group, hours, strict=True)),
            )
        )
    return sorted(plans, key=lambda p: (p.family, p.rule))


# --- output -----------------------------------------------------------------------------------


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 3 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError


LISTED = 20  # failed and running jobs named in the Markdown account


def progress_markdown(p: Progress) -> str:
    lines = [
        f"# Progress of {p.workdir} at {time.strftime('%Y-%m-%d %H:%M', time.localtime(p.at))}",
        "",
        "| rule | done | running | failed | to go | median | longest | GPU-h | CPU-h | disk |"
        " left (job time) |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in [*p.rules, p.total()]:
        name = f"**{r.rule}**" if r.rule == "total" else f"{r.family}/{r.rule}"
        lines.append(
            f"| {name} | {r.done} | {r.running} | {r.failed} | {r.to_go} | "
            f"{duration(r.median_s) if r.median_s is not None else '-'} | "
            f"{duration(r.longest_s) if r.longest_s is not None else '-'} | "
            f"{r.gpu_hours:.2f} | {r.cpu_hours:.2f} | {size(r.disk_bytes)} | "
            f"{duration(r.work_left_s)} |"
        )
    end = (
        "unknown"
        if p.eta_s is None
        else f"in {duration(p.eta_s)} "
        f"({time.strftime('%Y-%m-%d %H:%M', time.localtime(p.at + p.eta_s))})"
    )
    lines += ["", f"Projected end: {end}.", "", "Assumed:"]
    lines += [f"- {a}" for a in p.assumptions]
    for title, jobs, what in [
        ("Failed", p.failed, lambda j: j["said"]),
        ("Running", p.running, lambda j: f"SLURM job {j['slurm_job']}" if j["slurm_job"] else ""),
    ]:
        if jobs:
            lines += ["", f"{title} ({len(jobs)}):"]
            for job in jobs[:LISTED]:
                wildcards = ", ".join(f"{k}={v}" for k, v in job["wildcards"].items())
                lines.append(f"- {job['rule']} {wildcards}: {what(job)}".rstrip(": "))
            if len(jobs) > LISTED:
                lines.append(f"- and {len(jobs) - LISTED} more (--json lists them all)")
    return "\n".join(lines) + "\n"


def progress_json(p: Progress) -> dict:
    return {
        "workdir": p.workdir,
        "at": p.at,
        "rules": [asdict(r) for r in p.rules],
        "total": asdict(p.total()),
        "concurrency": p.concurrency,
        "eta_s": p.eta_s,
        "assumptions": p.assumptions,
        "failed": p.failed,
        "running": p.running,
    }


def plan_markdown(plans: list[RulePlan]) -> str:
    lines = [
        "| rule | jobs | GPUs per job | runtime requested (min) | GPU-h requested | "
        "CPU-h requested |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    for p in plans:
        lines.append(
            f"| {p.family}/{p.rule} | {p.jobs} | {'/'.join(map(str, p.gpus_per_job))} | "
            f"{'/'.join(f'{m:g}' for m in p.runtime_min) or '-'} | {p.gpu_hours:.1f} | "
            f"{p.cpu_hours:.1f} |"
        )
    lines.append(
        f"| **total** | {sum(p.jobs for p in plans)} | | | "
        f"{sum(p.gpu_hours for p in plans):.1f} | {sum(p.cpu_hours for p in plans):.1f} |"
    )
    lines += [
        "",
        "GPU-hours requested: each job's GPUs times the runtime its rule requests on its "
        "first attempt, an upper bound of what it spends (a retry asks again).",
    ]
    return "\n".join(lines) + "\n"


def plot(p: Progress, path: Path) -> None:
    """Jobs finished over time per rule family, and GPU-hours spent over time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    families = {r.rule: r.family for r in p.rules}
    finished = sorted(p.finished, key=lambda f: f.end)
    start = min((f.end - f.seconds for f in finished), default=p.at)
    fig, (jobs_ax, gpu_ax) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
    for family in sorted({families[f.rule] for f in finished}):
        hours = [(f.end - start) / 3600 for f in finished if families[f.rule] == family]
        jobs_ax.step(hours, range(1, len(hours) + 1), where="post", label=family)
    jobs_ax.set_ylabel("jobs finished")
    jobs_ax.legend(fontsize="small", ncol=2)
    spent = list(accumulate(f.gpus * f.seconds / 3600 for f in finished))
    gpu_ax.step([(f.end - start) / 3600 for f in finished], spent, where="post")
    gpu_ax.set_ylabel("GPU-hours spent")
    gpu_ax.set_xlabel("hours since the first job started")
    total = p.total()
    fig.suptitle(f"{total.done} jobs done, {total.left} left")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


# --- command line -----------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--directory", type=Path, default=Path.cwd(), help="the run's working directory"
    )
    parser.add_argument(
        "--plan",
        action="store_true",
        help="before a launch: each rule's jobs, GPUs per job and the GPU-hours their "
        "runtime requests",
    )
    parser.add_argument("--json", action="store_true", help="JSON instead of Markdown")
    parser.add_argument("--png", type=Path, help="also draw the progress plot here")
    parser.add_argument("--output", type=Path, help="write the account here, not to stdout")
    parser.add_argument(
        "snakemake_args",
        nargs=argparse.REMAINDER,
        help="after --: the launch's own arguments (--configfile ..., --profile ...)",
    )


def run(ns: argparse.Namespace) -> int:
    try:
        return report(ns)
    except DryRunError as error:
        print(f"alarm progress: {error}", file=sys.stderr)
        return 1


def report(ns: argparse.Namespace) -> int:
    args = [a for a in ns.snakemake_args if a != "--"]
    workdir = ns.directory.resolve()
    if not any(a.startswith("--snakefile") or a == "-s" for a in args):
        args = ["--snakefile", str(REPO / "workflow" / "Snakefile"), *args]
    if ns.plan:
        # Each job's resources, not its image: a machine without Apptainer (a laptop, a
        # login node before its module is loaded) plans a profile that deploys with it.
        plans = plan(dry_run([*args, "--sdm", "env-modules"], workdir, forceall=True))
        write(
            ns,
            json.dumps([asdict(p) for p in plans], indent=1) if ns.json else plan_markdown(plans),
        )
        return 0
    jobs = dry_run(args, workdir, forceall=True)
    to_go = {j.key for j in dry_run(args, workdir, forceall=False)}
    progress = account(workdir, jobs, to_go)
    if ns.png:
        plot(progress, ns.png)
    write(
        ns,
        json.dumps(progress_json(progress), indent=1) if ns.json else progress_markdown(progress),
    )
    return 0


def write(ns: argparse.Namespace, text: str) -> None:
    if ns.output is None:
        print(text)
    else:
        ns.output.parent.mkdir(parents=True, exist_ok=True)
        ns.output.write_text(text if text.endswith("\n") else text + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="alarm progress", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
