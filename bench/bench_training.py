"""Training input pipeline: padding with and without length bucketing, and what it buys.

    .venv/bin/python bench/bench_training.py [--steps 12]

Needs the corpus index of the default workflow (run `make` first).

1. Padding fraction (padded positions / all positions) of the LLM input batches
   with bucketing and with plain random batches, on the built corpus index and on
   a paper-scale length sample (durations and target lengths drawn from the
   corpus's ranges: clips up to 60 s, targets of 100..612 tokens). Target: under 5%.
2. Samples/s and peak memory of each tiny model training on the CPU, with and
   without bucketing, measured in one run; the ratios.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

from fresh_process import peak_rss_mb, run_again  # noqa: E402

INDEX = REPO / "results" / "corpus" / "index"
MODELS = ["al_whisper_r", "al_w2vbert2_r", "al_muq_r", "al_sslam_r", "alarm_ca", "alarm_p"]


def padding_table(lengths: list[int], label: str) -> None:
    from alarm.training.sampler import epoch_batches, padding_fraction

    print(f"   {label} ({len(lengths)} examples)")
    for batch in (4, 16, 64):
        if len(lengths) < batch:
            continue
        bucketed = np.mean(
            [padding_fraction(epoch_batches(lengths, batch, 0, e), lengths) for e in range(3)]
        )
        plain = np.mean(
            [
                padding_fraction(epoch_batches(lengths, batch, 0, e, bucketing=False), lengths)
                for e in range(3)
            ]
        )
        print(
            f"     batch {batch:>3}: bucketed {bucketed:6.2%}   random {plain:6.2%}   "
            f"({plain / max(bucketed, 1e-9):.1f}x less padding)"
        )


def paper_lengths(n: int = 100_000) -> list[int]:
    """LLM input lengths of a paper-like corpus: 25 audio tokens/s + prompt + target."""
    rng = np.random.default_rng(0)
    seconds = np.clip(rng.lognormal(np.log(8.0), 0.7, n), 0.5, 59.9)
    targets = rng.integers(100, 613, n)
    prompts = rng.integers(10, 120, n)
    return (seconds * 25 + 2 + prompts + targets + 15).astype(int).tolist()


def train_once(model: str, bucketing: bool, steps: int, run_dir: str) -> dict:
    """A short training run (own process, so the peak memory is its own)."""
    from alarm.config import load_config
    from alarm.registry import STAGES
    from alarm.specs import TrainingSettings, with_paths
    from alarm.training.loop import train

    config = load_config([REPO / "config" / "config.yaml"])
    stage = STAGES["train_model"]
    settings = stage.settings_of(config, model=model)
    spec = settings["model"]
    # Fresh adapters everywhere (no init_from), the default run's tiny networks.
    tiny = REPO / "results" / "pretrained" / "tiny"
    model_spec = with_paths(
        spec, {r: str(tiny / r) for r in ["rlm", *spec["encoders"]]}
    ).without_init_from()
    training = TrainingSettings.from_dict(
        settings["training"]
        | stage.knobs_of(config, model=model)
        | {
            "max_steps": steps,
            "bucketing": bucketing,
            "eval_every": 10**6,
            "checkpoint_every": 10**6,
        }
    )
    metrics = train(
        model_spec,
        training,
        settings["datasets"],
        str(INDEX / "train.parquet"),
        str(INDEX / "validation.parquet"),
        run_dir,
    )
    return {
        "samples_per_second": metrics["samples_per_second"],
        "peak_rss_mb": peak_rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        model, bucketing = args.one[0], args.one[1] == "1"
        with tempfile.TemporaryDirectory() as run_dir:
            print(json.dumps(train_once(model, bucketing, args.steps, run_dir)))
        return
    if not (INDEX / "train.parquet").exists():
        raise SystemExit("no corpus index: run the default workflow (`make`) first")

    from alarm.config import load_config, model_spec
    from alarm.files import read_shard
    from alarm.model.summary import model_summary
    from alarm.specs import with_paths
    from alarm.training.data import sequence_length

    print("1. Padding fraction of LLM input batches")
    rows = read_shard(INDEX / "train.parquet")
    config = load_config([REPO / "config" / "config.yaml"])
    tiny = REPO / "results" / "pretrained" / "tiny"
    spec = model_spec(config, "al_whisper_r")
    summary = model_summary([with_paths(spec, {r: str(tiny / r) for r in ("rlm", "whisper")})])
    rate, fixed = summary["audio_tokens_per_second"], summary["fixed_audio_tokens"]
    padding_table([sequence_length(r, rate, fixed) for r in rows], "default corpus index")
    padding_table(paper_lengths(), "paper-like length sample")

    print(f"\n2. Tiny models on the CPU, {args.steps} steps each, with and without bucketing")
    print(
        f"{'model':<14}{'samples/s bucketed':>20}{'random':>9}{'ratio':>7}"
        f"{'peak MB bucketed':>18}{'random':>9}"
    )
    for model in MODELS:
        runs = {}
        for bucketing in (True, False):
            runs[bucketing] = run_again(
                __file__, "--one", model, int(bucketing), "--steps", args.steps
            )
        fast, slow = runs[True]["samples_per_second"], runs[False]["samples_per_second"]
        print(
            f"{model:<14}{fast:>20.2f}{slow:>9.2f}{fast / slow:>6.2f}x"
            f"{runs[True]['peak_rss_mb']:>18.0f}{runs[False]['peak_rss_mb']:>9.0f}"
        )


if __name__ == "__main__":
    main()
