"""The paper-scale step on one GPU: real-size networks with random weights, measured.

    python bench/gpu/bench_gpu.py [--scale paper|toy] [--wheels DIR] [--out FILE]

``--scale paper`` (the default) is for one H100 or H200 and ends within about 10 minutes;
``--scale toy`` runs the same code on the CPU in minutes (tests/test_bench_gpu.py runs it).

1. ``--wheels DIR``: joins and checks the parts that ``wheels.py pack`` made, then installs
   the wheels with pip, offline.
2. Builds random-weight networks with the project's own builders (alarm.tiny.models), on the
   device, and writes them in the hub layout, so every part loads them with the stages'
   loading code. Paper scale: the sizes of alarm/model/reference_configs.py, Qwen3-4B-
   Thinking-2507 in bf16 as released, the Whisper large-v3 encoder (with one decoder layer:
   ALARM uses none), W2V-BERT 2.0, MuQ-large, SSLAM. Toy scale: config/config.yaml's tiny sizes.
3. Measures with the run config's settings (paper: config/paper.yaml; toy: config.yaml with
   vllm-cpu.yaml), each part in a fresh process, so that its peak memory is its own and a
   failed part is recorded while the others still run:
   - ALARM-CA and AL-Whisper-R training steps at the config's per-device batch (bf16
     autocast on a GPU, as the training loop), features extracted beforehand (the loop's
     data workers do that): seconds per step, samples/s, peak memory, and MFU from
     bench/flops.py's count over the device's dense bf16 peak;
   - vLLM from token ids with the R0 stage's engine, and from prompt embeddings with the
     inference engine through the thinking budget's two passes: tokens/s and requests/s,
     and how long the engine took to start. Random weights almost never sample an end
     token, so nearly every request runs to its limit; the tokens counted are those
     generated;
   - the first ``hf_requests`` of the same requests through the transformers backend, for
     the ratio of tokens/s.
4. Writes one JSON (device, driver, versions, settings, every figure) and prints a table.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "scripts"), str(REPO / "bench"), str(Path(__file__).parent)]

from flops import Network, example_flops  # noqa: E402
from fresh_process import peak_rss_mb, run_again  # noqa: E402

ROLES = ["rlm", "whisper", "w2vbert", "muq", "sslam"]
TRAINED = ["alarm_ca", "al_whisper_r"]
# Dense bf16 FLOP/s (NVIDIA's figures, no sparsity), the first name the device's contains.
PEAK_BF16 = [("H200", 989e12), ("H100 PCIe", 756e12), ("H100", 989e12)]
PROMPT = "Describe the audio in detail, then answer: what is happening?"


@dataclass(frozen=True)
class Scale:
    configs: tuple[str, ...]
    seconds: float  # of audio per example
    target_tokens: int  # of a training target
    prompt_tokens: int  # of an R0-like prompt
    new_tokens: int  # per R0-like request
    requests: int  # R0-like
    embed_requests: int  # inference-like, from prompt embeddings
    budget: int  # the thinking budget of those
    max_tokens: int
    hf_requests: int
    steps: int  # timed training steps, after one warm-up step


SCALES = {
    # 11.2 s: the mean clip of the training split (17.03 k hours over 5.49 M examples);
    # targets of 100..612 tokens; the R0 stage's 512 new tokens. The inference budget is
    # 1 024 of 2 048 tokens, not the paper's 8 192 of 16 384, to end within the 10 minutes.
    "paper": Scale(("config/paper.yaml",), 11.17, 400, 256, 512, 512, 32, 1024, 2048, 8, 5),
    "toy": Scale(
        ("config/config.yaml", "config/vllm-cpu.yaml"), 2.0, 32, 32, 16, 8, 4, 8, 16, 4, 2
    ),
}


def load(scale: Scale) -> dict:
    from alarm.config import load_config

    return load_config([REPO / c for c in scale.configs])


# The builders' size keys (alarm.tiny.models) and the reference config.json's key of each
# ("a.b": nested), per role.
SIZE_KEYS = {
    "rlm": ("qwen3", {
        "hidden_size": "hidden_size", "intermediate_size": "intermediate_size",
        "num_layers": "num_hidden_layers", "num_heads": "num_attention_heads",
        "num_key_value_heads": "num_key_value_heads", "head_dim": "head_dim"}),
    "whisper": ("whisper", {
        "hidden_size": "d_model", "intermediate_size": "encoder_ffn_dim",
        "num_layers": "encoder_layers", "num_heads": "encoder_attention_heads"}),
    "w2vbert": ("w2v_bert", {
        "hidden_size": "hidden_size", "intermediate_size": "intermediate_size",
        "num_layers": "num_hidden_layers", "num_heads": "num_attention_heads"}),
    "muq": ("muq", {
        "hidden_size": "encoder_dim", "intermediate_size": "w2v2_config.intermediate_size",
        "num_layers": "encoder_depth", "num_heads": "w2v2_config.num_attention_heads",
        "conv_dim": "conv_dim"}),
    "sslam": ("sslam", {
        "hidden_size": "embed_dim", "num_layers": "depth", "num_heads": "num_heads"}),
}  # fmt: skip


def size_spec(scale_name: str, config: dict, role: str) -> dict:
    """The builder's spec of a network: the reference config's sizes at paper scale, the
    config's tiny ones at toy scale."""
    if scale_name == "toy":
        return {k: v for k, v in config["pretrained"][role]["tiny"].items() if k != "format_fit"}
    from alarm.model.reference_configs import REFERENCE_CONFIGS

    c = REFERENCE_CONFIGS[config["pretrained"][role]["hub"]["repo"]]
    architecture, keys = SIZE_KEYS[role]
    spec = {"architecture": architecture}
    for key, path in keys.items():
        value = c
        for part in path.split("."):
            value = value[part]
        spec[key] = value
    if role == "sslam":  # its config gives the MLP as a ratio of the width
        spec["intermediate_size"] = int(c["mlp_ratio"] * c["embed_dim"])
    return spec


