"""Multi-node training on a real two-node SLURM cluster: one task per node, in the image.

Two slurmd run on this machine (local_slurm.py, `slurmd -N`), so SLURM allocates two
nodes, starts one task on each and gives each its node rank, as on the H200 cluster.
The rule train_model_multinode runs through the SLURM CI profile with the H200
profile's Apptainer arguments; the Apptainer stand-in (fake_apptainer.py) clears the
environment, so nothing reaches the image that the rule does not hand over. These
nodes have no GPU: each runs one training process and the two talk gloo, where the
cluster's nodes run four processes each and talk NCCL. The launch, the rendezvous
and the data split across ranks are the same code.
"""

import json
import os
import socket
import subprocess
import sys

import pytest
from local_slurm import cluster_arguments, local_slurm, missing_requirements
from safetensors.torch import load_file
from workflow_helpers import copy_outputs, planned_jobs, snakemake

pytestmark = pytest.mark.slow

MODEL = "al_whisper_r"
TARGET = f"results/models/{MODEL}/adapter.safetensors"


@pytest.fixture(scope="module")
def two_nodes(tmp_path_factory):
    problem = missing_requirements()
    if problem:
        pytest.fail(f"cannot start the test cluster: {problem}")
    with local_slurm(tmp_path_factory.mktemp("slurm_state"), nodes=2) as names:
        yield names


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_training_spans_two_nodes_and_equals_two_processes_on_one(two_nodes, default_run, tmp_path):
    workdir = tmp_path / "run"
    workdir.mkdir()
    spread = tmp_path / "two_nodes.yaml"
    spread.write_text(f"models: {{{MODEL}: {{training: {{nodes: 2}}}}}}\n")
    env, args = cluster_arguments(tmp_path, spread)
    images = ["containers/data.sif", "containers/train.sif", "containers/vllm.sif"]
    snakemake(*images, *args, workdir=workdir, env=env)
    # The corpus and pretrained models of the default run (newer than the images): only
    # this model's training runs.
    copy_outputs(default_run, workdir)

    run = snakemake(TARGET, *args, workdir=workdir, env=env, check=False)
    log = run.stdout + run.stderr
    train_log = workdir / f"logs/train_model/{MODEL}.log"
    if run.returncode != 0:
        pytest.fail(log[-3000:] + (train_log.read_text()[-3000:] if train_log.exists() else ""))
    assert {rule for rule, _ in planned_jobs(log)} == {"train_model_multinode"}, log[-3000:]

    # One exec per node, each in the train image with the profile's Apptainer arguments,
    # its own node rank and the first node as the rendezvous; the code is the image's.
    calls = (tmp_path / "apptainer_calls.jsonl").read_text().splitlines()
    calls = [json.loads(line) for line in calls]
    execs = [c for c in calls if c["call"] == "exec" and "train-model" in c["command"]]
    assert len(execs) == 2, execs
    ranks = set()
    for e in execs:
        assert os.path.basename(e["image"]) == "train.sif"
        assert "--nv" in e["flags"] and env["ALARM_SCRATCH"] in e["binds"]
        given = dict(item.partition("=")[::2] for item in e["env"])
        assert given["HF_HOME"] == f"{env['ALARM_SCRATCH']}/hf_home"
        assert given["ALARM_NODES"] == "2" and given["ALARM_MAIN_ADDR"] == two_nodes[0]
        ranks.add(given["ALARM_NODE_RANK"])
        assert e["alarm_command"] == "/opt/venv/bin/alarm", e
    assert ranks == {"0", "1"}
    assert execs[0]["command"] == execs[1]["command"]

    metrics = json.loads((workdir / f"results/models/{MODEL}/metrics.json").read_text())
    assert metrics["processes"] == 2, metrics

    # The same command as two processes on one machine, without SLURM or the image: the
    # two-node run must give the same adapter, bit for bit, and the same history.
    command = execs[0]["command"]
    reference = tmp_path / "one_machine"
    argv = command[command.index("alarm") + 1 :]
    argv[argv.index("--run-dir") + 1] = str(reference)
    launch = [
        sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu",
        "--num_processes", "2", "--num_machines", "1", "--main_process_port", str(_free_port()),
        "-m", "alarm.cli", *argv,
    ]  # fmt: skip
    single = subprocess.run(
        launch,
        cwd=workdir,
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert single.returncode == 0, single.stderr[-3000:]
    spanned, local = load_file(workdir / TARGET), load_file(reference / "adapter.safetensors")
    assert spanned.keys() == local.keys()
    assert all((spanned[k] == local[k]).all() for k in spanned)
    history = json.loads((reference / "metrics.json").read_text())["history"]
    assert metrics["history"] == history
