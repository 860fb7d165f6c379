"""Model cost: measured on the tiny models, counted at the paper's scale.

    .venv/bin/python bench/bench_model.py [--steps 5] [--seconds 5]

1. For each tiny model of config/config.yaml: forward + backward time and peak
   memory per training example on the CPU (each model in a fresh process, so
   the peak resident memory is its own).
2. FLOPs per training example at paper scale, counted from the architectures
   (frozen encoders forward; frozen Qwen3-4B forward and backward to its input
   embeddings; the trainable fusion forward and backward), checked against
   torch's FLOP counter on a small transformer, and the projected time of a
   full ALARM-CA run (1 epoch over the 5.49 M training examples) on 4 H200,
   beside the authors' 9 to 12 days.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

from flops import Network, example_flops, transformer_flops  # noqa: E402
from fresh_process import peak_rss_mb, run_again  # noqa: E402

MODELS = ["al_whisper_r", "al_w2vbert2_r", "al_muq_r", "al_sslam_r", "alarm_ca", "alarm_p"]
H200_BF16_DENSE = 989e12  # FLOP/s, NVIDIA's dense bf16 figure
UTILISATION = 0.35  # model FLOPs utilisation assumed for the projection
TRAIN_EXAMPLES = 5.49e6  # Table 1: training split
MEAN_SECONDS = 17.03e3 * 3600 / 5.49e6  # Table 1: 17.03k hours over the training examples
TARGET_TOKENS = 400  # of 100..612
TEXT_TOKENS = TARGET_TOKENS + 45  # and the chat-templated prompt


def rss_mb() -> float:
    """Current resident memory of this process."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 2**20


def make_models(root: Path) -> None:
    from alarm.config import load_config
    from alarm.tiny.models import make_tiny_model

    config = load_config([REPO / "config" / "config.yaml"])
    for role, spec in config["pretrained"].items():
        tiny = {k: v for k, v in spec["tiny"].items() if k != "format_fit"}
        make_tiny_model(tiny, root / role, seed=0, n_candidates=5)