def device():
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def synchronize() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def peak_memory_gib() -> float:
    """The device's peak allocation on a GPU, the process's peak resident memory on the CPU."""
    import torch

    if torch.cuda.is_available():
        return torch.cuda.max_memory_allocated() / 2**30
    return peak_rss_mb() / 1024


def part_build(scale_name: str, root: Path) -> dict:
    """Every network, random weights of the real architecture, built on the device."""
    import torch

    from alarm.tiny.models import make_tiny_model

    config = load(SCALES[scale_name])
    built = {}
    for role in ROLES:
        spec = size_spec(scale_name, config, role)
        # The LM is stored in bf16 on a GPU, as Qwen3-4B-Thinking-2507 is released; the
        # encoders in float32, their loaders cast them.
        bf16 = role == "rlm" and device().type == "cuda"
        start = time.perf_counter()
        torch.set_default_dtype(torch.bfloat16 if bf16 else torch.float32)
        with torch.device(device()):
            make_tiny_model(spec, root / role, seed=0, n_candidates=0)
        torch.set_default_dtype(torch.float32)
        built[role] = {"spec": spec, "seconds": time.perf_counter() - start}
    return built


def part_train(scale_name: str, root: Path, model: str) -> dict:
    """Training steps of ``model`` at the config's per-device batch."""
    import numpy as np
    import torch

    from alarm.config import model_spec
    from alarm.model.alarm_model import ALARMModel, build_frontend
    from alarm.model.encoders import feature_extractors
    from alarm.model.layout import Text, piece_ids, training_layout
    from alarm.model.loading import load_llm
    from alarm.model.summary import model_summary
    from alarm.registry import STAGES
    from alarm.specs import with_paths
    from alarm.tokenizer import load_tokenizer
    from alarm.training.data import move_features

    scale, config, dev = SCALES[scale_name], load(SCALES[scale_name]), device()
    raw = model_spec(config, model)
    spec = with_paths(
        raw, {r: str(root / r) for r in ["rlm", *raw["encoders"]]}
    ).without_init_from()  # the adapters ALARM-CA loads frozen stay random: same cost
    training = STAGES["train_model"].settings_of(config, model=model)["training"]
    batch, bf16 = training["per_device_batch"], dev.type == "cuda" and training["bf16"]

    torch.manual_seed(0)
    llm = load_llm(spec.llm_path, torch.bfloat16 if dev.type == "cuda" else torch.float32)
    tokenizer = load_tokenizer(spec.llm_path)
    frontend = build_frontend(spec, llm.config.hidden_size)
    net = ALARMModel([frontend], llm, tokenizer, training["frozen_adapters"]).to(dev).train()

    rng = np.random.default_rng(0)
    samples = int(16000 * scale.seconds)
    clips = [rng.standard_normal(samples).astype(np.float32) * 0.1 for _ in range(batch)]
    extractors = feature_extractors(spec)
    features = {n: fe.collate([fe(c, 16000) for c in clips]) for n, fe in extractors.items()}
    features = move_features(features, dev)
    target = " ".join(["calm"] * scale.target_tokens) + "\n</think>\n\nCalm."
    layout = training_layout(tokenizer, PROMPT, target)
    counts = [(p.is_target, len(piece_ids(tokenizer, p))) for p in layout if isinstance(p, Text)]
    target_tokens = sum(n for is_target, n in counts if is_target)
    prompt_tokens = sum(n for is_target, n in counts if not is_target)

    trainable = [p for p in net.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=training["lr"])
    times = []
    for _ in range(scale.steps + 1):
        synchronize()
        start = time.perf_counter()
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16):
            loss, count = net(features, [layout] * batch, training["max_seq_len"])
        (loss.sum() / count.sum()).backward()
        torch.nn.utils.clip_grad_norm_(trainable, training["grad_clip"])
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        synchronize()
        times.append(time.perf_counter() - start)
    step = sorted(times[1:])[len(times[1:]) // 2]  # median, the warm-up step left out

    summary = model_summary([spec])
    modules = summary["modules"]
    encoders = {}
    for name in raw["encoders"]:
        size = size_spec(scale_name, config, name)  # an encoder attends at its full width
        encoders[name] = Network(
            modules[f"encoder.{name}"]["frozen"], size["num_layers"], size["hidden_size"]
        )
    lm = llm.config
    head = lm.vocab_size * lm.hidden_size
    flops = example_flops(
        scale.seconds,
        prompt_tokens,
        target_tokens,
        encoders,
        Network(
            sum(p.numel() for p in llm.parameters()) - head,
            lm.num_hidden_layers,
            lm.num_attention_heads * lm.head_dim,
        ),
        output_embedding=head,
        frozen_front=sum(c["frozen"] for k, c in modules.items() if k.startswith("adapter.")),
        trainable_front=summary["trainable"],
        audio_rate=summary["audio_tokens_per_second"],
    )
    achieved = sum(flops.values()) * batch / step
    peak = peak_bf16()
    return {
        "model": model,
        "per_device_batch": batch,
        "bf16": bf16,
        "seconds_of_audio": scale.seconds,
        "target_tokens": target_tokens,
        "seconds_per_step": step,
        "samples_per_second": batch / step,
        "peak_memory_gib": peak_memory_gib(),
        "trainable_parameters": summary["trainable"],
        "tflop_per_example": sum(flops.values()) / 1e12,
        "achieved_tflops": achieved / 1e12,
        "mfu": achieved / peak if peak else None,
    }


def peak_bf16() -> float | None:
    import torch

    if not torch.cuda.is_available():
        return None
    name = torch.cuda.get_device_name()
    return next((flops for key, flops in PEAK_BF16 if key in name), None)


def part_generate(scale_name: str, root: Path, backend_name: str, prompts: str) -> dict:
    """R0-like requests from token ids, or inference-like ones from prompt embeddings under
    the thinking budget, on ``backend_name`` (vllm or transformers)."""
    import numpy as np

    from alarm.benchmarks.inference import inference_backend
    from alarm.generation.backend import Request
    from alarm.generation.budget import generate_with_budget
    from alarm.generation.vllm_backend import make_backend
    from alarm.registry import STAGES, inference_knobs, inference_settings
    from alarm.specs import InferenceSettings, Sampling, join_engine
    from alarm.tokenizer import load_tokenizer

    scale, config = SCALES[scale_name], load(SCALES[scale_name])
    rlm = root / "rlm"
    rng = np.random.default_rng(0)
    hf = backend_name == "transformers"
    start = time.perf_counter()
    if prompts == "ids":
        stage = STAGES["generate_r0"]
        settings = stage.settings_of(config) | {"backend": backend_name}
        knobs = stage.knobs_of(config)
        backend = make_backend(settings, knobs, rlm)
        sampling, n = Sampling.from_dict(settings["sampling"]), scale.requests
        length, budget, limit = scale.prompt_tokens, -1, scale.new_tokens
        engine = join_engine(knobs.get("engine", {}), settings)
    else:
        inference = InferenceSettings.from_dict(  # seeded: paper.yaml's run is not (run_eval.sh)
            inference_settings(config)
            | inference_knobs(config)
            | {"backend": backend_name, "seed": 0}
        )
        backend, _ = inference_backend(inference, str(rlm), device(), load_tokenizer(rlm))
        sampling, n = inference.sampling, scale.embed_requests
        length, budget, limit = int(scale.seconds * 25) + 60, scale.budget, scale.max_tokens
        engine = inference.engine_arguments()
    started = time.perf_counter() - start
    n = min(n, scale.hf_requests) if hf else n
    requests = []
    for i in range(n):
        ids = rng.integers(0, 150_000, length).tolist()  # ordinary tokens of Qwen3's vocabulary
        if prompts == "ids":
            requests.append(Request(ids, limit, seed=i, sampling=sampling))
        else:
            requests.append(
                Request(None, limit, seed=i, sampling=sampling, prompt_embeds=backend.embed(ids))
            )
    synchronize()
    start = time.perf_counter()
    results = generate_with_budget(backend, requests, budget, limit)
    synchronize()
    seconds = time.perf_counter() - start
    if not hf:
        backend.close()
    tokens = sum(r.tokens for r in results)
    return {
        "backend": backend_name,
        "prompts": prompts,
        "requests": n,
        "prompt_positions": length,
        "max_tokens": limit,
        "thinking_budget": budget,
        "two_pass": sum(r.passes == 2 for r in results),
        "tokens": tokens,
        "seconds": seconds,
        "tokens_per_second": tokens / seconds,
        "requests_per_second": n / seconds,
        "start_seconds": started,
        "peak_memory_gib": peak_memory_gib(),
        "engine": engine,
    }


PARTS = [("train", m) for m in TRAINED] + [
    ("generate", backend, prompts)
    for prompts in ("ids", "embeds")
    for backend in ("vllm", "transformers")
]


def run_part(scale: str, root: Path, part: tuple[str, ...]) -> dict:
    """One part in a fresh process; a failure is recorded with the end of its error output."""
    try:
        return run_again(__file__, "--scale", scale, "--root", root, "--part", *part)
    except subprocess.CalledProcessError as error:
        lines = (error.stderr or "").strip().splitlines()
        return {"part": list(part), "error": "\n".join(lines[-20:])}


def install_wheels(parts: Path) -> list[str]:
    from wheels import join

    house = Path(tempfile.mkdtemp(prefix="wheels-"))
    wheels = [str(w) for w in join(parts, house)]
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--no-deps", *wheels],
        check=True,
    )
    return [Path(w).name for w in wheels]


