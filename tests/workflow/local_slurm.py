"""A real SLURM cluster on this machine, started and stopped by the cluster tests.

The recipe of shared/local-slurm.md: munge for authentication, slurmctld and slurmd
with their state under a temporary directory, and the configuration at the default
path /etc/slurm/slurm.conf (jobs call srun, which reads only that path). Needs root and
the Debian packages slurm-wlm and munge, which `make` installs.

Two nodes are two slurmd on this host (`slurmd -N NAME`, each on its own port, with
its own spool, pid and log files, which Debian's build allows). Their names are this
host's name and `localhost`, so that both resolve, as node names do on a cluster.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import fake_apptainer
import registry_double
import yaml
from filelock import FileLock
from workflow_helpers import CI_ARGS, REPO, SLURM_UP

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


def _free_ports(n: int) -> list[int]:
    """Ports nothing listens on now (held together while chosen, so they differ): the
    daemons' defaults (6817, 6818) may be taken by a SLURM of the machine's own."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(n)]
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in socks]


def _conf(names: list[str], state: Path, cpus: int, memory_mb: int) -> str:
    ctld, *slurmd = _free_ports(1 + len(names))
    if len(names) == 1:
        nodes = (
            f"NodeName={names[0]} Port={slurmd[0]} CPUs={cpus} RealMemory={memory_mb} State=UNKNOWN"
        )
    else:
        nodes = "\n".join(
            f"NodeName={name} NodeHostname={names[0]} NodeAddr=127.0.0.1 Port={port} "
            f"CPUs={cpus} RealMemory={memory_mb} State=UNKNOWN"
            for name, port in zip(names, slurmd, strict=True)
        )
    return f"""\
ClusterName=alarm-ci
SlurmctldHost={names[0]}
SlurmctldPort={ctld}
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
SlurmdPidFile={state}/slurmd-%n.pid
StateSaveLocation={state}/ctld
SlurmdSpoolDir={state}/d-%n
SlurmctldLogFile={state}/slurmctld.log
SlurmdLogFile={state}/slurmd-%n.log
{nodes}
PartitionName=debug Nodes={",".join(names)} Default=YES MaxTime=INFINITE State=UP
PartitionName=short Nodes={",".join(names)} MaxTime=30 State=UP
"""  # short: the partition a site's limits test asks too much of


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
def local_slurm(
    state: Path,
    cpus: int | None = None,
    memory_mb: int = 8000,
    nodes: int = 1,
    hide: Path | None = None,
):
    """Run slurmctld and one slurmd per node for the duration of the block; yields the
    node names in SLURM's order (a job's first node is the first of them). ``hide``: a
    folder the login node sees and the nodes' jobs do not (their slurmd runs in a mount
    namespace with an empty tmpfs over it), as a path local to the login node."""
    host = socket.gethostname().split(".")[0]
    names = [host, "localhost"][:nodes]
    if len(names) < nodes or host == "localhost":
        raise ValueError(f"this test cluster has at most two nodes, with distinct names: {names}")
    cpus = cpus or os.cpu_count() or 1
    # One test cluster per machine (one /etc/slurm/slurm.conf): under pytest-xdist a second
    # worker's cluster waits for the first to stop.
    SLURM_CONF.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(SLURM_CONF.parent / "alarm-test-cluster.lock"):
        yield from _cluster(state, names, cpus, memory_mb, hide)


def _cluster(state: Path, names: list[str], cpus: int, memory_mb: int, hide: Path | None):
    nodes = len(names)
    for d in ("ctld", *(f"d-{name}" for name in names)):
        (state / d).mkdir(parents=True, exist_ok=True)
    previous = SLURM_CONF.read_text() if SLURM_CONF.exists() else None
    SLURM_CONF.write_text(_conf(names, state, cpus, memory_mb))
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
        for name in names:
            slurmd = ["slurmd", "-N", name] if nodes > 1 else ["slurmd"]
            if hide is not None:
                hidden = f'mount -t tmpfs tmpfs "{hide}" && exec "$@"'
                unshare = ["unshare", "--mount", "--propagation", "private", "sh", "-c", hidden]
                slurmd = [*unshare, "slurmd", *slurmd]
            subprocess.run(slurmd, check=True)
        _wait(
            lambda: (
                subprocess.run(
                    ["sinfo", "-h", "-N", "-p", "debug", "-o", "%T"], capture_output=True, text=True
                ).stdout.split()
                == ["idle"] * nodes
            ),
            f"not all {nodes} node(s) are idle",
        )
        hostlist = subprocess.run(
            ["sinfo", "-h", "-p", "debug", "-o", "%N"], capture_output=True, text=True
        )
        listed = subprocess.run(
            ["scontrol", "show", "hostnames", hostlist.stdout.strip()],
            capture_output=True,
            text=True,
        )
        os.environ[SLURM_UP] = "1"
        yield listed.stdout.split()
    finally:
        os.environ.pop(SLURM_UP, None)
        subprocess.run(["scancel", "--user=root"], capture_output=True)
        for name in names:
            _stop(state / f"slurmd-{name}.pid")
        _stop(state / "slurmctld.pid")
        if started_munge:
            subprocess.run(
                ["runuser", "-u", "munge", "--", "munged", "--stop"], capture_output=True
            )
        if previous is None:
            SLURM_CONF.unlink(missing_ok=True)
        else:
            SLURM_CONF.write_text(previous)


def cluster_arguments(tmp_path: Path, *configs: Path) -> tuple[dict[str, str], list[str]]:
    """The environment and Snakemake arguments of a run on the test cluster: the SLURM CI
    profile with the H200 profile's Apptainer arguments, the Apptainer stand-in
    (fake_apptainer.py, logging to tmp_path/apptainer_calls.jsonl) first on PATH, the
    registry double in place of Docker Hub (image builds resolve their base's digest), a
    scratch directory, the images as DAG targets, then the given config files."""
    if shutil.which("bwrap") is None:
        raise RuntimeError("the Apptainer stand-in needs bubblewrap: run `make` (APT_PACKAGES)")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_apptainer.install(bin_dir)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    env = dict(
        os.environ,
        PATH=os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent), os.environ["PATH"]]),
        FAKE_APPTAINER_LOG=str(tmp_path / "apptainer_calls.jsonl"),
        ALARM_SCRATCH=str(scratch),
        ALARM_DOCKER_HUB=registry_double.url(),
    )
    built = tmp_path / "containers.yaml"
    built.write_text("containers: {build: true}\n")  # images are DAG targets, as on the cluster
    h200 = yaml.safe_load((REPO / "config/profiles/slurm-h200/config.yaml").read_text())
    args = [
        "--profile",
        str(REPO / "config/profiles/slurm-ci"),
        "--sdm",
        "apptainer",
        "--apptainer-args",
        os.path.expandvars(h200["apptainer-args"].replace("$ALARM_SCRATCH", str(scratch))),
        *CI_ARGS,
        str(built),
        *map(str, configs),
    ]
    return env, args
