"""The cluster profiles: GPU rules ask for H200s on the cluster and for CPUs in CI."""

import pytest
import yaml
from workflow_helpers import REPO

from alarm.cluster import (
    apptainer_args_problems,
    explain_failures,
    gpu_model_problems,
    host_environment_problems,
    preemption_warning,
    profile_problems,
)

GPU_RULES = {
    "generate_prompts",
    "generate_r0",
    "self_rephrase",
    "instruction_responses",
    "wer_filter",
    "benchmark_generate",
    "train_model",
    "train_model_multinode",
    "gpu_smoke_test",
}


def _profile(name):
    return yaml.safe_load((REPO / "config" / "profiles" / name / "config.yaml").read_text())


def test_the_site_profile_holds_only_what_differs_per_site():
    h200 = _profile("slurm-h200")
    assert h200["executor"] == "slurm" and h200["software-deployment-method"] == "apptainer"
    assert "--nv" in h200["apptainer-args"] and h200["slurm-requeue"] is True
    assert h200["local-cores"] <= 4  # downloads run on the login node
    # No job arrays: plugin 2.8.0 leaves array jobs it was handed unsubmitted while
    # Snakemake counts them as running, and the run can stall (plugin issue #473).
    assert "slurm-array-jobs" not in h200
    assert set(h200["default-resources"]) == {"slurm_account", "slurm_partition"}
    assert set(h200["set-resources"]) == GPU_RULES  # CPU rules keep the CPU defaults
    for rule, resources in h200["set-resources"].items():
        # The GPU partition and model name; how many GPUs, CPUs, how much memory and
        # time come from the rules (config/paper.yaml `resources:`), nowhere else. Multi-node
        # training asks for GPUs per node (--gres): with a gpu_model the plugin would add
        # --gpus, a count for the whole job.
        named = {"slurm_partition"} | ({"gpu_model"} if "multinode" not in rule else set())
        assert set(resources) == named, rule
        assert all("CHANGE_ME" in resources[key] for key in named), rule


def test_the_ci_profile_asks_for_no_gpu():
    ci = _profile("slurm-ci")
    assert ci["executor"] == "slurm" and ci["slurm-status-command"] == "squeue"
    assert "set-resources" not in ci  # the default config's resources ask for no GPU
    default = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    assert all(family.get("gpu", 0) == 0 for family in default.get("resources", {}).values())


def _rules_text() -> str:
    """Every rule file of the workflow, as one text."""
    return "\n".join(p.read_text() for p in (REPO / "workflow" / "rules").glob("*.smk"))


def _sbatch_lines(tmp_path, *overlays, options=()):
    """The `sbatch` line the SLURM plugin's own code builds for each job of the paper DAG
    under the H200 profile (a dry run gives each job's evaluated resources)."""
    import os
    import re
    import subprocess
    import sys
    from types import SimpleNamespace

    from snakemake_executor_plugin_slurm.submit_string import get_submit_command
    from snakemake_executor_plugin_slurm.utils import set_gres_string
    from workflow_helpers import SNAKEFILE, slurm_env

    plan = subprocess.run(
        [sys.executable, "-m", "snakemake", "--snakefile", str(SNAKEFILE), "-n",
         "--configfile", str(REPO / "config/paper.yaml"), *map(str, overlays),
         "--profile", str(REPO / "config/profiles/slurm-h200"), "--printshellcmds",
         # a real SLURM run leaves threads unconstrained (a dry run would cap them at 1)
         "--cores", "1024", *options,
         # a dry run needs no image runtime (Apptainer is not installable here)
         "--software-deployment-method", "env-modules", "--directory", str(tmp_path)],
        capture_output=True, text=True, check=True,
        env=slurm_env(dict(os.environ, ALARM_SCRATCH="/s")),
    ).stdout  # fmt: skip
    lines = {}
    for block in re.split(r"\n(?=(?:local)?rule \w+:)", plan):
        head = re.match(r"rule (\w+):", block.strip())  # local rules are never submitted
        if not head or head[1] == "all":
            continue
        listed = re.search(r"^\s+resources: (.*)$", block, re.M)[1]
        resources = {}
        for item in re.split(r", (?=\w+=)", listed):
            key, value = item.split("=", 1)
            resources[key] = int(value) if value.isdigit() else value
        threads = re.search(r"^\s+threads: (\d+)$", block, re.M)
        job = SimpleNamespace(
            resources=SimpleNamespace(**resources, get=resources.get),
            threads=int(threads[1]) if threads else 1,
        )
        params = {"run_uuid": "u", "slurm_logfile": "l", "comment_str": f"rule_{head[1]}",
                  "account": "-A a", "partition": f"-p {resources['slurm_partition']}",
                  "workdir": str(tmp_path)}  # fmt: skip
        shell = re.search(r"^Shell command: (.*)$", block, re.M)[1]
        sbatch = get_submit_command(job, params) + set_gres_string(job)  # as the plugin does
        lines.setdefault(head[1], set()).add((sbatch, shell))
    return lines


