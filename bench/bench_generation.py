"""Corpus generation speed, vLLM backend beside the transformers backend (tiny LMs, CPU).

    .venv/bin/python bench/bench_generation.py [--workdir DIR] [--backends transformers vllm]

Needs a finished default workflow in DIR (run `make` first; default: this checkout). Each
of the four generation stages reruns, in this process, on the default run's own input of
that stage (the first shard of every synthetic dataset), so both backends answer exactly
the same requests. Per stage and backend it prints items/s and generated tokens/s, what
the thinking budget did, and how well the stage's requests suit a prefix cache (the share
of prompt tokens equal to the previous request's prefix, in item order and in the order
the vLLM backend submits them, `prefix_order`); then vLLM's speed over transformers', and
how long each vLLM engine took to start. vLLM runs with `config/vllm-cpu.yaml`'s engine.
"""

from __future__ import annotations

import argparse
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

OVERLAYS = {"transformers": [], "vllm": [REPO / "config" / "vllm-cpu.yaml"]}


class Recording:
    """A backend that keeps every request it forwards, to measure what a stage really sent."""

    def __init__(self, backend):
        self.backend, self.tokenizer, self.requests = backend, backend.tokenizer, []

    def generate(self, requests):
        self.requests += requests
        return self.backend.generate(requests)

    def embed(self, ids):
        return self.backend.embed(ids)


def prefix_sharing(requests) -> tuple[float, float]:
    prompts = [r.prompt_ids for r in requests]
    in_order = shared_prefix_fraction(prompts)
    return in_order, shared_prefix_fraction([prompts[i] for i in prefix_order(requests)])


def stage_inputs(config, results: Path) -> dict[str, tuple[list[dict], str]]:
    """Each stage's input rows as the default run gave them to it, and a dataset name."""

    def first_shards(stage: str, instruction: bool) -> tuple[list[dict], list[str]]:
        datasets = [
            d
            for d, s in config["datasets"].items()
            if (s["category"] == "instruction") == instruction
        ]
        rows = [
            row
            for d in datasets
            if (results / "corpus" / stage / d / "00000.parquet").exists()
            for row in read_shard(results / "corpus" / stage / d / "00000.parquet")
        ]
        return rows, datasets

    spoken, instruction_sets = first_shards("items", instruction=True)
    return {
        "generate_prompts": (first_shards("items", False)[0], None),
        "generate_r0": (first_shards("prompts", False)[0], None),
        "self_rephrase": (first_shards("r0", False)[0], None),
        "instruction_responses": (spoken, instruction_sets[0]),
    }


RUNS = {
    "generate_prompts": (
        "prompts (+ checker)",
        generate_prompts,
        lambda out, rows: f"{len(out.rows)}/{len(rows)} kept",
    ),
    "generate_r0": (
        "R0",
        generate_r0,
        lambda out, rows: (
            f"{out.stats['r0_without_think_end'] / max(1, len(out.rows)):.0%} cut mid-reasoning"
        ),
    ),
    "self_rephrase": (
        "self-rephrasing",
        rephrase,
        lambda out, rows: (
            f"{out.stats['pass2'] / max(1, len(rows)):.0%} needed pass 2, "
            f"{out.stats['forced_close'] / max(1, len(rows)):.0%} closed by the budget"
        ),
    ),
    "instruction_responses": (
        "instruction answers",
        instruction_responses,
        lambda out, rows: "one request per answer variant",
    ),
}


def measure_backend(name: str, workdir: Path) -> tuple[dict[str, dict], dict[str, float]]:
    """Per stage: items, seconds, tokens, prefix sharing, note; and each engine's start."""
    config = load_config([REPO / "config" / "config.yaml", *OVERLAYS[name]])
    inputs = stage_inputs(config, workdir / "results")
    backends, starts, figures = {}, {}, {}
    for stage, (label, run, note) in RUNS.items():
        rows, dataset = inputs[stage]
        where = {"dataset": dataset} if dataset else {}
        settings = STAGES[stage].settings_of(config, **where)
        role = config["generation"]["prompts" if stage == "generate_prompts" else "r0"]["model"]
        if role not in backends:
            start = time.perf_counter()
            llm = workdir / "results" / "pretrained" / "tiny" / role
            backends[role] = make_backend(settings, STAGES[stage].knobs_of(config, **where), llm)
            starts[role] = time.perf_counter() - start
        recording = Recording(backends[role])
        start = time.perf_counter()
        out = run(rows, recording, settings)
        seconds = time.perf_counter() - start
        figures[stage] = {
            "label": label,
            "items": len(out.rows) + len(out.drops),
            "seconds": seconds,
            "tokens": out.stats["generated_tokens"],
            "prefix": prefix_sharing(recording.requests),
            "note": note(out, rows),
        }
    return figures, starts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, default=REPO)
    parser.add_argument("--backends", nargs="+", default=["transformers", "vllm"])
    args = parser.parse_args()
    if not (args.workdir / "results" / "corpus" / "r0").exists():
        raise SystemExit(f"no generated corpus in {args.workdir}: run the default workflow first")

    measured = {name: measure_backend(name, args.workdir) for name in args.backends}
    print(
        f"{'stage':<22}{'backend':<14}{'items':>6}{'items/s':>9}{'tokens':>8}{'tokens/s':>10}"
        f"{'prefix shared: item order':>27}{'sorted':>8}  notes"
    )
    for stage in RUNS:
        for name, (figures, _) in measured.items():
            f = figures[stage]
            before, after = f["prefix"]
            print(
                f"{f['label']:<22}{name:<14}{f['items']:>6}{f['items'] / f['seconds']:>9.2f}"
                f"{f['tokens']:>8}{f['tokens'] / f['seconds']:>10.1f}{before:>27.1%}"
                f"{after:>8.1%}  {f['note']}"
            )
    if {"transformers", "vllm"} <= measured.keys():
        print("\nvLLM over transformers (same requests; outputs differ, so tokens/s compares best)")
        for stage in RUNS:
            hf, vl = measured["transformers"][0][stage], measured["vllm"][0][stage]
            items, tokens = (
                vl[k] / vl["seconds"] / (hf[k] / hf["seconds"]) for k in ("items", "tokens")
            )
            print(f"{hf['label']:<22}items/s x{items:.2f}  tokens/s x{tokens:.2f}")
    for name, (_, starts) in measured.items():
        for role, seconds in starts.items():
            print(f"{name} backend start ({role}): {seconds:.1f} s")


if __name__ == "__main__":
    main()
