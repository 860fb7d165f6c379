"""The site preflight: one short job on each partition a cluster run uses (``cpu``: the data
image's jobs, ``gpu``: the train and vllm images' jobs), before any other job of those
images, checking on a compute node what the login node cannot see.

It runs as a local rule on the login node and reaches the node with ``srun``, in plain
shell, so it can say what it finds even where the host environment's Python is missing
(the SLURM plugin starts every job with ``<that python> -m snakemake``, and a Python that
exists only on the login node kills every job before its first line). Each failure is
one line: what is missing, on which node and partition, and the fix.

Standard library only: the rule runs it with the host environment's Python.
"""

from __future__ import annotations

import argparse
import secrets
import shlex
import subprocess
import sys
from pathlib import Path

# The NVIDIA driver the images' CUDA 13.0 needs at least.
MIN_DRIVER = 580

# Run on the node by `sh -s`, with $PY, $IMAGE, $ARGS, $SCRATCH, $TOKEN, $KIND set.
CHECKS = r"""
node=$(hostname -s)
failed=0
fail() { echo "preflight: node $node: $1"; failed=1; }
if [ ! -x "$PY" ]; then
  fail "the host environment's Python $PY does not exist here, and the SLURM plugin starts \
every job with it: install the host environment (make install-host) on a filesystem the \
compute nodes mount, e.g. the checkout on scratch"
elif ! "$PY" -c 'import snakemake' 2>/dev/null; then
  fail "the host environment's Python $PY runs here but cannot import snakemake: install the \
host environment (make install-host) where the compute nodes see all of it"
fi
if ! command -v apptainer >/dev/null 2>&1; then
  fail "apptainer is not on PATH here: load it in the jobs' environment (e.g. module load \
apptainer in ~/.bashrc) or ask the site to install it on the compute nodes"
elif [ -n "$IMAGE" ] && ! apptainer exec $ARGS "$IMAGE" true; then
  fail "apptainer cannot run $IMAGE here with the profile's apptainer-args ($ARGS): see \
the message above (a bind path missing on the node, no user namespaces: --fakeroot)"
elif [ "$KIND" = gpu ]; then
  driver=$(apptainer exec --nv $ARGS "$IMAGE" nvidia-smi --query-gpu=driver_version \
--format=csv,noheader 2>/dev/null | head -n 1)
  if [ -z "$driver" ]; then
    fail "apptainer exec --nv sees no GPU here: check the GPU partition and gpu_model of \
the profile, and that the NVIDIA driver is installed on the node"
  elif [ "${driver%%.*}" -lt "$MIN_DRIVER" ]; then
    fail "the NVIDIA driver is $driver; the images' CUDA 13.0 needs $MIN_DRIVER or newer: \
ask the site to update it, or use a partition whose nodes have it"
  fi
fi
if [ ! -r "$SCRATCH/.alarm-preflight/$TOKEN" ]; then
  fail "ALARM_SCRATCH ($SCRATCH) is not the login node's: a file written there on the \
login node is not seen here; set ALARM_SCRATCH to a filesystem every node mounts"
fi
hf="${HF_HOME:-$SCRATCH/hf_home}"
if ! mkdir -p "$hf" 2>/dev/null || ! touch "$hf/.alarm-preflight-$TOKEN" 2>/dev/null; then
  fail "the Hugging Face cache $hf is not writable here: choose a writable HF_HOME in the \
profile's apptainer-args"
fi
rm -f "$hf/.alarm-preflight-$TOKEN"
exit $failed
"""


def srun_command(partition: str, account: str | None, gpu_model: str | None) -> list[str]:
    """A short allocation on ``partition``: one task, 10 minutes, one GPU on GPU nodes."""
    command = ["srun", "--partition", partition, "--nodes", "1", "--ntasks", "1"]
    command += ["--time", "10", "--mem", "2000"]
    if account:
        command += ["--account", account]
    if gpu_model:
        command += [f"--gpus={gpu_model}:1"]
    return command


def preflight(
    kind: str,
    srun: list[str],
    python: str,
    scratch: Path,
    image: str = "",
    apptainer_args: str = "",
) -> list[str]:
    """The failures the node reports (empty when every check passes)."""
    token = secrets.token_hex(8)
    marker = scratch / ".alarm-preflight" / token
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text("written on the login node\n")
    env = "".join(
        f"{name}={shlex.quote(value)}\n"
        for name, value in {
            "PY": python,
            "IMAGE": image,
            "ARGS": apptainer_args,
            "SCRATCH": str(scratch),
            "TOKEN": token,
            "KIND": kind,
            "MIN_DRIVER": str(MIN_DRIVER),
        }.items()
    )
    try:
        done = subprocess.run(
            [*srun, "sh", "-s"], input=env + CHECKS, capture_output=True, text=True
        )
    finally:
        marker.unlink(missing_ok=True)
    sys.stderr.write(done.stderr)
    failures = [line for line in done.stdout.splitlines() if line.startswith("preflight: ")]
    if done.returncode != 0 and not failures:
        failures.append(f"preflight: srun failed ({done.returncode}): {done.stderr.strip()}")
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m alarm.preflight", description=__doc__)
    parser.add_argument("kind", choices=["cpu", "gpu"])
    parser.add_argument("--partition", required=True)
    parser.add_argument("--account")
    parser.add_argument("--gpu-model")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--scratch", type=Path, required=True)
    parser.add_argument("--image", default="")
    parser.add_argument("--apptainer-args", default="")
    parser.add_argument("--output", type=Path, required=True)
    a = parser.parse_args(argv)
    srun = srun_command(a.partition, a.account, a.gpu_model if a.kind == "gpu" else None)
    failures = preflight(a.kind, srun, a.python, a.scratch, a.image, a.apptainer_args)
    for line in failures:
        print(f"{line.replace('preflight: ', f'preflight: partition {a.partition}, ', 1)}")
    if failures:
        return 1
    a.output.parent.mkdir(parents=True, exist_ok=True)
    a.output.write_text(f"partition {a.partition}: every check passed\n")
    print(f"preflight: partition {a.partition}: every check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