def test_the_h200_sbatch_lines_ask_for_gpus_for_every_gpu_rule_and_none_for_cpu_rules(tmp_path):
    import re

    lines = _sbatch_lines(tmp_path)
    rules = _rules_text()
    local = set(
        re.findall(
            r"rule (\w+):(?:(?!\nrule ).)*?localrule: (?:True|on_login_node\(\"\1\"\))",
            rules,
            re.DOTALL,
        )
    )
    assert {"build_container", "download_corpus"} <= local
    assert {"train_model", "generate_r0", "collect", "corpus_index"} <= set(lines)
    for rule, calls in lines.items():
        for call, _ in calls:
            if rule in GPU_RULES:
                wanted = 4 if rule == "train_model" else 1
                assert f"--gpus=CHANGE_ME_gpu_model:{wanted}" in call, (rule, call)
            else:
                assert "--gpus" not in call and "--gres" not in call, (rule, call)
            # A time limit of its own, and memory from the rule (the default, twice the
            # inputs, would count the Apptainer image); local rules are never submitted.
            if rule not in local:
                assert re.search(r" -t \d+", call) and "--mem " in call, (rule, call)
    train, train_shell = sorted(lines["train_model"])[0]
    assert "--cpus-per-task=64" in train and "--mem 480000" in train and "-t 4320" in train
    # its 4 GPUs on one node (--gpus counts the job's); no signal: the loop stops itself
    assert "--nodes=1" in train and "--signal" not in train
    assert "--time-limit-minutes 4320 " in train_shell


def test_every_job_hands_its_stage_the_threads_it_asks_slurm_for(tmp_path):
    """A stage computes with its job's CPUs (--threads, from the rule's threads), and a
    stage run by hand with the same config defaults to the same number: the float
    reductions follow the thread count, so both give the same bits."""
    import re

    from alarm.config import load_config
    from alarm.registry import STAGES

    paper = load_config([REPO / "config" / "paper.yaml"])
    families = set()
    for rule, calls in _sbatch_lines(tmp_path).items():
        for sbatch, shell in calls:
            if not re.search(r"(^|[ ;&'])alarm ", shell):  # image builds, GPU smoke tests
                continue
            given = re.search(r"\balarm ([a-z0-9-]+) --threads (\d+) ", shell)
            assert given, (rule, shell)
            stage = STAGES[given[1].replace("-", "_")]
            assert int(given[2]) == stage.threads_of(paper), (rule, shell)
            assert f"--cpus-per-task={given[2]}" in sbatch, (rule, sbatch)
            families.add(stage.family)
    assert families == {None, "cpu", "cpu_long", "generation", "training", "inference"}


def test_downloads_and_builds_go_to_a_partition_the_profile_gives_them(tmp_path):
    """On the login node by default (never submitted); a partition in set-resources sends
    them to it, with a time limit and memory of their own."""
    moved = ("download_corpus", "download_pretrained", "download_benchmark", "build_container")
    rules = _rules_text()
    for rule in moved:  # a local rule unless the profile names a partition for it
        assert f'localrule: on_login_node("{rule}")' in rules
    options = ["--set-resources", *(f"{rule}:slurm_partition=transfer" for rule in moved)]
    lines = _sbatch_lines(tmp_path / "transfer", options=options)
    for rule in moved:
        for sbatch, _ in lines[rule]:
            assert "-p transfer" in sbatch and " -t " in sbatch and "--mem " in sbatch, sbatch


def test_every_gpu_rule_of_the_workflow_is_in_the_profiles():
    import re

    rules = _rules_text()
    in_gpu_images = set(
        re.findall(
            r"rule (\w+):(?:(?!\nrule ).)*?image\(\"(?:vllm|train|\{name\})\"\)", rules, re.DOTALL
        )
    )
    cpu_only = {"make_tiny_model", "model_summary"}  # tiny models, meta-device summaries
    assert in_gpu_images - cpu_only <= GPU_RULES


