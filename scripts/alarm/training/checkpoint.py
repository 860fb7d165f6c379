"""Resumable training state: weights, optimizer, scheduler, batch position and RNG states,
and the training settings they were made under (``training.json``, for the record: whether
to resume is decided by the fingerprint in ``progress.json``).

Written every ``checkpoint_every`` steps (and when a run stops before its job's
time limit) into ``<run_dir>/checkpoint/`` by building a new directory and
swapping it in, so a kill at any moment leaves either the old or the new
checkpoint whole. A restarted run resumes from it; on the CPU the
result is bit-identical to an uninterrupted run. A checkpoint written under
other settings, or for another corpus index, is ignored.
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

log = logging.getLogger(__name__)


def _rng_state() -> dict[str, Any]:
    return {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def _set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if state["cuda"]:
        torch.cuda.set_rng_state_all(state["cuda"])


def save_training_checkpoint(
    run_dir: Path,
    weights: dict[str, torch.Tensor],
    optimizer,
    scheduler,
    progress: dict[str, Any],
    training: dict[str, Any],
    rank: int,
    is_main: bool,
) -> None:
    """Every rank saves its RNG state; the main process saves the rest and swaps it in."""
    staging = run_dir / "checkpoint.new"
    if is_main:
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        save_file(
            {k: v.detach().cpu().contiguous() for k, v in weights.items()},
            str(staging / "weights.safetensors"),
        )
        torch.save(
            {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()},
            staging / "optimizer.pt",
        )
        (staging / "progress.json").write_text(json.dumps(progress, indent=2))
        (staging / "training.json").write_text(json.dumps(training, indent=2))
    _barrier()
    torch.save(_rng_state(), staging / f"rng_{rank}.pt")
    _barrier()
    if is_main:
        current, old = run_dir / "checkpoint", run_dir / "checkpoint.old"
        if current.exists():
            os.replace(current, old)
        os.replace(staging, current)
        shutil.rmtree(old, ignore_errors=True)
        log.info("checkpoint at step %d", progress["step"])
    _barrier()


def load_training_checkpoint(
    run_dir: Path, fingerprint: str, rank: int
) -> tuple[dict[str, torch.Tensor], dict[str, Any], dict[str, Any]] | None:
    """(weights, optimizer+scheduler state, progress) to resume from, or None."""
    current = run_dir / "checkpoint"
    if not (current / "progress.json").exists():
        # Killed between the two renames of save_training_checkpoint: the previous one is whole.
        current = run_dir / "checkpoint.old"
    if not (current / "progress.json").exists():
        return None
    progress = json.loads((current / "progress.json").read_text())
    if progress.get("fingerprint") != fingerprint:
        log.warning("ignoring %s: written under other settings or for other data", current)
        return None
    weights = load_file(str(current / "weights.safetensors"))
    states = torch.load(current / "optimizer.pt", weights_only=False)
    _set_rng_state(torch.load(current / f"rng_{rank}.pt", weights_only=False))
    log.info("resuming from step %d", progress["step"])
    return weights, states, progress


def _barrier() -> None:
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.barrier()
