"""A real one-node SLURM cluster on this machine, started and stopped by the cluster tests.

The recipe of shared/local-slurm.md: munge for authentication, slurmctld and slurmd
with their state under a temporary directory, and the configuration at the default
path /etc/slurm/slurm.conf (jobs call srun, which reads only that path). Needs root and
the Debian packages slurm-wlm and munge, which `make` installs.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

SLURM_CONF = Path("/etc/slurm/slurm.conf")
MUNGE_KEY = Path("/etc/munge/munge.key")


def missing_requirements() -> str | None:
    """Why no cluster can be started here, or None."""
    if os.geteuid() != 0:
        return "the SLURM daemons need root"
    tools = [t for t in ("slurmctld", "slurmd", "munged", "sbatch") if not shutil.which(t)]
    if tools:
        return f"not installed: {', '.join(tools)} (run `make`, which installs slurm-wlm, munge)"
    return None


def _conf(host: str, state: Path, cpus: int, memory_mb: int) -> str:
    return f"""\
ClusterName=alarm-ci
SlurmctldHost={host}
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
SchedulerType=sched/backfill
SlurmctldPidFile={state}/slurmctld.pid
SlurmdPidFile={state}/slurmd.pid
StateSaveLocation={state}/ctld
SlurmdSpoolDir={state}/d
SlurmctldLogFile={state}/slurmctld.log
SlurmdLogFile={state}/slurmd.log
NodeName={host} CPUs={cpus} RealMemory={memory_mb} State=UNKNOWN
PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP
"""


def _wait(check, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise TimeoutError(f"the local SLURM cluster did not come up: {what}")


def _ok(*command: str) -> bool:
    return subprocess.run(command, capture_output=True).returncode == 0


def _stop(pid_file: Path) -> None:
    with contextlib.suppress(FileNotFoundError, ProcessLookupError, ValueError):
        os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)


@contextlib.contextmanager
def local_slurm(state: Path, cpus: int | None = None, memory_mb: int = 8000):
    """Run slurmctld and slurmd for the duration of the block; yields the node name."""
    host = socket.gethostname().split(".")[0]
    cpus = cpus or os.cpu_count() or 1
    for d in ("ctld", "d"):
        (state / d).mkdir(parents=True, exist_ok=True)
    SLURM_CONF.parent.mkdir(parents=True, exist_ok=True)
    previous = SLURM_CONF.read_text() if SLURM_CONF.exists() else None
    SLURM_CONF.write_text(_conf(host, state, cpus, memory_mb))
    started_munge = False
    try:
        if not _ok("sh", "-c", "munge -n | unmunge"):
            if not MUNGE_KEY.exists():
                subprocess.run(["mungekey", "--create"], check=True)
                shutil.chown(MUNGE_KEY, "munge", "munge")
            Path("/run/munge").mkdir(exist_ok=True)
            shutil.chown("/run/munge", "munge", "munge")
            subprocess.run(["runuser", "-u", "munge", "--", "munged", "--force"], check=True)
            started_munge = True
            _wait(lambda: _ok("sh", "-c", "munge -n | unmunge"), "munge")
        subprocess.run(["slurmctld"], check=True)
        _wait(lambda: _ok("scontrol", "ping"), "slurmctld")
        subprocess.run(["slurmd"], check=True)
        _wait(
            lambda: (
                "idle"
                in subprocess.run(
                    ["sinfo", "-h", "-o", "%T"], capture_output=True, text=True
                ).stdout
            ),
            "the node is not idle",
        )
        yield host
    finally:
        subprocess.run(["scancel", "--user=root"], capture_output=True)
        for daemon in ("slurmd", "slurmctld"):
            _stop(state / f"{daemon}.pid")
        if started_munge:
            subprocess.run(
                ["runuser", "-u", "munge", "--", "munged", "--stop"], capture_output=True
            )
        if previous is None:
            SLURM_CONF.unlink(missing_ok=True)
        else:
            SLURM_CONF.write_text(previous)
