"""alarm progress on the paper DAG: the plan of a launch, and the account and projection of
a run whose records (benchmark files, Snakemake's metadata, a failure, a running job) are
written here for a subset of the jobs."""

from __future__ import annotations

import json
import os
from types import SimpleNamespace

import pytest
from snakemake.persistence.file import FilePersistence

from alarm import progress

REPO = progress.REPO
SNAKEFILE, CONFIG = REPO / "workflow/Snakefile", REPO / "config/paper.yaml"
PAPER = ["--snakefile", str(SNAKEFILE), "--configfile", str(CONFIG)]
SLOT = 600.0  # every finished job here ran 600 s
T0 = 1.8e9


@pytest.fixture(scope="module")
def paper_jobs(tmp_path_factory):
    return progress.dry_run(PAPER, tmp_path_factory.mktemp("paper"), forceall=True)


def snakemake_record(folder, output: str, record: dict) -> None:
    """A record as Snakemake 9's file persistence writes it (its own naming code)."""
    namer = SimpleNamespace(_fetch_max_len=lambda subject: os.pathconf(subject, "PC_NAME_MAX"))
    folder.mkdir(parents=True, exist_ok=True)
    path = FilePersistence._record_path(namer, str(folder), output)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(record, f)


def test_a_record_name_is_read_back_as_snakemake_wrote_it(tmp_path):
    long = "results/" + "x" * 400 + "/00000.parquet"  # longer than a file name may be
    for output in ("results/corpus/stats.json", long):
        snakemake_record(tmp_path / "metadata", output, {"rule": "r", "endtime": 1.0})
    assert set(progress.records(tmp_path / "metadata")) == {"results/corpus/stats.json", long}


def test_the_plan_counts_each_rules_jobs_and_the_gpu_hours_they_request(paper_jobs):
    plans = {p.rule: p for p in progress.plan(paper_jobs)}
    # Seven trainings of 4 GPUs for 3 days (config/paper.yaml resources.train).
    assert plans["train_model"].jobs == 7 and plans["train_model"].gpus_per_job == [4]
    assert plans["train_model"].gpu_hours == 7 * 4 * 72
    # One generation job per shard of each corpus (R0: the described corpora), 1 GPU, 12 h.
    shards = sum(1 for j in paper_jobs if j.rule == "generate_r0")
    assert plans["generate_r0"].jobs == shards > 100
    assert plans["generate_r0"].gpu_hours == shards * 12
    assert plans["collect"].gpus_per_job == [0] and plans["collect"].gpu_hours == 0
    assert sum(p.jobs for p in plans.values()) == len(paper_jobs)
    assert "| **total** | " in progress.plan_markdown(list(plans.values()))


def finish(workdir, jobs) -> None:
    """The records of ``jobs`` finished in 600 s slots, one rule after another, a rule's
    (up to) two jobs side by side: a benchmark file where the rule has one (its end is the
    file's time), else Snakemake's metadata record of its first output."""
    for slot, rule in enumerate(sorted({j.rule for j in jobs})):
        end = T0 + SLOT * (slot + 1)
        for job in (j for j in jobs if j.rule == rule):
            if job.benchmark:
                path = workdir / job.benchmark
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(f"s\th:m:s\tmax_rss\n{SLOT}\t0:10:00\t1.0\n")
                os.utime(path, (end, end))
            else:
                record = {"rule": rule, "starttime": end - SLOT, "endtime": end}
                snakemake_record(workdir / ".snakemake/metadata", job.outputs[0], record)


def test_the_projection_is_the_work_left_at_each_rules_pace_over_the_concurrency(
    paper_jobs, tmp_path
):
    by_rule: dict[str, list] = {}
    for job in sorted(paper_jobs, key=lambda j: j.key):
        by_rule.setdefault(job.rule, []).append(job)
    done = [job for jobs in by_rule.values() for job in jobs[:2]]
    assert any(j.benchmark for j in done) and any(not j.benchmark for j in done)
    finish(tmp_path, done)
    to_go = {j.key for j in paper_jobs} - {j.key for j in done}
    # One R0 job failed in an earlier launch; one is running in this one.
    failed, running = by_rule["generate_r0"][2], by_rule["generate_r0"][3]
    log = tmp_path / ".snakemake/log/2026-12-01T000000.000000.snakemake.log"
    log.parent.mkdir(parents=True)
    log.write_text(
        "Error in rule generate_r0:\n    jobid: 12\n"
        f"    output: {', '.join(failed.outputs)}\n    log: x.log\n\nShutting down\n"
    )
    snakemake_record(
        tmp_path / ".snakemake/incomplete", running.outputs[0], {"external_jobid": "4242"}
    )
    (tmp_path / ".snakemake/locks").mkdir()
    (tmp_path / ".snakemake/locks/0.output.lock").touch()

    p = progress.account(tmp_path, paper_jobs, to_go, now=T0 + 1e5)

    # By hand: D finished jobs of 600 s in R slots of 600 s, so D/R of them at once; each
    # of the L jobs left takes 600 s (every rule's mean), so the end is L x 600 / (D/R) away.
    D, R, L = len(done), len(by_rule), len(paper_jobs) - len(done)
    assert p.concurrency == pytest.approx(D / R)
    assert p.eta_s == pytest.approx(L * 600 * R / D)
    rows = {r.rule: r for r in p.rules}
    r0 = rows["generate_r0"]
    assert (r0.done, r0.failed, r0.running, r0.to_go) == (2, 1, 1, len(by_rule["generate_r0"]) - 4)
    assert r0.work_left_s == (len(by_rule["generate_r0"]) - 2) * 600
    train = rows["train_model"]
    assert train.gpu_hours == 2 * 4 * 600 / 3600 and train.median_s == train.longest_s == 600
    assert p.total().done == D and p.total().left == L
    text = progress.progress_markdown(p)
    assert "| train/train_model | 2 | 0 | 0 | 5 | 10 min | 10 min | 1.33 |" in text
    assert f"{D / R:.2f} at a time" in text
    # Which jobs failed, where their log is; which run, as which SLURM job.
    named = lambda job: ", ".join(f"{k}={v}" for k, v in job.wildcards.items())  # noqa: E731
    assert (
        f"Failed (1):\n- generate_r0 {named(failed)}: rule generate_r0 failed; its log: x.log\n"
        in text
    )
    assert f"Running (1):\n- generate_r0 {named(running)}: SLURM job 4242\n" in text
    assert progress.progress_json(p)["running"] == [
        {"rule": "generate_r0", "wildcards": running.wildcards, "slurm_job": "4242"}
    ]

    # A rule none of whose jobs has finished: its time left, and so the end, are unknown.
    for job in by_rule["self_rephrase"][:2]:
        (tmp_path / job.benchmark).unlink()
    p = progress.account(tmp_path, paper_jobs, to_go | {j.key for j in by_rule["self_rephrase"]})
    assert p.eta_s is None and {r.rule: r for r in p.rules}["self_rephrase"].work_left_s is None
    assert "unknown until a job of each has finished: self_rephrase" in p.assumptions
    assert "Projected end: unknown." in progress.progress_markdown(p)
    assert progress.progress_json(p)["eta_s"] is None

    png = tmp_path / "progress.png"
    progress.plot(p, png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_launch_that_cannot_be_planned_is_one_message(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("no_such_key: 1\n")
    assert progress.main(["--directory", str(tmp_path), "--", *PAPER, str(bad)]) == 1
    said = capsys.readouterr().err
    assert said.startswith("alarm progress: the dry run failed") and "Traceback" not in said
    assert "no_such_key" in said  # the schema's own words, from the dry run