def test_a_profile_left_with_placeholders_is_refused_with_what_to_change():
    problems = profile_problems(
        "slurm",
        {"slurm_account": "CHANGE_ME_account"},
        {"generate_r0": {"slurm_partition": "CHANGE_ME_gpu_partition"}},
    )
    assert any("default-resources.slurm_account is still CHANGE_ME_account" in p for p in problems)
    assert any("set-resources.generate_r0.slurm_partition" in p for p in problems)
    assert any("slurm_partition is missing" in p for p in problems)
    assert profile_problems("local", {}, {}) == []


def test_jobs_killed_by_the_scheduler_are_explained():
    log = (
        "Error in rule train_model:\n    message: SLURM-job '4242' failed, SLURM status is: "
        "'OUT_OF_MEMORY'. Reason: Step 0: OutOfMemory.\n    jobid: 12\n"
        "Error in rule generate_r0:\n    message: SLURM-job '77' failed, SLURM status is: "
        "'TIMEOUT'. Detailed failure reason unavailable\n"
    )
    log += (
        "Error in rule collect:\n    jobid: 3\n    log: logs/collect/vctk/00000.log "
        "(check log file(s) for error details)\nsome other line, SLURM-job '9' failed\n"
    )
    lines = explain_failures(log)
    assert lines[2] == "rule collect failed; its log: logs/collect/vctk/00000.log"
    assert lines[0].startswith("rule train_model, SLURM job 4242: it ran out of memory")
    assert "set-resources.train_model.mem_mb" in lines[0]
    assert "set-resources.generate_r0.runtime" in lines[1]


def test_a_failed_site_preflight_is_explained_by_what_the_node_lacks(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "logs/site_preflight").mkdir(parents=True)
    lacks = "preflight: partition gpu, node n1: apptainer is not on PATH here: load it ..."
    (tmp_path / "logs/site_preflight/gpu.log").write_text(f"srun: job 5 queued\n{lacks}\n")
    log = (
        "Error in rule site_preflight:\n    jobid: 2\n    log: logs/site_preflight/gpu.log "
        "(check log file(s) for error details)\n"
    )
    assert explain_failures(log) == [lacks]


def test_partition_limits_are_read_as_slurm_prints_them():
    from alarm.cluster import Partition, partition_of, slurm_minutes

    assert [slurm_minutes(v) for v in ("UNLIMITED", "30", "45:10", "1:00:00", "2-00:00:00",
                                       "3-0", "1-12:30")] == [None, 30, 46, 60, 2880, 4320,
                                                              2190]  # fmt: skip
    scontrol = "PartitionName=gpu AllowGroups=ALL MaxTime=2-00:00:00 MaxMemPerNode=UNLIMITED"
    assert partition_of(scontrol, "1031000+\n2063000\n") == Partition(2880, 2063000)
    capped = scontrol.replace("MaxMemPerNode=UNLIMITED", "MaxMemPerNode=512000")
    assert partition_of(capped, "2063000") == Partition(2880, 512000)
    assert partition_of("", None) is None  # scontrol knows no such partition


def test_an_unset_scratch_is_named_before_any_submission():
    # What Snakemake hands over when ALARM_SCRATCH is unset: the variable as written.
    unset = "--nv --bind $ALARM_SCRATCH --env HF_HOME=$ALARM_SCRATCH/hf_home"
    (problem,) = apptainer_args_problems(unset)
    assert "export ALARM_SCRATCH" in problem
    assert apptainer_args_problems("--nv --bind --env HF_HOME=/hf_home")  # expanded to ""
    assert apptainer_args_problems("--nv --bind /s --env HF_HOME=/s/hf_home") == []
    assert apptainer_args_problems("") == []  # a run with no Apptainer arguments


def test_a_launch_whose_python_variables_would_reach_the_images_is_refused():
    (problem,) = host_environment_problems({"PYTHONPATH": "/apps/python/3.11/site", "HOME": "/h"})
    assert problem.startswith("PYTHONPATH is set") and "`unset PYTHONPATH`" in problem
    assert [p.split()[0] for p in host_environment_problems({"PYTHONHOME": "/apps"})] == [
        "PYTHONHOME"
    ]
    assert host_environment_problems({"PYTHONPATH": "", "HOME": "/h"}) == []


def test_a_gpu_model_the_cluster_does_not_have_is_named():
    gres = "gpu:h200:8(S:0-1)\n(null)\n"
    (problem,) = gpu_model_problems(["H200", "h200"], gres)
    assert "'H200' is not a GPU type of this cluster (sinfo offers: h200)" in problem
    assert gpu_model_problems(["h200"], gres) == []
    assert gpu_model_problems(["h200"], None) == []  # no sinfo: nothing to check against


