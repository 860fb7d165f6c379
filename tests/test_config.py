import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from alarm.config import ConfigError, load_config, moving_revisions, validate_config

REPO = Path(__file__).resolve().parents[1]


def test_both_configurations_validate(default_config, paper_config):
    assert default_config["training"]["grad_clip"] == 1.0  # a schema default filled in
    assert len(paper_config["datasets"]) == 33
    assert paper_config["generation"]["rephrase"]["thinking_budget"] == 1536


def test_every_hub_revision_of_the_paper_run_is_a_commit_but_sslam_s(paper_config):
    # No public pin of SSLAM's hub repo was found (the authors load its main branch).
    [moving] = moving_revisions(paper_config)
    assert moving.startswith("pretrained.sslam.hub: ta012/SSLAM_AS2M_Finetuned@main is a branch")
    config = copy.deepcopy(paper_config)
    config["datasets"]["cameo"]["source"]["revision"] = "v1.0"
    assert any(
        m.startswith("datasets.cameo.source: amu-cai/CAMEO@v1.0") for m in moving_revisions(config)
    )


def test_paper_config_registers_every_corpus_and_model(paper_config):
    categories = {}
    for name, spec in paper_config["datasets"].items():
        categories.setdefault(spec["category"], []).append(name)
    assert {k: len(v) for k, v in categories.items()} == {
        "speech": 13,
        "multi_speaker": 6,
        "sound": 5,
        "music": 7,
        "instruction": 2,
    }
    assert set(paper_config["models"]) == {
        "al_whisper_r",
        "al_whisper_instruct_r",
        "al_w2vbert2_r",
        "al_muq_r",
        "al_sslam_r",
        "alarm_ca",
        "alarm_p",
        "alarm_e",
    }
    assert paper_config["datasets"]["audioset"]["train_for"]["al_sslam_r"] == 0.2
    assert paper_config["pretrained"]["rlm"]["hub"]["repo"] == "Qwen/Qwen3-4B-Thinking-2507"
    assert paper_config["encoders"]["whisper"]["layers"] == [7, 15, 23, 31]


def _raw(path="config.yaml"):
    return yaml.safe_load((REPO / "config" / path).read_text())


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda c: c["generation"]["r0"].update(max_tokns=5),
            "generation.r0': Additional properties",
        ),
        (
            lambda c: c["generation"]["r0"].update(max_tokens=0),
            "generation.r0.max_tokens': 0 is less",
        ),
        (
            lambda c: c["datasets"]["synthetic_sound"].update(category="noise"),
            "datasets.synthetic_sound.category",
        ),
        (lambda c: c.update(trainig={}), "'trainig' was unexpected"),
        (
            lambda c: c["datasets"]["synthetic_music"]["train_for"].update(al_bogus_r=1.0),
            "datasets.synthetic_music.train_for: unknown model 'al_bogus_r'",
        ),
        (
            lambda c: c["models"]["alarm_e"].update(ensemble=["alarm_ca", "nope"]),
            "models.alarm_e.ensemble: unknown trained model 'nope'",
        ),
        (
            lambda c: c["evaluation"].update(models=["al_nothing"]),
            "evaluation.models: unknown model",
        ),
    ],
)
def test_errors_name_the_offending_key(mutate, message):
    config = copy.deepcopy(_raw())
    mutate(config)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        validate_config(config)


def test_snakemake_rejects_a_bad_config_at_dag_build(tmp_path):
    config = _raw()
    config["generation"]["r0"]["max_tokens"] = -1
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(config))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "-n",
            "--configfile",
            str(bad),
            "--directory",
            str(tmp_path),
            "--snakefile",
            str(REPO / "workflow" / "Snakefile"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "max_tokens" in result.stdout + result.stderr


def test_configfiles_merge_left_to_right(tmp_path):
    override = tmp_path / "o.yaml"
    override.write_text("generation: {r0: {max_tokens: 77}}\n")
    config = load_config([REPO / "config" / "config.yaml", override])
    assert config["generation"]["r0"]["max_tokens"] == 77
    assert config["generation"]["r0"]["model"] == "rlm"


def test_a_leak_checker_on_another_model_must_leave_room_for_its_vllm_engine():
    paper = [REPO / "config" / "paper.yaml"]
    config = load_config(paper)
    rephrase = config["generation"]["rephrase"]
    rephrase["leak_checker"]["enabled"] = True  # prompt_llm beside the rephraser's rlm
    with pytest.raises(ConfigError, match=r"gpu_memory_utilization: 0.95 for each of two vLLM"):
        validate_config(config)
    rephrase["engine"]["gpu_memory_utilization"] = 0.45
    validate_config(config)
    rephrase["leak_checker"]["model"] = rephrase["model"]  # one engine serves both
    rephrase["engine"]["gpu_memory_utilization"] = 0.95
    validate_config(config)
