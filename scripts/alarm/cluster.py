"""Cluster-side checks and messages: a profile that cannot work, and jobs SLURM killed.

Snakemake reports a job the scheduler killed as "SLURM-job '<id>' failed, SLURM
status is: 'OUT_OF_MEMORY'" under "Error in rule <rule>"; this module turns
that into what to change, and stops a run whose profile still lacks the
account or a partition before anything is submitted.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROFILE = "config/profiles/slurm-h200/config.yaml"

ADVICE = {
    "OUT_OF_MEMORY": "it ran out of memory: raise set-resources.{rule}.mem_mb",
    "TIMEOUT": "it hit its time limit: raise set-resources.{rule}.runtime (minutes); "
    "training resumes from its last checkpoint when rerun",
    "PREEMPTED": "it was preempted: rerun (training resumes from its last checkpoint), "
    "or keep slurm-requeue: true",
    "NODE_FAIL": "its node failed: rerun; the failed node is excluded from new submissions",
    "CANCELLED": "it was cancelled (by you, an admin or a time limit): rerun the workflow; "
    "only unfinished outputs are made again",
}
SLURM_FAILURE = re.compile(
    r"SLURM-job '(?P<job>[^']+)' failed[^']*?SLURM status is: '(?P<status>[A-Z_]+)'"
)


def profile_problems(
    executor: str | None,
    default_resources: Mapping[str, Any],
    rule_resources: Mapping[str, Mapping],
) -> list[str]:
    """What a SLURM profile still lacks (account, partitions), naming where to set it."""
    if executor != "slurm":
        return []
    problems = []
    placeholders = [("default-resources", k, v) for k, v in default_resources.items()] + [
        (f"set-resources.{rule}", k, v)
        for rule, res in rule_resources.items()
        for k, v in res.items()
    ]
    for where, key, value in placeholders:
        if "CHANGE_ME" in str(value):
            problems.append(
                f"{where}.{key} is still {value!s}: set your cluster's value in {PROFILE}"
            )
    if "slurm_partition" not in default_resources:
        problems.append(f"default-resources.slurm_partition is missing: add it to {PROFILE}")
    return problems


def apptainer_args_problems(args: str) -> list[str]:
    """Apptainer arguments that still name an unset variable, or bind nothing.

    Snakemake expands the profile's variables when it reads it; an unset one stays as
    written (``--bind $ALARM_SCRATCH``) or becomes empty (``--bind --env``), and Apptainer
    would fail every job with a confusing error.
    """
    problems = [
        f"apptainer-args name ${name}, which is not set: export {name} (the shared scratch "
        "directory bound into every image; it holds the Hugging Face cache)"
        for name in sorted(set(re.findall(r"\$\{?(\w+)\}?", args)))
    ]
    words = args.split()
    for option, value in zip(words, [*words[1:], ""], strict=False):  # each word, the next
        if option in ("--bind", "-B", "--env") and (not value or value.startswith("-")):
            problems.append(f"apptainer-args: {option} has no value (is a variable unset?)")
    return problems


# Variables that make any Python read other code than its own installation's.
HOST_PYTHON_VARIABLES = ("PYTHONPATH", "PYTHONHOME")


def host_environment_problems(environ: Mapping[str, str]) -> list[str]:
    """Variables of the launching shell that would override the images' Python.

    sbatch exports the whole environment to every job and Apptainer passes it into the
    image, so a ``PYTHONPATH`` or ``PYTHONHOME`` set on the login node (``module load
    python`` often does) would make each job's Python in /opt/venv load the host's code.
    """
    return [
        f"{name} is set, and every job's image would get it (over its /opt/venv): "
        f"`unset {name}` (or `module unload` the module that sets it) and launch again"
        for name in HOST_PYTHON_VARIABLES
        if environ.get(name)
    ]


def gpu_model_problems(models: Iterable[str], gres: str | None) -> list[str]:
    """GPU model names the profile asks for that no node's GRES offers.

    ``gres`` is what ``sinfo -h -o %G`` prints (e.g. ``gpu:h200:8(S:0-1)``); None when
    sinfo cannot be asked, and then nothing is checked.
    """
    if gres is None:
        return []
    offered = set(re.findall(r"gpu:([\w.]+):\d", gres))
    return [
        f"gpu_model {model!r} is not a GPU type of this cluster (sinfo offers: "
        f"{', '.join(sorted(offered)) or 'none'}): set gpu_model in {PROFILE}"
        for model in sorted(set(models))
        if model not in offered
    ]


def preemption_warning(scontrol_config: str | None) -> str | None:
    """What a run should know before submitting under the cluster's PreemptMode.

    The SLURM plugin (2.8) counts a PREEMPTED job as still active, waiting for SLURM to
    resume it. Under PreemptMode=REQUEUE (with the profile's --requeue) SLURM does, and
    training resumes from its checkpoint. Under CANCEL it never comes back, and the run
    would wait for it forever.
    """
    match = re.search(r"^PreemptMode\s*=\s*(\S+)", scontrol_config or "", re.M)
    if not match or "CANCEL" not in match[1].upper():
        return None
    return (
        "this cluster cancels preempted jobs (PreemptMode=CANCEL), and the SLURM plugin "
        "keeps waiting for a preempted job as if SLURM would resume it. If `squeue --me` "
        "no longer lists a job the run still waits for, stop Snakemake (Ctrl-C), "
        "`snakemake --unlock ...` and launch again (training resumes from its checkpoint); "
        "or submit to a partition or QOS that is not preempted"
    )


def image_problems(
    images: Iterable[str],
    build: bool,
    checkout: Path | None = None,
    rebuilt: Iterable[str] = (),
) -> list[str]:
    """Images a run in Apptainer needs but neither finds nor builds, or (given the
    ``checkout``) that hold another checkout's code, pins or definition; how to fix each.
    Images this run (re)builds (``rebuilt``) are left out."""
    from alarm.images import problem

    problems = []
    skip = set(map(str, rebuilt))
    for image in (i for i in images if str(i) not in skip):
        if not Path(image).exists():
            if not build:
                problems.append(
                    f"{image} is missing: build it with `snakemake {image}` on a machine with "
                    "apptainer, or set containers.build: true (as config/paper.yaml does) so "
                    "the workflow builds it"
                )
        elif checkout is not None and (stale := problem(str(image), checkout)):
            problems.append(stale)
    return problems


def explain_failures(log_text: str) -> list[str]:
    """One line per failed job: its rule and, for a job the scheduler killed, the SLURM job
    and what to change; for any other failure, where its own log is."""
    lines = []
    for block in re.split(r"(?=^Error in rule \w+:)", log_text, flags=re.M)[1:]:
        rule = re.match(r"Error in rule (\w+):", block)[1]
        block = re.split(r"\n(?=\S)", block, maxsplit=1)[0]  # the block's indented lines
        killed = SLURM_FAILURE.search(block)
        own_log = re.search(r"^\s+log: (\S+)", block, re.M)
        if killed:
            job, status = killed["job"], killed["status"]
            advice = ADVICE.get(status, f"SLURM status {status}; see logs/slurm for its log")
            lines.append(f"rule {rule}, SLURM job {job}: {advice.format(rule=rule)} in {PROFILE}")
        elif rule == "site_preflight" and own_log and Path(own_log[1]).is_file():
            # what the node lacks, one line each, from the preflight's own log
            said = Path(own_log[1]).read_text(errors="replace").splitlines()
            lines += [line for line in said if line.startswith("preflight: ")]
        else:
            where = f"its log: {own_log[1]}" if own_log else "see the messages above"
            lines.append(f"rule {rule} failed; {where}")
    return lines


# --- partition limits: a job the partition cannot run pends forever --------------------


@dataclass(frozen=True)
class Request:
    """What a submitted rule asks of its partition: time (minutes) and memory (MB) on its
    first attempt and on its last retry."""

    rule: str
    partition: str
    runtime: int
    mem_mb: int
    retry_mem_mb: int


@dataclass(frozen=True)
class Partition:
    max_minutes: int | None  # None: UNLIMITED
    max_mem_mb: int | None  # the most a job may ask of one node: MaxMemPerNode, or the
    # memory of the partition's largest node


def slurm_minutes(value: str) -> int | None:
    """A SLURM time (``MaxTime``: ``UNLIMITED``, ``MM``, ``HH:MM:SS``, ``D-HH[:MM[:SS]]``)
    in whole minutes (seconds round up); None when unlimited."""
    if value.upper() in ("UNLIMITED", "INFINITE"):
        return None
    days, _, clock = value.rpartition("-")
    parts = [int(p) for p in clock.split(":")]
    if days:  # D-HH, D-HH:MM, D-HH:MM:SS
        parts += [0] * (3 - len(parts))
        hours, minutes, seconds = parts
    elif len(parts) == 1:
        hours, minutes, seconds = 0, parts[0], 0
    else:
        hours, minutes, seconds = ([0] * (3 - len(parts)) + parts)[-3:]
    return (int(days or 0) * 24 + hours) * 60 + minutes + (seconds > 0)


def partition_of(scontrol_partition: str | None, sinfo_memory: str | None) -> Partition | None:
    """A partition's limits from ``scontrol show partition NAME -o`` and ``sinfo -h -p NAME
    -o %m`` (each node's memory in MB, ``+`` where nodes differ); None when it does not
    exist."""
    if not scontrol_partition or "PartitionName=" not in scontrol_partition:
        return None
    fields = dict(re.findall(r"(\w+)=(\S+)", scontrol_partition))
    max_time = slurm_minutes(fields.get("MaxTime", "UNLIMITED"))
    per_node = fields.get("MaxMemPerNode", "UNLIMITED")
    limits = [int(per_node)] if per_node.isdigit() else []
    nodes = [int(m) for m in re.findall(r"\d+", sinfo_memory or "")]
    if nodes:
        limits.append(max(nodes))
    return Partition(max_time, min(limits) if limits else None)


# --- asking SLURM: the workflow's checks before a launch ---------------------------------


def ask_slurm(*command: str) -> str | None:
    """What a SLURM client command prints, or None where it cannot say (a controller that
    is down makes the clients retry for 10 to 60 s: no answer in 20 s is none)."""
    try:
        return subprocess.run(
            command, capture_output=True, text=True, check=True, timeout=20
        ).stdout
    except (OSError, subprocess.CalledProcessError, subprocess.TimeoutExpired):
        return None


def offered_gres() -> str | None:
    """The GRES the cluster's nodes offer (``gpu:<model>:8`` lines)."""
    return ask_slurm("sinfo", "-h", "-o", "%G")


def slurm_config() -> str | None:
    return ask_slurm("scontrol", "show", "config")


def partition_limits(names: Iterable[str]) -> dict[str, Partition | None] | None:
    """Each named partition's limits; None where no SLURM answers (a dry run away from
    the cluster: no limits to compare)."""
    if ask_slurm("sinfo", "-h", "-o", "%P") is None:
        return None
    return {
        name: partition_of(
            ask_slurm("scontrol", "show", "partition", name, "-o"),
            ask_slurm("sinfo", "-h", "-p", name, "-o", "%m"),
        )
        for name in names
    }


def limit_problems(
    requests: Iterable[Request], partitions: Mapping[str, Partition | None]
) -> list[str]:
    """Each rule that asks its partition for more time or memory than it grants (the
    largest retry counted), or names a partition the cluster lacks; what to change.

    Such a job pends forever where the cluster does not enforce partition limits, and
    sbatch refusing a retry's memory crashes Snakemake (snakemake-executor-plugin-slurm
    #320): better to say so before the first submission."""
    problems = []
    for r in requests:
        limits = partitions.get(r.partition)
        if limits is None:
            problems.append(
                f"rule {r.rule}: partition {r.partition!r} does not exist on this cluster "
                f"(sinfo): set its slurm_partition in {PROFILE}"
            )
            continue
        if limits.max_minutes is not None and r.runtime > limits.max_minutes:
            problems.append(
                f"rule {r.rule} asks for {r.runtime} minutes, partition {r.partition!r} "
                f"allows {limits.max_minutes} (MaxTime): lower its runtime (resources: in "
                "the config, or set-resources in the profile) or choose another partition"
            )
        if limits.max_mem_mb is not None and r.retry_mem_mb > limits.max_mem_mb:
            which = "asks for" if r.mem_mb > limits.max_mem_mb else "would retry with"
            asked = r.mem_mb if r.mem_mb > limits.max_mem_mb else r.retry_mem_mb
            problems.append(
                f"rule {r.rule} {which} {asked} MB, partition {r.partition!r} grants at most "
                f"{limits.max_mem_mb} MB a node: lower its mem_mb (a job killed for memory "
                "retries with more) or choose a partition of larger nodes"
            )
    return problems
