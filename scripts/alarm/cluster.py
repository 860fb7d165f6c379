"""Cluster-side checks and messages: a profile that cannot work, and jobs SLURM killed.

Snakemake reports a job the scheduler killed as "SLURM-job '<id>' failed, SLURM
status is: 'OUT_OF_MEMORY'" under "Error in rule <rule>"; this module turns
that into what to change, and stops a run whose profile still lacks the
account or a partition before anything is submitted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
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
ERROR_BLOCK = re.compile(
    r"Error in rule (?P<rule>\w+):.*?SLURM-job '(?P<job>[^']+)' failed[^']*?"
    r"SLURM status is: '(?P<status>[A-Z_]+)'",
    re.DOTALL,
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


def image_problems(images: Iterable[str], build: bool) -> list[str]:
    """Images a run in Apptainer needs but neither finds nor builds, and how to get them."""
    if build:
        return []
    return [
        f"{image} is missing: build it with `snakemake {image}` on a machine with apptainer, "
        "or set containers.build: true (as config/paper.yaml does) so the workflow builds it"
        for image in images
        if not Path(image).exists()
    ]


def explain_failures(log_text: str) -> list[str]:
    """One line per job the scheduler killed: rule, SLURM job, and what to change."""
    lines = []
    for match in ERROR_BLOCK.finditer(log_text):
        rule, job, status = match["rule"], match["job"], match["status"]
        advice = ADVICE.get(status, f"SLURM status {status}; see logs/slurm for its log")
        lines.append(f"rule {rule}, SLURM job {job}: {advice.format(rule=rule)} in {PROFILE}")
    return lines
