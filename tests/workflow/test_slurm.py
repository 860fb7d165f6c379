"""The workflow on a real SLURM cluster, through training: a killed job is retried, none lost.

A one-node cluster is started on this machine (local_slurm.py). Apptainer cannot run
here, so a TEST DOUBLE (fake_apptainer.py) stands in for the `apptainer` binary: the
workflow builds its images (the alarm wheel of this checkout installed in each), and every
job runs in its image under bubblewrap, seeing only the image, the binds and the image's
environment; the double records each call and where the job's `alarm` came from. The run
uses the SLURM CI profile with the H200 profile's Apptainer arguments, so the wiring
checked here (image per rule, --nv, binds, environment, the code from the image) is the
one the cluster gets. The run starts from the default run's corpus but for two datasets,
one through the generation stages and one through the instruction stages, which the jobs
on the cluster make again and must make bit for bit as the local run did.
"""

import json
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from local_slurm import cluster_arguments, local_slurm, missing_requirements
from safetensors.torch import load_file
from workflow_helpers import (
    CI_ARGS,
    REPO,
    SNAKEFILE,
    check_ledgers,
    copy_outputs,
    dashboard,
    get_json,
    snakemake,
)

pytestmark = pytest.mark.slow

MODEL = "al_whisper_r"
TARGET = f"results/models/{MODEL}/adapter.safetensors"
# The datasets whose corpus the cluster makes again: every corpus stage runs for one of them.
REDO = ("synthetic_music", "synthetic_squad")
# The image each `alarm` subcommand must run in (workflow/rules/*.smk).
IMAGE_OF = {
    "make-synthetic-corpus": "data",
    "collect": "data",
    "audio-filter": "data",
    "answer-length-filter": "data",
    "train-val-split": "data",
    "corpus-index": "data",
    "generate-prompts": "vllm",
    "generate-r0": "vllm",
    "self-rephrase": "vllm",
    "instruction-responses": "vllm",
    "wer-filter": "train",
    "train-model": "train",
}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    problem = missing_requirements()
    if problem:
        pytest.fail(f"cannot start the test cluster: {problem}")
    with local_slurm(tmp_path_factory.mktemp("slurm_state")) as node:
        yield node


@pytest.fixture
def cluster_run(cluster, default_run, tmp_path):
    """A working directory, the environment of the fake apptainer, and the run command."""
    del cluster
    workdir = tmp_path / "run"
    workdir.mkdir()
    env, args = cluster_arguments(tmp_path)
    # The images first (on their own, as the README says), then the uninterrupted run's
    # tiny pretrained models (their format fit is not under test) and corpus but REDO's.
    images = ["containers/data.sif", "containers/train.sif", "containers/vllm.sif"]
    snakemake(*images, *args, workdir=workdir, env=env)  # targets first: --configfile takes 1+
    copy_outputs(default_run, workdir, redo=REDO)
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(SNAKEFILE), TARGET, *args]
    return workdir, env, command, tmp_path / "apptainer_calls.jsonl"


def _running_job(rule: str) -> str | None:
    out = subprocess.run(
        ["squeue", "-h", "-t", "RUNNING", "-o", "%i %k"], capture_output=True, text=True
    ).stdout
    for line in out.splitlines():
        job, _, comment = line.partition(" ")
        if comment.startswith(f"rule_{rule}"):
            return job
    return None


def _parquet_files(root: Path) -> list[Path]:
    return sorted(p.relative_to(root) for p in (root / "results/corpus").rglob("*.parquet"))


