"""Corpus generation speed on the default configuration (transformers backend, tiny LMs).

    .venv/bin/python bench/bench_generation.py

Needs the default workflow's outputs (run `make` first). It reruns the four
generation stages on the first shard of every synthetic dataset, in this
process, and prints per stage: items/s, generated tokens/s, what the thinking
budget did, and how well the stage's requests suit a prefix cache: the share
of prompt tokens equal to the previous request's prefix, in item order and in
the order the vLLM backend submits them (`prefix_order`).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

from alarm.config import load_config  # noqa: E402
from alarm.files import read_shard  # noqa: E402
from alarm.generation.backend import prefix_order, shared_prefix_fraction  # noqa: E402
from alarm.generation.instruction import instruction_responses  # noqa: E402
from alarm.generation.prompts_stage import generate_prompts  # noqa: E402
from alarm.generation.r0 import generate_r0  # noqa: E402
from alarm.generation.rephrase import rephrase  # noqa: E402
from alarm.generation.vllm_backend import make_backend  # noqa: E402
from alarm.registry import STAGES  # noqa: E402


class Recording:
    """A backend that keeps every request it forwards, to measure what a stage really sent."""

    def __init__(self, backend):
        self.backend, self.tokenizer, self.requests = backend, backend.tokenizer, []

    def generate(self, requests):
        self.requests += requests
        return self.backend.generate(requests)


def prefix_sharing(requests) -> tuple[float, float]:
    prompts = [r.prompt_ids for r in requests]
    in_order = shared_prefix_fraction(prompts)
    return in_order, shared_prefix_fraction([prompts[i] for i in prefix_order(requests)])


def main() -> None:
    config = load_config([REPO / "config" / "config.yaml"])
    items = REPO / "results" / "corpus" / "items"
    if not items.exists():
        raise SystemExit("no corpus items: run the default workflow (`make`) first")

    def settings(stage: str, **where) -> dict:
        return STAGES[stage].settings_of(config, **where)

    def backend(stage: str):
        role = config["generation"]["prompts" if stage == "generate_prompts" else "r0"]["model"]
        llm = REPO / "results" / "pretrained" / "tiny" / role
        return make_backend(settings(stage), STAGES[stage].knobs_of(config), llm)

    def first_shards(instruction: bool) -> list[dict]:
        datasets = [
            d
            for d, s in config["datasets"].items()
            if (s["category"] == "instruction") == instruction
        ]
        return [r for d in datasets for r in read_shard(items / d / "00000.parquet")], datasets

    described, _ = first_shards(instruction=False)
    spoken, instruction_sets = first_shards(instruction=True)
    prompts_settings, r0_settings = settings("generate_prompts"), settings("generate_r0")
    prompter, reasoner = backend("generate_prompts"), backend("generate_r0")

    print(
        f"{'stage':<22}{'items':>6}{'items/s':>9}{'tokens':>8}{'tokens/s':>10}"
        f"{'prefix shared: item order':>27}{'sorted':>8}  notes"
    )

    def measure(name, backend, run, note):
        recording = Recording(backend)
        start = time.perf_counter()
        out = run(recording)
        seconds = time.perf_counter() - start
        n_items = len(out.rows) + len(out.drops)
        before, after = prefix_sharing(recording.requests)
        tokens = out.stats["generated_tokens"]
        print(
            f"{name:<22}{n_items:>6}{n_items / seconds:>9.2f}{tokens:>8}{tokens / seconds:>10.1f}"
            f"{before:>27.1%}{after:>8.1%}  {note(out)}"
        )
        return out.rows

    prompted = measure(
        "prompts (+ checker)",
        prompter,
        lambda b: generate_prompts(described, b, prompts_settings),
        lambda out: f"{len(out.rows)}/{len(described)} kept",
    )
    answered = measure(
        "R0",
        reasoner,
        lambda b: generate_r0(prompted, b, r0_settings),
        lambda out: (
            f"{out.stats['r0_without_think_end'] / max(1, len(out.rows)):.0%} cut mid-reasoning"
        ),
    )
    measure(
        "self-rephrasing",
        reasoner,
        lambda b: rephrase(answered, b, settings("self_rephrase")),
        lambda out: (
            f"{out.stats['pass2'] / max(1, len(answered)):.0%} needed pass 2, "
            f"{out.stats['forced_close'] / max(1, len(answered)):.0%} closed by the budget"
        ),
    )
    measure(
        "instruction answers",
        reasoner,
        lambda b: instruction_responses(
            spoken, b, settings("instruction_responses", dataset=instruction_sets[0])
        ),
        lambda out: "one request per answer variant",
    )


if __name__ == "__main__":
    main()
