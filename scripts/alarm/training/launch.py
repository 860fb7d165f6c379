"""Starting ``alarm train-model`` on every device it was given: one process, one node or several.

Snakemake runs the training rule as one command. When that command sees more
than one GPU or more than one node and is not yet inside a distributed launch,
it re-executes itself under ``accelerate launch`` (DDP over the node's GPUs; with
several SLURM nodes, one launcher per node started by ``srun``, rendezvous on the
first node). The rule ``train_model_multinode`` passes the node count, this node's
rank and the first node's address as ``ALARM_NODES``, ``ALARM_NODE_RANK`` and
``ALARM_MAIN_ADDR``: an image does not see the host's ``SLURM_*`` variables when
Apptainer runs with a clean environment.
"""

from __future__ import annotations

import os
import sys


def distributed_env() -> bool:
    return "LOCAL_RANK" in os.environ or "RANK" in os.environ


def accelerate_command(argv: list[str], gpus: int, env: dict[str, str]) -> list[str] | None:
    """The ``accelerate launch`` command for this node, or None to run in this process."""
    nodes = int(env.get("ALARM_NODES", "1") or 1)
    if distributed_env() or (gpus <= 1 and nodes <= 1):
        return None
    # A CPU node runs one process; the training loop's Accelerator then talks gloo.
    per_node = max(gpus, 1)
    # The launcher as a module of this interpreter: no console script on PATH needed.
    command = [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--multi_gpu",
        "--num_processes",
        str(per_node * nodes),
        "--num_machines",
        str(nodes),
    ]
    if nodes > 1:
        missing = [k for k in ("ALARM_NODE_RANK", "ALARM_MAIN_ADDR") if not env.get(k)]
        if missing:
            raise RuntimeError(
                f"{nodes} nodes but no {' or '.join(missing)}: run multi-node training "
                "through the rule train_model_multinode, which sets them"
            )
        command += [
            "--machine_rank",
            env["ALARM_NODE_RANK"],
            "--main_process_ip",
            env["ALARM_MAIN_ADDR"],
            # The rule derives it from the job id: two jobs whose first node is the same
            # would otherwise both listen on accelerate's default 29500.
            "--main_process_port",
            env.get("ALARM_MASTER_PORT", "29500"),
            "--same_network",
        ]
    else:
        # Any free port: several training jobs can share a node.
        command += ["--main_process_port", "0"]
    return [*command, "-m", "alarm.cli", *argv]


def maybe_relaunch(argv: list[str]) -> None:
    """Replace this process with an accelerate launch when several devices or nodes train."""
    import torch

    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    command = accelerate_command(argv, gpus, dict(os.environ))
    if command is None:
        return
    sys.stdout.flush()
    os.execvp(command[0], command)