def test_a_job_cancelled_mid_training_is_rerun_and_nothing_is_lost(cluster_run, default_run):
    workdir, env, command, calls = cluster_run
    # Snakemake's log goes to a file: a pipe nobody reads while polling would fill and block it.
    log_file = workdir.parent / "first_run.log"
    with log_file.open("w") as out:
        first = subprocess.Popen(
            command, cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    checkpoint = workdir / f"results/models/{MODEL}/checkpoint/progress.json"
    cancelled = None
    deadline = time.monotonic() + 2400
    while first.poll() is None and time.monotonic() < deadline:
        job = _running_job("train_model")
        if job and checkpoint.exists():  # a checkpoint is written: cancel mid-training
            subprocess.run(["scancel", job], check=True)
            cancelled = job
            break
        time.sleep(0.2)
    first.wait(timeout=600)
    log = log_file.read_text()
    assert cancelled, f"no training job was seen running:\n{log[-3000:]}"
    # The rule retries a training job SLURM ended; the retry resumes from the checkpoint.
    assert f"external_jobid: {cancelled}" in log and "Trying to restart job" in log
    assert first.returncode == 0, log[-3000:]
    train_log = (workdir / f"logs/train_model/{MODEL}.log").read_text()
    assert "resuming from step" in train_log, train_log[-3000:]

    rerun = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    assert "Nothing to be done" in rerun.stdout + rerun.stderr

    ledgers = check_ledgers(workdir)
    assert ledgers.returncode == 0, ledgers.stdout + ledgers.stderr

    # The outputs equal those of the uninterrupted local run, shard by shard.
    files = _parquet_files(workdir)
    assert files and set(files) <= set(_parquet_files(default_run))
    assert all(any(dataset in str(f) for f in files) for dataset in REDO)
    for f in files:
        assert pq.read_table(workdir / f).equals(pq.read_table(default_run / f)), f
    resumed, uninterrupted = load_file(workdir / TARGET), load_file(default_run / TARGET)
    assert resumed.keys() == uninterrupted.keys()
    assert all((resumed[k] == uninterrupted[k]).all() for k in resumed)
    metrics = [
        json.loads((d / f"results/models/{MODEL}/metrics.json").read_text())["history"]
        for d in (workdir, default_run)
    ]
    assert metrics[0] == metrics[1]

    # Every job ran in its rule's image, with the GPUs, the scratch bound and HF_HOME on it,
    # and the code the image holds: the wheel of this checkout, not the checkout itself.
    entries = [json.loads(line) for line in calls.read_text().splitlines()]
    builds = {e["image"]: e["wheels"] for e in entries if e["call"] == "build"}
    assert set(builds) == {str(workdir / f"containers/{n}.sif") for n in ("data", "train", "vllm")}
    assert all(w == ["/opt/alarm/wheel/alarm-0.1.0-py3-none-any.whl"] for w in builds.values())
    execs = [e for e in entries if e["call"] == "exec"]
    ran = set()
    for e in execs:
        script = e["command"][-1]
        subcommand = script.split("alarm ", 1)[1].split()[0]
        assert Path(e["image"]).name == f"{IMAGE_OF[subcommand]}.sif", (subcommand, e["image"])
        assert "--nv" in e["flags"] and env["ALARM_SCRATCH"] in e["binds"]
        assert f"HF_HOME={env['ALARM_SCRATCH']}/hf_home" in e["env"]
        assert e["alarm_command"] == "/opt/venv/bin/alarm", e
        assert e["alarm_module"] == "/opt/venv/lib/python3.11/site-packages/alarm/__init__.py", e
        ran.add(subcommand)
    assert ran == set(IMAGE_OF) - {"make-synthetic-corpus"}  # the sources are copied
    # The jobs went through SLURM; the plugin keeps the logs of failed jobs only.
    assert list((workdir / "logs/slurm/rule_train_model").rglob(f"{cancelled}.log"))


def test_rules_a_partition_cannot_run_are_named_before_any_submission(cluster, tmp_path):
    """The site profile filled in with a partition of 30 minutes and 8 GB nodes: a dry run
    warns of what a launch refuses; the launch stops before submitting anything, naming
    each rule, what it asks and the limit (counting a retry's doubled memory)."""
    del cluster
    import os

    import yaml

    profile = tmp_path / "site"
    profile.mkdir()
    text = (REPO / "config/profiles/slurm-h200/config.yaml").read_text()
    for placeholder, value in (("CHANGE_ME_account", "a"), ("CHANGE_ME_cpu_partition", "short"),
                               ("CHANGE_ME_gpu_partition", "short"),
                               ("CHANGE_ME_gpu_model", "h200")):  # fmt: skip
        text = text.replace(placeholder, value)
    (profile / "config.yaml").write_text(text)
    env = dict(os.environ, ALARM_SCRATCH=str(tmp_path))
    paper = ["--configfile", str(REPO / "config/paper.yaml")]
    args = ["--profile", str(profile), "--sdm", "env-modules", *paper]
    dry = snakemake("-n", *args, workdir=tmp_path, env=env)
    assert "a launch would stop here" in dry.stderr + dry.stdout
    launch = snakemake(*args, workdir=tmp_path, env=env, check=False)
    said = launch.stderr + launch.stdout
    assert launch.returncode != 0 and "the run cannot start" in said
    assert "rule train_model asks for 4320 minutes, partition 'short' allows 30" in said
    assert "rule train_model asks for 480000 MB, partition 'short' grants at most 8000 MB" in said
    assert "rule collect asks for 240 minutes" in said
    assert not (tmp_path / "logs/slurm").exists()  # nothing was submitted
    # Within the limits on the first attempt, over them on the retry (memory doubled).
    overlay = tmp_path / "small.yaml"
    overlay.write_text(yaml.safe_dump({"resources": {
        name: {"runtime": 20, "mem_mb": 6000}
        for name in ("cpu", "cpu_long", "generation", "training", "inference")
    }}))  # fmt: skip
    launch = snakemake(*args, str(overlay), workdir=tmp_path, env=env, check=False)
    said = launch.stderr + launch.stdout
    assert "rule collect would retry with 12000 MB, partition 'short' grants at most 8000" in said
    assert "minutes" not in said.split("the run cannot start")[1].split("\n\n")[0]


def test_the_monitor_switches_work_with_the_slurm_executor(cluster, tmp_path):
    """The README's "Monitor" switches on a SLURM launch: the launch reports to the
    dashboard (panoptes), the rich terminal view (snakemake-logger-plugin-rich) draws it,
    and the plugin's efficiency report runs at its end. The test cluster keeps no
    accounting (no slurmdbd), so sacct has nothing and the report says so instead of
    writing its CSV; a site with accounting gets it."""
    del cluster
    target = "results/corpus/raw/synthetic_music/00000.parquet"
    with dashboard(tmp_path, tmp_path / "panoptes.db") as url:
        launch = snakemake(
            target,
            "--profile",
            str(REPO / "config/profiles/slurm-ci"),
            "--logger",
            "panoptes",
            "rich",
            "--logger-panoptes-address",
            url,
            "--slurm-efficiency-report",
            "--slurm-efficiency-report-path",
            "logs/slurm",
            *CI_ARGS,
            workdir=tmp_path,
        )
        (workflow,) = get_json(f"{url}/api/workflows")["workflows"]
    said = launch.stdout + launch.stderr
    assert (tmp_path / target).exists()
    # make_synthetic_corpus and collect, submitted to SLURM and reported as they finished.
    assert workflow["status"] == "Done" and workflow["jobs_done"] == workflow["jobs_total"] == 2
    # rich's own drawing: its job table and its end-of-workflow rule, not the default log.
    assert "Workflow Finished" in said and "collect" in said, said[-3000:]
    assert "Finished jobid" not in said  # the default handler's line: rich replaced it
    assert "Failed to retrieve job data" in said or "No job data found" in said, said[-3000:]
