"""The cluster profiles: GPU rules ask for H200s on the cluster and for CPUs in CI."""

import yaml
from workflow_helpers import REPO

from alarm.cluster import explain_failures, profile_problems

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


def test_every_gpu_rule_asks_for_h200s_on_the_cluster():
    h200 = _profile("slurm-h200")
    assert h200["executor"] == "slurm" and h200["software-deployment-method"] == "apptainer"
    assert "--nv" in h200["apptainer-args"] and h200["slurm-requeue"] is True
    for rule in GPU_RULES:
        resources = h200["set-resources"][rule]
        asks = resources.get("gpu_model") == "h200" or "h200" in str(resources.get("gres", ""))
        assert asks, rule
        assert "gpu_partition" in resources["slurm_partition"], rule
    assert h200["set-resources"]["train_model"]["gpu"] == 4  # a node of four H200
    assert set(h200["set-resources"]) == GPU_RULES  # CPU rules keep the CPU defaults


def test_the_ci_profile_maps_gpu_rules_to_cpus():
    ci = _profile("slurm-ci")
    assert ci["executor"] == "slurm" and ci["slurm-status-command"] == "squeue"
    for rule in GPU_RULES:
        assert ci["set-resources"][rule]["gpu"] == 0, rule
        assert "gpu_model" not in ci["set-resources"][rule]


def test_every_gpu_rule_of_the_workflow_is_in_the_profiles():
    import re

    rules = "\n".join(p.read_text() for p in (REPO / "workflow" / "rules").glob("*.smk"))
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
    lines = explain_failures(log)
    assert lines[0].startswith("rule train_model, SLURM job 4242: it ran out of memory")
    assert "set-resources.train_model.mem_mb" in lines[0]
    assert "set-resources.generate_r0.runtime" in lines[1]
