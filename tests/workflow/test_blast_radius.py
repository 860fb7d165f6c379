"""What a config edit reruns at paper scale, and nothing more.

The paper DAG's outputs are made (empty files and directories) and recorded by
`snakemake --touch --forceall`, which stores each job's params as a real run does
and touches outputs in DAG order. Each edit is then a dry run with the edit as an
extra config file: the jobs it plans are exactly those Snakemake's params trigger
(and the ones downstream) would rerun. The table is the README's "Rebuilding a part".
"""

from __future__ import annotations

from collections import defaultdict

import pytest
import yaml
from workflow_helpers import REPO, planned_jobs, record_as_built, snakemake

PAPER = REPO / "config" / "paper.yaml"
pytestmark = pytest.mark.slow

VCTK_SHARD_STAGES = ("collect", "audio_filter", "generate_prompts", "generate_r0",
                     "self_rephrase", "answer_length_filter")  # fmt: skip
VCTK_SHARDS = {frozenset({"dataset": "vctk", "shard": f"{s:05d}"}.items()) for s in (0, 1, 2)}
# What any change of a result reruns: the report, the run's account drawn after it, the
# ledgers' check.
REPORT = ("report", "progress", "check_ledgers")
# Everything that reads the corpus index, down to the report.
AFTER_INDEX = ("corpus_index", "corpus_stats", "train_model", "benchmark_generate",
               "score_benchmark", *REPORT)  # fmt: skip
AFTER_INFERENCE = ("benchmark_generate", "score_benchmark", *REPORT)

Jobs = dict[str, set[frozenset]]


def dry_run(workdir, *configs) -> str:
    return snakemake("-n", "--configfile", str(PAPER), *map(str, configs), workdir=workdir).stdout


def by_rule(jobs) -> Jobs:
    out: Jobs = defaultdict(set)
    for rule, wildcards in jobs:
        if rule != "all":
            out[rule].add(frozenset(wildcards.items()))
    return dict(out)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A working directory holding every output of the paper DAG, recorded as up to date;
    and the whole DAG's jobs by rule."""
    workdir = tmp_path_factory.mktemp("paper")
    plan = dry_run(workdir)
    record_as_built(plan, workdir, "--configfile", str(PAPER))
    return workdir, by_rule(planned_jobs(plan))


def only(jobs: Jobs, **keep) -> Jobs:
    """The jobs of ``jobs`` whose wildcards take the given values (a value or a set)."""
    out: Jobs = {}
    for rule, instances in jobs.items():
        chosen = {
            w
            for w in instances
            if all(
                dict(w).get(k) in (v if isinstance(v, set) else {v})
                for k, v in keep.items()
                if k in dict(w)
            )
        }
        if chosen:
            out[rule] = chosen
    return out


def rules(jobs: Jobs, *names) -> Jobs:
    return {r: jobs[r] for r in names if r in jobs}


def merge(*parts: Jobs) -> Jobs:
    out: Jobs = defaultdict(set)
    for part in parts:
        for rule, instances in part.items():
            out[rule] |= instances
    return dict(out)


# (edit, config overlay, what must rerun given the whole DAG's jobs)
TABLE = [
    (
        "a dataset's note",
        {"datasets": {"vctk": {"source": {"note": "moved to a mirror"}}}},
        lambda dag: {},
    ),
    (
        "a dataset's train_for",
        {"datasets": {"esc50": {"train_for": {"al_sslam_r": 0.5}}}},
        lambda dag: rules(dag, *AFTER_INDEX),
    ),
    (
        "a dataset's n_shards",
        {"datasets": {"vctk": {"n_shards": 3}}},
        lambda dag: merge(
            dict.fromkeys(VCTK_SHARD_STAGES, VCTK_SHARDS),
            {"train_val_split": {frozenset({"dataset": "vctk"}.items())}},
            rules(dag, *AFTER_INDEX),
        ),
    ),
    (
        "a generation stage's sampling temperature (R0)",
        {"generation": {"r0": {"sampling": {"temperature": 0.7}}}},
        lambda dag: rules(
            dag, "generate_r0", "self_rephrase", "answer_length_filter", *AFTER_INDEX
        ),
    ),
    ("the generation batch_size", {"generation": {"batch_size": 7}}, lambda dag: {}),
    (
        "a vLLM engine memory setting (R0)",
        {"generation": {"r0": {"engine": {"gpu_memory_utilization": 0.5}}}},
        lambda dag: {},
    ),
    (
        "the answer-length range",
        {"filters": {"answer_tokens": {"min": 90}}},
        lambda dag: rules(dag, "answer_length_filter", *AFTER_INDEX),
    ),
    (
        "one model's learning rate (AL-MuQ-R)",
        {"models": {"al_muq_r": {"training": {"lr": 2.0e-4}}}},
        lambda dag: merge(
            only(rules(dag, "train_model"), model={"al_muq_r", "alarm_ca"}),
            # ALARM-CA's MuQ adapter starts from AL-MuQ-R; ALARM-E holds ALARM-CA.
            only(
                rules(dag, "benchmark_generate", "score_benchmark"),
                model={"al_muq_r", "alarm_ca", "alarm_e"},
            ),
            rules(dag, *REPORT),
        ),
    ),
    (
        "the thinking budget of inference",
        {"inference": {"thinking_budget": 4096}},
        lambda dag: rules(dag, *AFTER_INFERENCE),
    ),
    (
        "the inference batch size",
        {"inference": {"batch_size": 4}},
        lambda dag: {},
    ),
    (
        "the decode rate (16 kHz -> native)",
        {"encoders": {"decode_rate": None}},
        # Only MuQ (24 kHz) gets other samples: the 16 kHz models' inputs stay the same.
        lambda dag: merge(
            only(rules(dag, "train_model"), model={"al_muq_r", "alarm_ca", "alarm_p"}),
            only(
                rules(dag, "benchmark_generate", "score_benchmark"),
                model={"al_muq_r", "alarm_ca", "alarm_p", "alarm_e"},
            ),
            rules(dag, *REPORT),
        ),
    ),
    (
        "SSLAM's batch padding (zeros -> silence)",
        {"encoders": {"sslam": {"batch_padding": "silence"}}},
        lambda dag: merge(
            only(rules(dag, "train_model"), model={"al_sslam_r", "alarm_ca", "alarm_p"}),
            only(
                rules(dag, "benchmark_generate", "score_benchmark"),
                model={"al_sslam_r", "alarm_ca", "alarm_p", "alarm_e"},
            ),
            rules(dag, *REPORT),
        ),
    ),
]


@pytest.mark.parametrize(("edit", "overlay", "expected"), TABLE, ids=[t[0] for t in TABLE])
def test_an_edit_reruns_exactly_what_it_changes(built, tmp_path, edit, overlay, expected):
    workdir, dag = built
    overlay_file = tmp_path / "edit.yaml"
    overlay_file.write_text(yaml.safe_dump(overlay))
    planned = by_rule(planned_jobs(dry_run(workdir, overlay_file)))
    want = expected(dag)
    assert set(planned) == set(want), edit
    for rule in want:
        assert planned[rule] == want[rule], (edit, rule)
