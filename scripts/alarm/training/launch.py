"""Starting ``alarm train-model`` on every GPU it was given: one process, one node or several.

Snakemake runs the training rule as one command. When that command sees more
than one GPU and is not yet inside a distributed launch, it re-executes itself
under ``accelerate launch`` (DDP over the node's GPUs; with several SLURM nodes,
one launcher per node started by ``srun``, rendezvous on the first node, which the
job's shell names in ``ALARM_MAIN_ADDR``).
"""

from __future__ import annotations

import os
import shutil
import sys


def distributed_env() -> bool:
    return "LOCAL_RANK" in os.environ or "RANK" in os.environ


def accelerate_command(argv: list[str], gpus: int, env: dict[str, str]) -> list[str] | None:
    """The ``accelerate launch`` command for this node, or None to run in this process."""
    nodes = int(env.get("SLURM_NNODES", "1") or 1)
    if distributed_env() or (gpus <= 1 and nodes <= 1):
        return None
    command = [
        "accelerate",
        "launch",
        "--multi_gpu",
        "--num_processes",
        str(gpus * nodes),
        "--num_machines",
        str(nodes),
    ]
    if nodes > 1:
        # The job's shell found the first node on the host (the image has no scontrol).
        if "ALARM_MAIN_ADDR" not in env:
            raise RuntimeError(
                f"{nodes} nodes but no ALARM_MAIN_ADDR: run multi-node training through the "
                "rule train_model_multinode, which sets it"
            )
        command += [
            "--machine_rank",
            env.get("SLURM_NODEID", "0"),
            "--main_process_ip",
            env["ALARM_MAIN_ADDR"],
            "--main_process_port",
            env.get("ALARM_MASTER_PORT", "29500"),
            "--rdzv_backend",
            "c10d",
            "--same_network",
        ]
    return [*command, "-m", "alarm.cli", *argv]


def maybe_relaunch(argv: list[str]) -> None:
    """Replace this process with an accelerate launch when more than one GPU is available."""
    import torch

    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    command = accelerate_command(argv, gpus, dict(os.environ))
    if command is None:
        return
    if shutil.which("accelerate") is None:
        raise RuntimeError("several GPUs are visible but `accelerate` is not on PATH")
    sys.stdout.flush()
    os.execvp(command[0], command)
