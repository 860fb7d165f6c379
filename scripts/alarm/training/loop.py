"""The training loop: one accelerate loop for every ALARM model (paper §3).

AdamW (lr 1e-4, betas 0.9/0.999, no weight decay), 1500 warm-up steps then
cosine decay to 0, gradient clipping at 1, bf16 autocast on GPU. The
effective batch (64; 32 for single-encoder models) is per-device batch x
accumulation x processes, whatever the GPU count. The loss of a step is the
mean over all target tokens of the effective batch: micro-batches return
token-loss sums, gradients are accumulated unscaled and divided once by the
global token count. Only the trainable front-end parameters are optimised and
saved; the encoders and the LLM stay frozen in eval mode.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import random
import signal
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from alarm.model.alarm_model import ALARMModel, build_frontend, save_trained
from alarm.model.loading import load_llm, load_tokenizer
from alarm.shards import write_json
from alarm.training.checkpoint import load_checkpoint, save_checkpoint
from alarm.training.data import (
    DataError,
    ExampleDataset,
    move_features,
    select_examples,
    sequence_length,
)
from alarm.training.sampler import BatchStream

log = logging.getLogger(__name__)


def accumulation_steps(effective_batch: int, per_device_batch: int, world_size: int) -> int:
    """Micro-batches per optimizer step so that per_device x accumulation x world = effective."""
    per_step = per_device_batch * world_size
    if effective_batch % per_step:
        raise ValueError(
            f"effective batch {effective_batch} is not a multiple of per-device batch "
            f"{per_device_batch} x {world_size} processes; change training.per_device_batch"
        )
    return effective_batch // per_step


def lr_at(step: int, peak: float, warmup: int, total: int) -> float:
    """Linear warm-up to ``peak`` over ``warmup`` steps, then cosine decay to 0 at ``total``."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return peak * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def scale_gradients(parameters: list[torch.nn.Parameter], world_size: int, tokens: float) -> None:
    """Turn summed (and DDP-averaged) gradients into the gradient of the token-mean loss."""
    for p in parameters:
        if p.grad is not None:
            p.grad.mul_(world_size / max(tokens, 1.0))


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _fingerprint(settings: dict[str, Any], files: list[str]) -> str:
    """What a checkpoint must match to be resumed: the settings and the bytes of the data
    and initial adapters (a rerun after the corpus changed starts over)."""
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    for path in files:
        with open(path, "rb") as f:
            digest.update(hashlib.file_digest(f, "sha256").digest())
    return digest.hexdigest()[:16]


class _Preemption:
    """SLURM signals preemption with SIGTERM (or SIGUSR1 with --signal); finish the step, save."""

    def __init__(self):
        self.requested = False
        for sig in (signal.SIGTERM, signal.SIGUSR1):
            signal.signal(sig, self._handle)

    def _handle(self, signum, frame):
        del frame
        log.warning("signal %d: saving a checkpoint after this step", signum)
        self.requested = True


