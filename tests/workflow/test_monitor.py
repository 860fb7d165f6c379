"""Watching a run: `alarm progress` on the default run, finished and then partly undone; the
panoptes dashboard a launch reports to through the profile's switch, as headless Chromium
shows it; and the progress plot in Snakemake's HTML report."""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
from pathlib import Path

import pytest
from workflow_helpers import (
    CI_ARGS,
    REPO,
    alarm,
    dashboard,
    get_json,
    planned_jobs,
    snakemake,
)

from alarm.progress import benchmark_seconds

pytestmark = pytest.mark.slow

# Where the dashboard's screenshot is kept after the suite (a test artefact, not checked in).
ARTIFACTS = Path(os.environ.get("ALARM_TEST_ARTIFACTS", REPO / "tests" / "artifacts"))


def progress(workdir: Path, *options: str) -> subprocess.CompletedProcess:
    """`alarm progress` by hand in ``workdir``, for the launch of the test's default run."""
    return alarm(workdir, "progress", *options, "--", *CI_ARGS)


def test_the_finished_default_run_has_every_rule_done_and_nothing_left(default_run):
    account = json.loads(progress(default_run, "--json").stdout)
    rules = {r["rule"]: r for r in account["rules"]}
    every_job = planned_jobs(snakemake("-n", "--forceall", *CI_ARGS, workdir=default_run).stdout)
    assert account["total"]["done"] == len([j for j in every_job if j[0] != "all"])
    assert set(rules) == {rule for rule, _ in every_job} - {"all"}
    assert all(r["running"] == r["failed"] == r["to_go"] == 0 for r in rules.values())
    assert all(r["median_s"] is not None and r["disk_bytes"] > 0 for r in rules.values())
    assert account["eta_s"] == 0 and account["total"]["work_left_s"] == 0
    # Its plan: the same jobs, none asking for a GPU (config/config.yaml resources).
    plan = {p["rule"]: p for p in json.loads(progress(default_run, "--plan", "--json").stdout)}
    assert {r: p["jobs"] for r, p in plan.items()} == {r: n["done"] for r, n in rules.items()}
    assert sum(p["gpu_hours"] for p in plan.values()) == 0
    # The run's own account, drawn by its last rule, then in the HTML report (below).
    table = (default_run / "results/report/progress.md").read_text()
    assert "| train/train_model | 7 | 0 | 0 | 0 |" in table
    assert "| report/progress | 0 | 1 | 0 | 0 |" in table  # itself, running as it draws
    assert (default_run / "results/report/progress.png").read_bytes()[:4] == b"\x89PNG"


def test_a_partly_undone_run_shows_what_is_left_and_when_it_ends(default_run_copy):
    run = default_run_copy
    undone = ("al_whisper_r", "al_muq_r")  # their benchmark answers, and what follows
    for model in undone:
        (run / f"results/benchmarks/synthetic/{model}/responses/00000.parquet").unlink()
    left: dict[str, int] = {}
    for rule, _ in planned_jobs(snakemake("-n", *CI_ARGS, workdir=run).stdout):
        left[rule] = left.get(rule, 0) + 1
    account = json.loads(progress(run, "--json", "--png", str(run / "progress.png")).stdout)
    rules = {r["rule"]: r for r in account["rules"]}
    assert {r: rules[r]["to_go"] for r in rules if rules[r]["to_go"]} == {
        r: n for r, n in left.items() if r != "all"
    }
    generate = rules["benchmark_generate"]
    assert (generate["done"], generate["to_go"]) == (6, 2)
    # The two answers left take the mean time of the rule's eight finishes on record (their
    # benchmark files, the two undone ones' earlier runs included); the end is the work
    # left over the concurrency observed.
    measured = [
        benchmark_seconds(path)
        for path in (run / "benchmarks/benchmark_generate/synthetic").glob("*/00000.tsv")
    ]
    assert len(measured) == 8
    assert generate["work_left_s"] == pytest.approx(2 * statistics.fmean(measured))
    work_left = sum(r["work_left_s"] for r in rules.values())
    assert account["eta_s"] == pytest.approx(work_left / account["concurrency"])
    assert 0 < account["eta_s"] < float("inf")
    text = progress(run).stdout
    assert re.search(r"Projected end: in \d", text) and "at a time, as so far" in text
    assert (run / "progress.png").read_bytes()[:4] == b"\x89PNG"


def test_the_snakemake_report_shows_the_progress_plot(default_run, tmp_path):
    snakemake("--report", str(tmp_path / "report.html"), *CI_ARGS, workdir=default_run)
    html = (tmp_path / "report.html").read_text()
    assert "progress.png" in html and "progress.md" in html


def chromium(*args: str) -> subprocess.CompletedProcess:
    browser = shutil.which("chromium")
    if browser is None:
        pytest.fail("headless Chromium is missing: run `make` (APT_PACKAGES has chromium)")
    # --no-sandbox: the suite runs as root in CI, where Chromium's sandbox refuses to start.
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=8000"]
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=120)


def test_a_launch_reports_to_the_dashboard_and_chromium_shows_it(default_run_copy, tmp_path):
    run = default_run_copy
    with dashboard(run, tmp_path / "panoptes.db") as url:
        # The local profile with its dashboard lines switched on, pointing at this server.
        profile = tmp_path / "profile"
        profile.mkdir()
        text = (REPO / "config/profiles/local/config.yaml").read_text()
        switched = re.sub(r"^# (logger(-panoptes-address)?: )", r"\1", text, flags=re.M)
        assert switched.count("\nlogger") == 2, "the profile's dashboard switch moved"
        port = url.rsplit(":", 1)[1]
        (profile / "config.yaml").write_text(switched.replace(":5000", f":{port}"))
        shutil.rmtree(run / "results/report")  # the launch remakes the report and the account
        launch = snakemake("--profile", str(profile), *CI_ARGS, workdir=run)
        steps = re.findall(r"(\d+) of (\d+) steps \(100%\) done", launch.stdout + launch.stderr)
        jobs = int(steps[-1][1])
        assert jobs >= 3  # report, progress, all

        (workflow,) = get_json(f"{url}/api/workflows")["workflows"]
        assert workflow["status"] == "Done" and workflow["jobs_done"] == jobs

        page = chromium("--dump-dom", f"{url}/workflows/").stdout
        assert workflow["name"] in page
        row = page[page.index(workflow["name"]) :][:2000]
        shown = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row))
        assert "Done" in shown and f"{jobs}/{jobs}" in shown, shown

        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        screenshot = ARTIFACTS / "dashboard.png"
        screenshot.unlink(missing_ok=True)
        page_url = f"{url}/workflow/{workflow['id']}"
        chromium(f"--screenshot={screenshot}", "--window-size=1280,800", page_url)
        assert screenshot.read_bytes()[:4] == b"\x89PNG"