def measure_one(model: str, root: Path, steps: int, seconds: float) -> dict:
    """Forward + backward of one tiny model on 4 clips; runs in its own process."""
    import numpy as np
    import torch

    from alarm.config import load_config, model_spec
    from alarm.model.alarm_model import ALARMModel, build_frontend
    from alarm.model.encoders import feature_extractors
    from alarm.model.layout import training_layout
    from alarm.model.loading import load_llm
    from alarm.specs import with_paths
    from alarm.tokenizer import load_tokenizer

    config = load_config([REPO / "config" / "config.yaml"])
    spec = model_spec(config, model)
    # Fresh adapters (no init_from): the single-encoder models need not be trained first.
    settings = with_paths(
        spec, {r: str(root / r) for r in ["rlm", *spec["encoders"]]}
    ).without_init_from()
    llm = load_llm(str(root / "rlm"), torch.float32)
    tokenizer = load_tokenizer(root / "rlm")
    frontend = build_frontend(settings, llm.config.hidden_size)
    net = ALARMModel([frontend], llm, tokenizer).train()
    rng = np.random.default_rng(0)
    clips = [rng.standard_normal(int(16000 * seconds)).astype(np.float32) * 0.1 for _ in range(4)]
    features = {}
    for name, fe in feature_extractors(settings).items():
        features[name] = fe.collate([fe(c, 16000) for c in clips])
    target = " ".join(["The audio sounds calm."] * 40) + "\n</think>\n\nCalm."
    layouts = [training_layout(tokenizer, "Describe the audio.", target)] * len(clips)
    loaded = rss_mb()
    times = []
    for _ in range(steps + 1):
        start = time.perf_counter()
        loss, count = net(features, layouts, max_len=4096)
        (loss.sum() / count.sum()).backward()
        times.append(time.perf_counter() - start)
        net.zero_grad(set_to_none=True)
    per_example = sorted(times[1:])[len(times[1:]) // 2] / len(clips)  # median, warm-up skipped
    peak = peak_rss_mb()
    return {
        "model": model,
        "seconds_per_example": per_example,
        "peak_rss_mb": peak,
        # memory the forward and backward add to the loaded model, per example
        "step_mb_per_example": max(0.0, peak - loaded) / len(clips),
        "trainable": sum(p.numel() for p in net.parameters() if p.requires_grad),
    }


def paper_flops() -> dict[str, float]:
    """FLOPs of one ALARM-CA training example of the corpus's mean length."""
    return example_flops(
        MEAN_SECONDS,
        prompt_tokens=TEXT_TOKENS - TARGET_TOKENS,
        target_tokens=TARGET_TOKENS,
        encoders={
            "whisper": Network(0.637e9, 32, 1280),
            "w2vbert": Network(0.580e9, 24, 1024),
            "muq": Network(0.333e9, 12, 1024),
            "sslam": Network(0.090e9, 12, 768),
        },
        llm=Network(4.022e9 - 151936 * 2560, 36, 4096),  # tied embeddings: counted once
        output_embedding=151936 * 2560,
        frozen_front=58.76e6,  # the four adapters, loaded from the single-encoder models
        trainable_front=63.51e6,  # the cross-attention fusion
        audio_rate=25,
    )


def check_counting() -> float:
    """Ratio of our analytic forward count to torch's FLOP counter on a small transformer."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    layer = torch.nn.TransformerEncoder(
        torch.nn.TransformerEncoderLayer(256, 4, 1024, batch_first=True), num_layers=4
    )
    params = sum(p.numel() for p in layer.parameters() if p.dim() > 1)
    x = torch.randn(1, 300, 256)
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        layer(x)
    return transformer_flops(params, 4, 256, 300, causal=False) / counter.get_total_flops()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--models", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure_one(args.one, Path(args.models), args.steps, args.seconds)))
        return

    root = Path(tempfile.mkdtemp())
    make_models(root)
    print(f"1. Tiny models, CPU, {args.seconds:g} s clips, batch of 4, forward + backward")
    print(f"{'model':<14}{'ms/example':>12}{'MB/example':>12}{'peak RSS MB':>13}{'trainable':>11}")
    for model in MODELS:
        r = run_again(
            __file__,
            "--one",
            model,
            "--models",
            root,
            "--steps",
            args.steps,
            "--seconds",
            args.seconds,
        )
        print(
            f"{model:<14}{1000 * r['seconds_per_example']:>12.1f}"
            f"{r['step_mb_per_example']:>12.1f}{r['peak_rss_mb']:>13.0f}{r['trainable']:>11,}"
        )

    flops = paper_flops()
    total = sum(flops.values())
    print(
        f"\n2. Paper scale, one ALARM-CA training example ({MEAN_SECONDS:.1f} s of audio, "
        f"{TEXT_TOKENS} text tokens)"
    )
    for part in flops:
        print(f"   {part:<9}{flops[part] / 1e12:8.2f} TFLOP  ({flops[part] / total:5.1%})")
    print(f"   {'total':<9}{total / 1e12:8.2f} TFLOP")
    print(f"   analytic count / torch FLOP counter on a small transformer: {check_counting():.3f}")
    epoch = total * TRAIN_EXAMPLES
    for utilisation in (UTILISATION, 0.5):
        days = epoch / (4 * H200_BF16_DENSE * utilisation) / 86400
        print(
            f"   ALARM-CA, 1 epoch of {TRAIN_EXAMPLES / 1e6:.2f} M examples on 4 H200 at "
            f"{utilisation:.0%} of {H200_BF16_DENSE / 1e12:.0f} TFLOP/s: {days:.1f} days "
            f"(authors: 9 to 12 days)"
        )


if __name__ == "__main__":
    main()