def test_multi_node_training_launches_one_task_per_node_in_the_image(tmp_path):
    # The H200 profile's request; test_multinode.py runs this rule on two CPU nodes.
    two_nodes = tmp_path / "nodes.yaml"
    two_nodes.write_text("models: {alarm_ca: {training: {nodes: 2}}}\n")
    ((sbatch, shell),) = _sbatch_lines(tmp_path / "run", two_nodes)["train_model_multinode"]
    assert "--nodes=2" in sbatch and "--ntasks=2" in sbatch and "--gres=gpu:4" in sbatch
    assert "--gpus" not in sbatch and "--cpus-per-task=64" in sbatch
    assert "--signal" not in sbatch and "--time-limit-minutes 4320 " in shell
    assert "srun --nodes=2 --ntasks-per-node=1 --cpus-per-task=64 --kill-on-bad-exit=1" in shell
    # the profile's Apptainer arguments (GPUs, the scratch, the HF cache), the rendezvous
    assert "apptainer exec --home $PWD --nv --bind /s --env HF_HOME=/s/hf_home" in shell
    # each node's task hands its own rank to the image (its shell expands $SLURM_NODEID)
    assert "scontrol show hostnames" in shell and "export ALARM_MAIN_ADDR" in shell
    assert "--env ALARM_NODES=2 --env ALARM_NODE_RANK=$SLURM_NODEID" in shell


def test_each_node_launches_accelerate_with_the_first_node_as_rendezvous(monkeypatch):
    from alarm.training.launch import accelerate_command

    monkeypatch.delenv("LOCAL_RANK", raising=False)
    monkeypatch.delenv("RANK", raising=False)
    env = {"ALARM_NODES": "2", "ALARM_NODE_RANK": "1", "ALARM_MAIN_ADDR": "gpu017",
           "ALARM_MASTER_PORT": "21234"}  # fmt: skip
    command = accelerate_command(["train-model"], 4, env)
    assert command[command.index("--num_processes") + 1] == "8"
    assert command[command.index("--machine_rank") + 1] == "1"
    assert command[command.index("--main_process_ip") + 1] == "gpu017"
    assert command[command.index("--main_process_port") + 1] == "21234"  # the job's own
    # One node: any free port, so that two trainings on one node do not collide.
    single = accelerate_command(["train-model"], 4, {})
    assert single[single.index("--main_process_port") + 1] == "0"
    # a CPU node trains in one process
    command = accelerate_command(["train-model"], 0, env)
    assert command[command.index("--num_processes") + 1] == "2"
    assert accelerate_command(["train-model"], 0, {}) is None
    with pytest.raises(RuntimeError, match="ALARM_NODE_RANK or ALARM_MAIN_ADDR"):
        accelerate_command(["train-model"], 4, {"ALARM_NODES": "2"})


def test_a_cluster_that_cancels_preempted_jobs_is_warned_of_before_submission():
    assert "PreemptMode=CANCEL" in preemption_warning("PreemptMode             = CANCEL\n")
    assert preemption_warning("PreemptMode             = REQUEUE\n") is None
    assert preemption_warning(None) is None  # no scontrol: nothing to say


def test_the_monitor_settings_are_the_plugins_own():
    """The efficiency report is on in the site profile, with keys the SLURM plugin declares;
    each profile's dashboard switch (commented out) names installed logger plugins and
    their settings."""
    import dataclasses
    import re

    from snakemake_executor_plugin_slurm import ExecutorSettings
    from snakemake_logger_plugin_panoptes import LogHandlerSettings

    h200 = _profile("slurm-h200")
    plugin_keys = {
        f"slurm-{f.name.replace('_', '-')}" for f in dataclasses.fields(ExecutorSettings)
    }
    assert h200["slurm-efficiency-report"] is True
    assert {k for k in h200 if k.startswith("slurm-efficiency")} <= plugin_keys
    panoptes_keys = {f"logger-panoptes-{f.name}" for f in dataclasses.fields(LogHandlerSettings)}
    for name in ("local", "slurm-h200"):
        text = (REPO / "config" / "profiles" / name / "config.yaml").read_text()
        switch = yaml.safe_load("\n".join(re.findall(r"^# (logger\S*: .*)$", text, re.M)))
        assert switch["logger"] == ["panoptes"] and "logger" not in _profile(name), name
        assert set(switch) - {"logger"} <= panoptes_keys, name
