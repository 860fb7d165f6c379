"""The training loop: one accelerate loop for every ALARM model (paper §3).

AdamW (lr 1e-4, betas 0.9/0.999, no weight decay), 1500 warm-up steps then
cosine decay to 0, gradient clipping at 1, bf16 autocast on GPU. The
effective batch (64; 32 for single-encoder models) is per-device batch x
accumulation x processes, whatever the GPU count. The loss of a step is the
mean over all target tokens of the effective batch: micro-batches return
token-loss sums, gradients are accumulated unscaled and divided once by the
global token count. Only the trainable front-end parameters are optimised and
saved; the encoders and the LLM stay frozen in eval mode.

``train`` reads top to bottom: ``setup`` builds everything, ``resume`` picks up
a matching checkpoint, then each step is ``train_step``, a log line, and every
``eval_every`` steps ``evaluate``, every ``checkpoint_every`` steps a checkpoint; near
the job's time limit a checkpoint and an exit, which the rule's retry resumes from.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import random
import sys
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from alarm.files import write_json
from alarm.model.alarm_model import ALARMModel, build_frontend, save_trained
from alarm.model.encoders import feature_extractors
from alarm.model.loading import load_llm
from alarm.specs import ModelSpec, TrainingSettings
from alarm.tokenizer import load_tokenizer
from alarm.training.checkpoint import load_training_checkpoint, save_training_checkpoint
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
    """Linear warm-up to ``peak`` over ``warmup`` steps, then cosine decay to 0 at ``total``:
    transformers' cosine schedule, which the authors' Trainer ran, so step k of the warm-up
    (counted from 0) runs at k/warmup of the peak and the first step at 0."""
    if step < warmup:
        return peak * step / max(1, warmup)
    progress = (step - warmup) / max(1, total - warmup)
    return peak * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def backward_loss(
    loss: torch.Tensor, count: torch.Tensor, accum: int, normalisation: str
) -> torch.Tensor:
    """What a micro-batch back-propagates, from its (B,) token-loss sums and (B,) target
    counts. effective_batch: the sum (``scale_gradients`` divides by the step's tokens);
    micro_batch: the authors' HF Trainer loss, the micro-batch's token mean over the
    accumulation steps (their collator gives the Trainer no token count). DDP then
    averages over processes either way."""
    if normalisation == "effective_batch":
        return loss.sum()
    # A micro-batch without target tokens contributes 0 here (the Trainer's mean is NaN).
    return loss.sum() / count.sum().clamp(min=1) / accum


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


# A run stops this long before its job's time limit (a quarter of a shorter limit), which
# leaves time for the step under way, an evaluation, the checkpoint, and the job's start
# before this process began (Snakemake, Apptainer), which its clock does not see.
STOP_MARGIN_MINUTES = 15
# The exit of a run stopped before its time limit, its checkpoint saved: a failure to
# Snakemake, whose retry resumes from the checkpoint.
STOPPED_EXIT = 143


def stop_time(time_limit_minutes: float | None) -> float | None:
    """The ``time.monotonic()`` by which a job with this time limit stops; None: never."""
    if time_limit_minutes is None:
        return None
    margin = min(STOP_MARGIN_MINUTES, time_limit_minutes / 4)
    return time.monotonic() + 60 * (time_limit_minutes - margin)


def time_is_up(accelerator, stop_at: float | None) -> bool:
    """Whether every rank stops after this step: true as soon as one rank's clock has passed
    its ``stop_at``. The ranks decide together, so none goes on into a step (or a
    checkpoint's barriers) that the others never join."""
    if stop_at is None:  # the same on every rank: they share the command line
        return False
    due = torch.tensor(float(time.monotonic() >= stop_at), device=accelerator.device)
    return accelerator.reduce(due, "sum").item() > 0


@dataclass
class Setup:
    """What ``setup`` builds once, before the first step."""

    accelerator: Any
    model: torch.nn.Module  # as prepared by accelerate (DDP-wrapped on several processes)
    core: ALARMModel  # the same model unwrapped
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR
    trainable: list[torch.nn.Parameter]
    train_set: ExampleDataset
    val_set: ExampleDataset
    stream: BatchStream
    accum: int
    steps_per_epoch: int
    total_steps: int
    categories: list[str]


@dataclass
class Progress:
    """The run state a checkpoint's progress.json holds; ``step`` counts optimizer steps."""

    fingerprint: str
    step: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    initial_val_loss: float | None = None
    initial_val_by_group: dict[str, float] = field(default_factory=dict)
    skipped_examples: int = 0  # training examples whose clip did not decode, all processes


def setup(
    m: ModelSpec,
    t: TrainingSettings,
    categories: Mapping[str, str],
    train_index: str,
    validation_index: str,
) -> Setup:
    """Accelerator, model, data, optimizer and LR schedule; every input error fails here."""
    from accelerate import Accelerator

    cuda = torch.cuda.is_available()
    # cpu=True on CPU nodes makes a multi-node launch use gloo (accelerate asks for it).
    accelerator = Accelerator(cpu=not cuda, mixed_precision="bf16" if (cuda and t.bf16) else "no")
    world, rank = accelerator.num_processes, accelerator.process_index
    accum = accumulation_steps(t.effective_batch, t.per_device_batch, world)

    # Fresh modules draw their initial weights from the global generator, which torch
    # seeds differently in every process: seed before building.
    seed_everything(t.seed)
    tokenizer = load_tokenizer(m.llm_path)
    llm = load_llm(m.llm_path, torch.bfloat16 if cuda else torch.float32)
    frontend = build_frontend(m, llm.config.hidden_size)
    model = ALARMModel([frontend], llm, tokenizer, t.frozen_adapters)
    known = set(categories)
    train_examples = select_examples(train_index, t.data, known)
    val_examples = select_examples(validation_index, t.data, known, t.eval_examples, t.seed)
    if not train_examples:
        raise DataError(f"{train_index} holds no training example for {m.name}")
    missing = sorted(set(t.data) - {e["dataset"] for e in train_examples})
    if missing:
        log.warning("%s: no training examples from %s", m.name, missing)

    # MuQ's constructor reseeds the global generator: seed again for the data and dropout.
    seed_everything(t.seed)

    rate, fixed = frontend.token_rate()
    lengths = [sequence_length(e, rate, fixed) for e in train_examples]
    extractors = feature_extractors(m)
    decoding = (m.decoder, m.decode_rate)
    train_set = ExampleDataset(train_examples, extractors, tokenizer, decoding)
    val_set = ExampleDataset(val_examples, extractors, tokenizer, decoding)
    stream = BatchStream(lengths, t.per_device_batch * world, t.seed, t.bucketing, rank, world)
    # Rounded up, as the authors' Trainer: an epoch's last step takes the micro-batches left.
    steps_per_epoch = -(-stream.batches_per_epoch() // accum)
    total_steps = t.max_steps or max(1, math.ceil(t.epochs * steps_per_epoch))
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(
        trainable, lr=t.lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=t.weight_decay
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: lr_at(step, 1.0, t.warmup_steps, total_steps)
    )
    model, optimizer = accelerator.prepare(model, optimizer)
    return Setup(
        accelerator=accelerator,
        model=model,
        core=accelerator.unwrap_model(model),
        optimizer=optimizer,
        scheduler=scheduler,
        trainable=trainable,
        train_set=train_set,
        val_set=val_set,
        stream=stream,
        accum=accum,
        steps_per_epoch=steps_per_epoch,
        total_steps=total_steps,
        categories=sorted({categories[d] for d in t.data}),
    )


def resume(run: Setup, settings: dict[str, Any], inputs: list[str], run_dir: Path) -> Progress:
    """Load the last checkpoint into ``run`` if it was written under the same settings and
    for the same bytes of ``inputs`` (corpus indexes, initial adapters); else start afresh."""
    fingerprint = _fingerprint(settings, inputs)
    resumed = load_training_checkpoint(run_dir, fingerprint, run.accelerator.process_index)
    if resumed is None:
        return Progress(fingerprint)
    weights, states, progress = resumed
    run.core.frontends[0].load_state_dict(weights, strict=False)
    run.optimizer.load_state_dict(states["optimizer"])
    run.scheduler.load_state_dict(states["scheduler"])
    return Progress(**progress)


def save_progress(
    run: Setup, progress: Progress, training: TrainingSettings, run_dir: Path
) -> None:
    """A checkpoint of the trainable weights, optimizer, schedule, ``progress`` and the
    training settings it was made under."""
    save_training_checkpoint(
        run_dir,
        run.core.frontends[0].trainable_state_dict(),
        run.optimizer,
        run.scheduler,
        asdict(progress),
        training.to_dict(),
        run.accelerator.process_index,
        run.accelerator.is_main_process,
    )


def loader(dataset: ExampleDataset, batches: Iterable[list[int]], t: TrainingSettings):
    # A generator of its own: starting an iterator draws a worker seed, which must not
    # come from the global generator that dropout uses (a resumed run would diverge).
    return torch.utils.data.DataLoader(
        dataset,
        batch_sampler=batches,
        collate_fn=dataset.collate,
        num_workers=t.num_workers,
        persistent_workers=False,
        generator=torch.Generator().manual_seed(t.seed),
    )


def train_batches(run: Setup, step: int, t: TrainingSettings) -> Iterator[dict[str, Any]]:
    """This rank's micro-batches from optimizer step ``step`` on, endlessly."""
    # The batch order is a pure function of (seed, epoch), so the steps already taken say
    # exactly where a resumed run continues.
    epoch, within = divmod(step, run.steps_per_epoch)
    position = within * run.accum
    batches = (indices for _, _, indices in run.stream.iterate(epoch, position))
    return iter(loader(run.train_set, batches, t))


def evaluate(run: Setup, t: TrainingSettings) -> tuple[float, dict[str, float]]:
    """Token-mean validation loss, overall and per dataset category."""
    acc, n = run.accelerator, len(run.val_set)
    run.model.eval()
    batches = [
        list(range(i, min(i + t.per_device_batch, n))) for i in range(0, n, t.per_device_batch)
    ][acc.process_index :: acc.num_processes]
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])  # group -> [loss, tokens]
    with torch.no_grad():
        for batch in loader(run.val_set, batches, t):
            with acc.autocast():
                loss, count = run.core(  # (B,) token-loss sums, (B,) target-token counts
                    move_features(batch["features"], acc.device), batch["layouts"], t.max_seq_len
                )
            for group, s, c in zip(batch["groups"], loss.tolist(), count.tolist(), strict=True):
                sums[group][0] += s
                sums[group][1] += c
    run.model.train()
    totals = torch.tensor([sums[g] for g in run.categories], device=acc.device)  # (groups, 2)
    totals = acc.reduce(totals, "sum").tolist()
    overall = sum(s for s, _ in totals) / max(1.0, sum(c for _, c in totals))
    return overall, {g: s / c for g, (s, c) in zip(run.categories, totals, strict=True) if c}


def micro_batches_of(run: Setup, step: int) -> int:
    """``accum``, but fewer for the last step of an epoch that does not fill it."""
    within = step % run.steps_per_epoch
    return min(run.accum, run.stream.batches_per_epoch() - within * run.accum)


def train_step(
    run: Setup, micro_batches: Iterator[dict[str, Any]], t: TrainingSettings, step: int
) -> tuple[float, int, int]:
    """Optimizer step ``step`` (from 0) over its micro-batches: (token-mean loss, samples of
    all ranks, examples of all ranks skipped for a clip that did not decode)."""
    acc, device = run.accelerator, run.accelerator.device
    loss_sum, tokens = torch.zeros((), device=device), torch.zeros((), device=device)
    skipped = torch.zeros((), device=device)
    samples = 0
    n = micro_batches_of(run, step)
    for micro in range(n):
        batch = next(micro_batches)
        # Gradients are all-reduced once per step, on the last micro-batch.
        sync = acc.no_sync(run.model) if micro < n - 1 else contextlib.nullcontext()
        with sync, acc.autocast():
            loss, count = run.model(  # (B,) token-loss sums, (B,) target-token counts
                move_features(batch["features"], device), batch["layouts"], t.max_seq_len
            )
            acc.backward(backward_loss(loss, count, n, t.loss_normalisation))
        loss_sum += loss.sum().detach()
        tokens += count.sum()
        skipped += batch["skipped"]
        samples += len(batch["layouts"]) * acc.num_processes
    global_tokens = acc.reduce(tokens, "sum").item()
    if t.loss_normalisation == "effective_batch":
        scale_gradients(run.trainable, acc.num_processes, global_tokens)
    acc.clip_grad_norm_(run.trainable, t.grad_clip)
    run.optimizer.step()
    run.scheduler.step()
    run.optimizer.zero_grad(set_to_none=True)
    loss = acc.reduce(loss_sum, "sum").item() / max(global_tokens, 1.0)
    return loss, samples, int(acc.reduce(skipped, "sum").item())


def log_scalars(writer, step: int, scalars: dict[str, float]) -> None:
    if writer is not None:  # only the main process writes TensorBoard events
        for name, value in scalars.items():
            writer.add_scalar(name, value, step)


def summarize(
    run: Setup,
    progress: Progress,
    m: ModelSpec,
    t: TrainingSettings,
    samples_s: float | None,
) -> dict:
    """metrics.json: the first and last validation losses and what the run was."""
    return {
        "model": m.name,
        "initial_val_loss": progress.initial_val_loss,
        "final_val_loss": progress.history[-1]["val_loss"],
        "initial_val_by_group": progress.initial_val_by_group,
        "final_val_by_group": progress.history[-1]["by_group"],
        "steps": progress.step,
        "epochs": t.epochs,
        "effective_batch": t.effective_batch,
        "processes": run.accelerator.num_processes,
        "trainable_params": sum(p.numel() for p in run.trainable),
        "train_examples": len(run.train_set),
        "validation_examples": len(run.val_set),
        "samples_per_second": samples_s,
        "skipped_examples": progress.skipped_examples,
        "history": progress.history,
    }


def train(
    m: ModelSpec,
    t: TrainingSettings,
    categories: Mapping[str, str],
    train_index: str,
    validation_index: str,
    run_dir: str,
    time_limit_minutes: float | None = None,
) -> dict:
    """Train model ``m`` by recipe ``t``; ``categories`` maps every dataset of the
    configuration to its category (validation losses are reported per category).

    With a ``time_limit_minutes`` (the job's), a run that would not finish in time stops
    before the limit: it saves a checkpoint and exits with ``STOPPED_EXIT``."""
    stop_at = stop_time(time_limit_minutes)
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    run = setup(m, t, categories, train_index, validation_index)
    inputs = [train_index, validation_index, *m.init.values()]
    # A checkpoint resumes under the same settings, compared as JSON (as they were stored
    # before they were typed, so earlier checkpoints still resume).
    settings = {"model": m.to_dict(), "training": t.to_dict(), "datasets": dict(categories)}
    progress = resume(run, settings, inputs, run_dir)
    main = run.accelerator.is_main_process
    writer = None
    if main:
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(str(run_dir / "tensorboard"))
    if progress.initial_val_loss is None:
        progress.initial_val_loss, progress.initial_val_by_group = evaluate(run, t)
        log.info("initial validation loss %.4f", progress.initial_val_loss)

    run.model.train()
    micro_batches = train_batches(run, progress.step, t)
    bar = tqdm(
        total=run.total_steps,
        initial=progress.step,
        disable=not main,
        desc=m.name,
        dynamic_ncols=True,
        mininterval=1 if sys.stderr.isatty() else 30,  # logs get a line per 30 s
    )
    start, samples = time.perf_counter(), 0
    while progress.step < run.total_steps:
        train_loss, step_samples, skipped = train_step(run, micro_batches, t, progress.step)
        progress.step += 1
        progress.skipped_examples += skipped
        samples += step_samples
        lr = run.scheduler.get_last_lr()[0]
        bar.update(1)
        rate = samples / (time.perf_counter() - start)
        bar.set_postfix(loss=f"{train_loss:.3f}", lr=f"{lr:.2e}", samples_s=f"{rate:.1f}")
        log_scalars(writer, progress.step, {"train/loss": train_loss, "train/lr": lr})
        if progress.step % t.eval_every == 0 or progress.step == run.total_steps:
            val, by_group = evaluate(run, t)
            progress.history.append(
                {
                    "step": progress.step,
                    "val_loss": val,
                    "by_group": by_group,
                    "train_loss": train_loss,
                }
            )
            log_scalars(
                writer,
                progress.step,
                {"val/loss": val} | {f"val/{g}": v for g, v in by_group.items()},
            )
        stop = progress.step < run.total_steps and time_is_up(run.accelerator, stop_at)
        if progress.step % t.checkpoint_every == 0 or stop:
            save_progress(run, progress, t, run_dir)
        if stop:
            log.warning(
                "stopped at step %d of %d before the job's time limit (%g min): checkpoint "
                "saved; the rule's retry resumes from it",
                progress.step,
                run.total_steps,
                time_limit_minutes,
            )
            bar.close()
            if writer is not None:
                writer.close()
            raise SystemExit(STOPPED_EXIT)
    bar.close()

    elapsed = time.perf_counter() - start
    metrics = summarize(run, progress, m, t, samples / elapsed if elapsed > 0 else None)
    if main:
        save_trained(run.core.frontends[0], m, run_dir)
        write_json(metrics, run_dir / "metrics.json")
        writer.close()
    run.accelerator.wait_for_everyone()
    return metrics
