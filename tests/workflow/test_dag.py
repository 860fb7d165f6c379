"""The DAG itself: both configurations build with every stage, the schema guards it."""

import re

import pytest
import yaml
from workflow_helpers import REPO, planned_jobs, snakemake

PAPER_STAGES = {
    "build_container", "gpu_smoke_test", "download_pretrained", "download_corpus", "collect",
    "audio_filter", "generate_prompts", "generate_r0", "self_rephrase", "instruction_responses",
    "wer_filter", "answer_length_filter", "train_val_split", "corpus_index", "corpus_stats",
    "train_model", "download_benchmark", "convert_benchmark", "benchmark_generate",
    "score_benchmark", "report", "progress", "check_ledgers", "fetch_author_texts",
}  # fmt: skip
# The stages whose instructions are texts (alarm.texts): ours, or the authors' in the paper run.
TEXT_STAGES = {"generate_r0", "self_rephrase", "benchmark_generate"}


def test_the_paper_dag_has_every_stage_corpus_model_and_benchmark(tmp_path):
    out = snakemake(
        "-n", "--configfile", str(REPO / "config" / "paper.yaml"), workdir=tmp_path
    ).stdout
    jobs = planned_jobs(out)
    rules = {rule for rule, _ in jobs}
    assert rules >= PAPER_STAGES
    datasets = {w["dataset"] for rule, w in jobs if rule == "collect"}
    assert len(datasets) == 33
    assert sum(rule == "collect" for rule, _ in jobs) == 312  # every shard of every corpus
    models = {w["model"] for rule, w in jobs if rule == "train_model"}
    paper = yaml.safe_load((REPO / "config" / "paper.yaml").read_text())
    assert models == {m for m, spec in paper["models"].items() if "ensemble" not in spec}
    assert len(models) == 7
    scored = [
        (w["benchmark"], w["model"], w["extraction"]) for r, w in jobs if r == "score_benchmark"
    ]
    # five benchmarks, seven models and ALARM-E, each under both extraction rules
    assert len(set(scored)) == len(scored) == 5 * 8 * 2
    assert {rule for *_, rule in scored} == {"alarm-parity", "clean"}
    assert {"vllm", "train"} == {w["name"] for rule, w in jobs if rule == "gpu_smoke_test"}


def shell_commands(dry_run_output):
    """(rule, inputs, shell command) of every job a `snakemake -n -p` output plans."""
    blocks = re.split(r"\n(?=(?:local)?rule \w+:)", dry_run_output)
    return [
        (head[1], inputs[1] if inputs else "", re.search(r"Shell command: (.*)", block)[1])
        for block in blocks
        if (head := re.match(r"(?:local)?rule (\w+):", block.strip()))
        for inputs in [re.search(r"input: (.*)", block)]
    ]


@pytest.mark.parametrize(
    ("config", "texts"), [("paper.yaml", "results/texts/authors.json"), ("config.yaml", "ours")]
)
def test_each_text_stage_is_given_the_run_s_texts(tmp_path, config, texts):
    out = snakemake(
        "-n", "-p", "--configfile", str(REPO / "config" / config), workdir=tmp_path
    ).stdout
    commands = shell_commands(out)
    given = {rule for rule, _, cmd in commands if f" --texts {texts} " in f"{cmd} "}
    assert given - {"make_tiny_model"} == TEXT_STAGES  # the tiny LMs: the next test
    texted = [(inputs, cmd) for rule, inputs, cmd in commands if rule in TEXT_STAGES]
    assert texted and all(f" --texts {texts} " in f"{cmd} " for _, cmd in texted)
    # the bundle is an input, so its rule runs first (and a new bundle reruns the stages)
    assert all((texts in inputs.split(", ")) == (texts != "ours") for inputs, _ in texted)
    fetched = [rule for rule, *_ in commands if rule == "fetch_author_texts"]
    assert len(fetched) == (texts != "ours")


def test_the_default_dag_runs_from_synthetic_sources(tmp_path):
    jobs = planned_jobs(snakemake("-n", workdir=tmp_path).stdout)
    rules = {rule for rule, _ in jobs}
    assert {"make_tiny_model", "make_synthetic_corpus", "report"} <= rules
    assert not rules & {"download_corpus", "download_pretrained", "build_container"}


def test_a_config_with_an_unknown_key_fails_at_dag_build(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("generation: {r0: {max_token: 10}}\n")
    result = snakemake(
        "-n",
        "--configfile",
        str(REPO / "config" / "config.yaml"),
        str(bad),
        workdir=tmp_path,
        check=False,
    )
    assert result.returncode != 0
    assert "max_token" in result.stdout + result.stderr


def test_a_tiny_run_with_the_authors_texts_fits_its_tiny_lms_to_them(tmp_path):
    overlay = tmp_path / "texts.yaml"
    overlay.write_text("texts: authors\n")
    config = [str(REPO / "config" / "config.yaml"), str(overlay)]
    out = snakemake("-n", "-p", "--configfile", *config, workdir=tmp_path).stdout
    tiny = {
        re.search(r"--role (\w+)", cmd)[1]: (inputs, cmd)
        for rule, inputs, cmd in shell_commands(out)
        if rule == "make_tiny_model"
    }
    bundle = "results/texts/authors.json"
    fitted = {role for role, (inputs, cmd) in tiny.items() if f"--texts {bundle}" in cmd}
    assert fitted == {"rlm", "prompt_llm"}  # the format-fitted LMs; the encoders take none
    assert all((bundle in inputs) == (role in fitted) for role, (inputs, _) in tiny.items())
    assert all("--texts ours" in cmd for role, (_, cmd) in tiny.items() if role not in fitted)
