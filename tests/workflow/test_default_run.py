"""The default workflow end to end (at test scale), then partial reruns of its outputs."""

import json
import math

import pyarrow.parquet as pq
import pytest
import yaml
from workflow_helpers import CI_ARGS, REPO, check_ledgers, planned_jobs, snakemake

from alarm.ledger import Ledger, ledger_path, ledger_paths
from alarm.registry import STAGES
from alarm.report.tables import display

pytestmark = pytest.mark.slow

CONFIG = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
TRAINED = sorted(m for m, spec in CONFIG["models"].items() if "ensemble" not in spec)
EVALUATED = CONFIG["evaluation"]["models"]
DESCRIBED = sorted(d for d, s in CONFIG["datasets"].items() if s["category"] != "instruction")
# Everything downstream of the corpus index: trained models, benchmark answers, the report.
AFTER_THE_INDEX = (
    {("corpus_index", ()), ("corpus_stats", ()), ("report", ()), ("progress", ())}
    | {("check_ledgers", ())}
    | {("all", ())}
    | {("train_model", (("model", m),)) for m in TRAINED}
    | {("benchmark_generate", (("benchmark", "synthetic"), ("model", m), ("shard", "00000")))
       for m in EVALUATED}
    | {
        ("score_benchmark", (("benchmark", "synthetic"), ("extraction", rule), ("model", m)))
        for m in EVALUATED
        for rule in ("alarm-parity", "clean")
    }
)  # fmt: skip


def plan(workdir, *extra_config):
    """(rule, sorted wildcards) of every job a dry run would start."""
    config = [*CI_ARGS, *map(str, extra_config)]
    out = snakemake("-n", *config, workdir=workdir).stdout
    return {(rule, tuple(sorted(w.items()))) for rule, w in planned_jobs(out)}


def test_the_default_workflow_runs_to_the_report(default_run):
    report = (default_run / "results" / "report" / "report.md").read_text()
    for model in EVALUATED:
        assert f"| {display(model)} |" in report  # our row, beside the reported ones
    assert (default_run / "results" / "report" / "airbench_radar.png").stat().st_size > 0
    checked = check_ledgers(default_run)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    for model in TRAINED:
        metrics = json.loads((default_run / "results/models" / model / "metrics.json").read_text())
        losses = [metrics["initial_val_loss"], *(e["val_loss"] for e in metrics["history"])]
        assert metrics["history"] and all(math.isfinite(v) for v in losses), model
    items = pq.read_table(default_run / "results/benchmarks/data/synthetic/00000.parquet").num_rows
    for model in EVALUATED:
        scored = default_run / "results/benchmarks/synthetic" / model
        for rule in ("alarm-parity", "clean"):  # both extraction rules, every run
            scores = json.loads((scored / rule / "scores.json").read_text())
            assert scores["n_items"] == items  # every benchmark item scored, none lost
            assert 0.0 <= scores["overall"] <= 100.0
            lines = (scored / rule / "predictions.jsonl").read_text().splitlines()
            assert len(lines) == items
            assert ("n_fallback" in scores) == (rule == "alarm-parity")


def test_the_registry_declares_stages_in_the_order_rows_flow_and_the_drop_table_follows_it(
    default_run,
):
    corpus = default_run / "results" / "corpus"
    declared = list(STAGES)
    for path in ledger_paths(corpus):
        ledger = Ledger.read(path)
        for source in ledger.inputs:
            if ledger_path(default_run / source).exists():
                upstream = Ledger.read(ledger_path(default_run / source)).stage
                assert declared.index(upstream) < declared.index(ledger.stage), (upstream, ledger)
    stats = json.loads((corpus / "stats.json").read_text())
    stages = list(stats["drops"]["Total"])
    assert stages == sorted(stages, key=declared.index) and "corpus_index" in stages


def test_the_snakemake_html_report_holds_the_report_the_radar_and_training(default_run):
    snakemake("--report", "report.html", *CI_ARGS, workdir=default_run)
    html = (default_run / "report.html").read_text()
    for name in ("report.md", "airbench_radar.png", "metrics.json", "stats.json"):
        assert name in html, name


def test_a_finished_run_has_nothing_to_do(default_run):
    assert plan(default_run) == set()


def test_changing_a_generation_parameter_reruns_generation_and_its_downstream(
    default_run, tmp_path
):
    change = tmp_path / "r0.yaml"
    change.write_text(
        f"generation: {{r0: {{max_tokens: {CONFIG['generation']['r0']['max_tokens'] + 8}}}}}\n"
    )
    jobs = plan(default_run, change)
    per_shard = {
        (rule, (("dataset", d), ("shard", s)))
        for rule in ("generate_r0", "self_rephrase", "answer_length_filter")
        for d in DESCRIBED
        for s in ("00000", "00001")
    }
    assert jobs == per_shard | AFTER_THE_INDEX  # nothing upstream of R0, no instruction stage


def test_a_removed_shard_plans_exactly_its_downstream_and_is_rebuilt_alone(default_run_copy):
    default_run = default_run_copy
    shard = "results/corpus/r0/synthetic_music/00001.parquet"
    before = pq.read_table(default_run / shard)
    (default_run / shard).unlink()
    this_shard = (("dataset", "synthetic_music"), ("shard", "00001"))
    assert (
        plan(default_run)
        == {(rule, this_shard) for rule in ("generate_r0", "self_rephrase", "answer_length_filter")}
        | AFTER_THE_INDEX
    )

    rebuilt = snakemake(shard, "--cores", "2", *CI_ARGS, workdir=default_run)
    assert "1 of 1 steps (100%) done" in rebuilt.stderr + rebuilt.stdout
    assert pq.read_table(default_run / shard).equals(before)  # same seeds, same rows