def train(settings: dict[str, Any], train_index: str, validation_index: str, run_dir: str) -> dict:
    from accelerate import Accelerator

    t, m = settings["training"], settings["model"]
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    cuda = torch.cuda.is_available()
    accelerator = Accelerator(mixed_precision="bf16" if (cuda and t["bf16"]) else "no")
    world, rank = accelerator.num_processes, accelerator.process_index
    accum = accumulation_steps(t["effective_batch"], t["per_device_batch"], world)

    # Fresh modules draw their initial weights from the global generator, which torch
    # seeds differently in every process: seed before building.
    seed_everything(t["seed"])
    # Everything that can be wrong with the inputs fails here, before any step.
    tokenizer = load_tokenizer(m["llm_path"])
    llm = load_llm(m["llm_path"], torch.bfloat16 if cuda else torch.float32)
    frontend = build_frontend(m, llm.config.hidden_size)
    model = ALARMModel([frontend], llm, tokenizer)
    known = set(settings["datasets"])
    train_examples = select_examples(train_index, t["data"], known)
    val_examples = select_examples(
        validation_index, t["data"], known, t["eval_examples"], t["seed"]
    )
    if not train_examples:
        raise DataError(f"{train_index} holds no training example for {m['name']}")
    missing = sorted(set(t["data"]) - {e["dataset"] for e in train_examples})
    if missing:
        log.warning("%s: no training examples from %s", m["name"], missing)

    # MuQ's constructor reseeds the global generator: seed again for the data and dropout.
    seed_everything(t["seed"])

    rate, fixed = frontend.token_rate()
    lengths = [sequence_length(e, rate, fixed) for e in train_examples]
    encoders = {name: enc["path"] for name, enc in m["encoders"].items()}
    train_set = ExampleDataset(train_examples, encoders, tokenizer)
    val_set = ExampleDataset(val_examples, encoders, tokenizer)
    stream = BatchStream(
        lengths, t["per_device_batch"] * world, t["seed"], t["bucketing"], rank, world
    )
    steps_per_epoch = stream.batches_per_epoch() // accum
    total_steps = t["max_steps"] or max(1, int(t["epochs"] * steps_per_epoch))
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(
        trainable, lr=t["lr"], betas=(0.9, 0.999), eps=1e-8, weight_decay=t["weight_decay"]
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: lr_at(step, 1.0, t["warmup_steps"], total_steps)
    )
    model, optimizer = accelerator.prepare(model, optimizer)
    core = accelerator.unwrap_model(model)
    device = accelerator.device

    inputs = [train_index, validation_index, *settings["model"].get("init", {}).values()]
    fingerprint = _fingerprint(settings, inputs)
    progress = {"step": 0, "fingerprint": fingerprint, "history": []}
    resumed = load_checkpoint(run_dir, fingerprint, rank)
    if resumed is not None:
        weights, states, progress = resumed
        core.frontends[0].load_state_dict(weights, strict=False)
        optimizer.load_state_dict(states["optimizer"])
        scheduler.load_state_dict(states["scheduler"])

    def loader(dataset: ExampleDataset, batches) -> torch.utils.data.DataLoader:
        # A generator of its own: starting an iterator draws a worker seed, which must not
        # come from the global generator that dropout uses (a resumed run would diverge).
        return torch.utils.data.DataLoader(
            dataset,
            batch_sampler=batches,
            collate_fn=dataset.collate,
            num_workers=t["num_workers"],
            persistent_workers=False,
            generator=torch.Generator().manual_seed(t["seed"]),
        )

    categories = sorted({settings["datasets"][d] for d in t["data"]})

    def evaluate() -> tuple[float, dict[str, float]]:
        """Token-mean validation loss, overall and per dataset category."""
        model.eval()
        per = [
            list(range(i, min(i + t["per_device_batch"], len(val_set))))
            for i in range(0, len(val_set), t["per_device_batch"])
        ][rank::world]
        sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        with torch.no_grad():
            for batch in loader(val_set, per):
                with accelerator.autocast():
                    loss, count = core(
                        move_features(batch["features"], device), batch["layouts"], t["max_seq_len"]
                    )
                for group, s, n in zip(batch["groups"], loss.tolist(), count.tolist(), strict=True):
                    sums[group][0] += s
                    sums[group][1] += n
        model.train()
        totals = torch.tensor([sums[g] for g in categories], device=device)
        totals = accelerator.reduce(totals, "sum").tolist()
        overall = sum(s for s, _ in totals) / max(1.0, sum(n for _, n in totals))
        return overall, {g: s / n for g, (s, n) in zip(categories, totals, strict=True) if n}

    writer = None
    if accelerator.is_main_process:
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(str(run_dir / "tensorboard"))
    if "initial_val_loss" not in progress:
        progress["initial_val_loss"], progress["initial_val_by_group"] = evaluate()
        log.info("initial validation loss %.4f", progress["initial_val_loss"])

    model.train()
    preemption = _Preemption()
    # The batch order is a pure function of (seed, epoch), so the micro-batches already
    # consumed (accumulation x steps) say exactly where a resumed run continues.
    epoch, position = divmod(progress["step"] * accum, stream.batches_per_epoch())
    batches = (indices for _, _, indices in stream.iterate(epoch, position))
    micro_loader = iter(loader(train_set, batches))
    bar = tqdm(
        total=total_steps,
        initial=progress["step"],
        disable=not accelerator.is_main_process,
        desc=m["name"],
        dynamic_ncols=True,
        mininterval=1 if sys.stderr.isatty() else 30,
    )  # logs get a line per 30 s
    start, samples = time.perf_counter(), 0
    while progress["step"] < total_steps:
        step_loss, step_tokens = torch.zeros((), device=device), torch.zeros((), device=device)
        for micro in range(accum):
            batch = next(micro_loader)
            sync = accelerator.no_sync(model) if micro < accum - 1 else contextlib.nullcontext()
            with sync, accelerator.autocast():
                loss, count = model(
                    move_features(batch["features"], device), batch["layouts"], t["max_seq_len"]
                )
                accelerator.backward(loss.sum())
            step_loss += loss.sum().detach()
            step_tokens += count.sum()
            samples += len(batch["layouts"]) * world
        tokens = accelerator.reduce(step_tokens, "sum").item()
        scale_gradients(trainable, world, tokens)
        accelerator.clip_grad_norm_(trainable, t["grad_clip"])
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        progress["step"] += 1
        mean_loss = accelerator.reduce(step_loss, "sum").item() / max(tokens, 1.0)
        lr = scheduler.get_last_lr()[0]
        rate_now = samples / (time.perf_counter() - start)
        bar.update(1)
        bar.set_postfix(loss=f"{mean_loss:.3f}", lr=f"{lr:.2e}", samples_s=f"{rate_now:.1f}")
        if writer is not None:
            writer.add_scalar("train/loss", mean_loss, progress["step"])
            writer.add_scalar("train/lr", lr, progress["step"])
        if progress["step"] % t["eval_every"] == 0 or progress["step"] == total_steps:
            val, by_group = evaluate()
            progress["history"].append(
                {
                    "step": progress["step"],
                    "val_loss": val,
                    "by_group": by_group,
                    "train_loss": mean_loss,
                }
            )
            if writer is not None:
                writer.add_scalar("val/loss", val, progress["step"])
                for group, value in by_group.items():
                    writer.add_scalar(f"val/{group}", value, progress["step"])
        stop = preemption.requested
        if progress["step"] % t["checkpoint_every"] == 0 or stop:
            save_checkpoint(
                run_dir,
                core.frontends[0].trainable_state_dict(),
                optimizer,
                scheduler,
                progress,
                rank,
                accelerator.is_main_process,
            )
        if stop:
            raise SystemExit(143)  # preempted: SLURM requeues, the rerun resumes
    bar.close()
    elapsed = time.perf_counter() - start
    metrics = {
        "model": m["name"],
        "initial_val_loss": progress["initial_val_loss"],
        "final_val_loss": progress["history"][-1]["val_loss"],
        "initial_val_by_group": progress["initial_val_by_group"],
        "final_val_by_group": progress["history"][-1]["by_group"],
        "steps": progress["step"],
        "epochs": t["epochs"],
        "effective_batch": t["effective_batch"],
        "processes": world,
        "trainable_params": sum(p.numel() for p in trainable),
        "train_examples": len(train_examples),
        "validation_examples": len(val_examples),
        "samples_per_second": samples / elapsed if elapsed > 0 else None,
        "history": progress["history"],
    }
    if accelerator.is_main_process:
        save_trained(core.frontends[0], m, run_dir)
        write_json(metrics, run_dir / "metrics.json")
        writer.close()
    accelerator.wait_for_everyone()
    return metrics
