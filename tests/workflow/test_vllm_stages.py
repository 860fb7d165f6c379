"""The four generation stages on vLLM's CPU engine, with `config/vllm-cpu.yaml` (the overlay a
user without a GPU runs), against the default run's transformers outputs of the same inputs.

A module of its own, apart from test_vllm.py, so that pytest-xdist's ``loadscope`` can run
the two on two workers.
"""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
from workflow_helpers import CONFIG, SPEECH, SQUAD, TINY, VLLM_CPU, alarm, shard

pytestmark = pytest.mark.slow


def _ledger(path):
    ledger = json.loads((path.parent / f"{path.name}.ledger.json").read_text())
    assert ledger["rows_in"] == ledger["rows_out"] + sum(ledger["dropped"].values())
    return ledger


STAGES = [  # stage, its model, its input and the default run's (transformers) output
    ("generate_prompts", "prompt_llm", shard("items", SPEECH), shard("prompts", SPEECH)),
    ("generate_r0", "rlm", shard("prompts", SPEECH), shard("r0", SPEECH)),
    ("self_rephrase", "rlm", shard("r0", SPEECH), shard("rephrased", SPEECH)),
    ("instruction_responses", "rlm", shard("items", SQUAD), shard("instruction", SQUAD)),
]


@pytest.mark.parametrize(
    "stage, role, source, transformers_output", STAGES, ids=[s[0] for s in STAGES]
)
def test_generation_stages_run_on_vllm(default_run, stage, role, source, transformers_output):
    w = default_run
    out = w / "vllm" / f"{stage}.parquet"
    extra = ["--dataset", SQUAD] if stage == "instruction_responses" else []

    def run(output):
        alarm(w, stage.replace("_", "-"), *extra, "--llm", f"{TINY}/{role}", "--input", source,
              "--output", str(output), *CONFIG, VLLM_CPU)  # fmt: skip

    run(out)
    ours, theirs = _ledger(out), _ledger(w / transformers_output)
    assert ours["rows_out"] > 0
    # The parsers meet the same kinds of output: the same counters, the same columns.
    assert ours["stats"].keys() == theirs["stats"].keys()
    assert pq.read_schema(out).equals(pq.read_schema(w / transformers_output))
    if stage == "self_rephrase":  # both passes of the thinking budget ran
        assert ours["stats"]["pass2"] > 0
    if stage == "generate_r0":  # a second run of the stage samples the same rows
        again = w / "vllm" / "r0_again.parquet"
        run(again)
        assert pq.read_table(again).equals(pq.read_table(out))