def environment() -> dict:
    import torch
    import transformers

    env = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "cpu": platform.processor() or platform.machine(),
        "date": time.strftime("%Y-%m-%d"),
    }
    try:
        import vllm

        env["vllm"] = vllm.__version__
    except ImportError:
        env["vllm"] = None
    if torch.cuda.is_available():
        env["device"] = torch.cuda.get_device_name()
        env["cuda"] = torch.version.cuda
        env["driver"] = subprocess.run(
            ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
            capture_output=True,
            text=True,
        ).stdout.strip()
    else:
        env["device"] = "cpu"
    return env


# Table 1: 5.49 M training examples, 90 % of the corpus.
TRAIN_EXAMPLES = 5.49e6
GENERATED_ITEMS = TRAIN_EXAMPLES / 0.9


PROJECTION_ASSUMES = (
    "each model's epochs of config/paper.yaml over the 5.49 M training examples, with "
    "data-parallel GPUs scaling linearly; the R0 stage's 512 tokens for each of the 6.1 M "
    "examples with the held-out 10 % (the spoken-instruction sets' too: an upper bound). "
    "Rephrasing and inference depend on how long the real model thinks, which random "
    "weights do not show: not projected."
)


def projection(results: dict, config: dict) -> dict:
    """GPU-hours of the paper run's biggest stages at the measured speeds."""
    hours = {}
    for r in results["training"]:
        if "error" not in r:
            epochs = (
                config["models"][r["model"]]
                .get("training", {})
                .get("epochs", config["training"]["epochs"])
            )
            hours[f"train {r['model']}"] = TRAIN_EXAMPLES * epochs / r["samples_per_second"] / 3600
    for r in results["generation"]:
        if "error" not in r and (r["backend"], r["prompts"]) == ("vllm", "ids"):
            hours["generate_r0"] = GENERATED_ITEMS * r["max_tokens"] / r["tokens_per_second"] / 3600
    return {"gpu_hours": hours, "assumes": PROJECTION_ASSUMES}


def table(results: dict) -> str:
    lines = [f"{'training':<16}{'s/step':>9}{'samples/s':>11}{'peak GiB':>10}{'MFU':>8}"]
    for r in results["training"]:
        if "error" in r:
            lines.append(f"{r['part'][1]:<16} failed: {r['error'].splitlines()[-1]}")
            continue
        mfu = f"{r['mfu']:.1%}" if r["mfu"] is not None else "-"
        lines.append(
            f"{r['model']:<16}{r['seconds_per_step']:>9.3f}{r['samples_per_second']:>11.2f}"
            f"{r['peak_memory_gib']:>10.1f}{mfu:>8}"
        )
    lines.append(
        f"\n{'generation':<22}{'requests':>9}{'tokens':>9}{'tokens/s':>10}{'req/s':>8}"
        f"{'start s':>9}{'2 passes':>9}"
    )
    speed = {}
    for r in results["generation"]:
        if "error" in r:
            lines.append(f"{' '.join(r['part'][1:]):<22} failed: {r['error'].splitlines()[-1]}")
            continue
        speed[r["backend"], r["prompts"]] = r["tokens_per_second"]
        lines.append(
            f"{r['backend'] + ' ' + r['prompts']:<22}{r['requests']:>9}{r['tokens']:>9}"
            f"{r['tokens_per_second']:>10.1f}{r['requests_per_second']:>8.2f}"
            f"{r['start_seconds']:>9.1f}{r['two_pass']:>9}"
        )
    for prompts in ("ids", "embeds"):
        if ("vllm", prompts) in speed and ("transformers", prompts) in speed:
            ratio = speed["vllm", prompts] / speed["transformers", prompts]
            lines.append(f"vLLM over transformers, {prompts}: {ratio:.1f}x tokens/s")
    lines.append("\nprojected GPU-hours at these speeds (paper run)")
    for stage, hours in results["projection"]["gpu_hours"].items():
        lines.append(f"{stage:<22}{hours:>12,.0f}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=SCALES, default="paper")
    parser.add_argument("--wheels", type=Path, help="parts made by wheels.py pack")
    parser.add_argument("--out", type=Path, default=Path("bench_gpu.json"))
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--part", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.part:
        kind, *rest = args.part
        run = {"build": part_build, "train": part_train, "generate": part_generate}[kind]
        print(json.dumps(run(args.scale, args.root, *rest)))
        return

    start = time.perf_counter()
    installed = install_wheels(args.wheels) if args.wheels else []
    with tempfile.TemporaryDirectory(prefix="bench-gpu-") as root:
        built = run_again(__file__, "--scale", args.scale, "--root", root, "--part", "build")
        measured = [run_part(args.scale, Path(root), part) for part in PARTS]
    results = {
        "scale": args.scale,
        "settings": asdict(SCALES[args.scale]),
        "environment": environment(),
        "installed_wheels": installed,
        "networks": built,
        "training": [r for r, p in zip(measured, PARTS, strict=True) if p[0] == "train"],
        "generation": [r for r, p in zip(measured, PARTS, strict=True) if p[0] == "generate"],
    }
    results["projection"] = projection(results, load(SCALES["paper"]))
    results["wall_seconds"] = time.perf_counter() - start
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    print(table(results))
    print(f"\n{args.out} ({results['wall_seconds']:.0f} s)")


if __name__ == "__main__":
    main()
