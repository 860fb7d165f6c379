"""Effective-batch arithmetic and the token-mean loss over 1, 2 and 4 processes."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from alarm.training.loop import (
    accumulation_steps,
    backward_loss,
    lr_at,
    micro_batches_of,
    scale_gradients,
)
from alarm.training.sampler import BatchStream, epoch_batches, padding_fraction


@pytest.mark.parametrize(
    ("world", "per_device", "accum"), [(1, 4, 16), (2, 4, 8), (4, 4, 4), (4, 2, 8)]
)
def test_accumulation_reaches_the_effective_batch(world, per_device, accum):
    assert accumulation_steps(64, per_device, world) == accum
    assert per_device * accum * world == 64


def test_an_unreachable_effective_batch_is_an_error():
    with pytest.raises(ValueError, match="not a multiple"):
        accumulation_steps(64, 3, 2)


@pytest.mark.parametrize("world", [1, 2, 4])
def test_gradients_are_the_token_mean_of_the_whole_effective_batch(world):
    """Simulated DDP: per-rank summed losses, averaged across ranks, then scaled once."""
    torch.manual_seed(0)
    weight = torch.randn(3, requires_grad=True)
    # 8 examples with different numbers of target tokens
    examples = [torch.randn(n, 3) for n in (1, 5, 2, 7, 3, 1, 4, 9)]
    full = torch.cat(examples)
    reference = torch.autograd.grad((full @ weight).pow(2).mean(), weight)[0]

    per_rank = [examples[r::world] for r in range(world)]
    grads, tokens = [], 0
    for rank_examples in per_rank:
        w = weight.detach().clone().requires_grad_(True)
        micro_batches = [
            rank_examples[i : i + 1] for i in range(len(rank_examples))
        ]  # accumulation
        for micro in micro_batches:
            x = torch.cat(micro)
            (x @ w).pow(2).sum().backward()  # a sum, not a mean
            tokens += len(x)
        grads.append(w.grad)
    averaged = torch.stack(grads).mean(0)  # what DDP's all-reduce does
    p = torch.nn.Parameter(weight.detach().clone())
    p.grad = averaged
    scale_gradients([p], world, tokens)
    assert torch.allclose(p.grad, reference, atol=1e-6)


@pytest.mark.parametrize("world", [1, 2])
def test_micro_batch_normalisation_is_the_authors_trainer_loss(world):
    """The HF Trainer without a token count: each micro-batch's token mean divided by the
    accumulation steps, averaged over processes; effective_batch weighs every token alike."""
    torch.manual_seed(0)
    weight = torch.randn(3, requires_grad=True)
    examples = [torch.randn(n, 3) for n in (1, 5, 2, 7, 3, 1, 4, 9)]
    per_rank = [examples[r::world] for r in range(world)]
    accum = len(per_rank[0])
    reference = sum((x @ weight).pow(2).mean() / accum / world for rank in per_rank for x in rank)
    reference = torch.autograd.grad(reference, weight)[0]

    grads = {"micro_batch": [], "effective_batch": []}
    for mode, per_mode in grads.items():
        for rank_examples in per_rank:
            w = weight.detach().clone().requires_grad_(True)
            for x in rank_examples:  # one example per micro-batch
                loss, count = (x @ w).pow(2).sum()[None], torch.tensor([len(x)])
                backward_loss(loss, count, accum, mode).backward()
            per_mode.append(w.grad)
    ddp = {mode: torch.stack(g).mean(0) for mode, g in grads.items()}  # DDP's all-reduce
    assert torch.allclose(ddp["micro_batch"], reference, atol=1e-6)
    # the two differ: short micro-batches weigh more per token in the authors' loss
    p = torch.nn.Parameter(weight.detach().clone())
    p.grad = ddp["effective_batch"]
    scale_gradients([p], world, sum(len(x) for x in examples))
    assert not torch.allclose(p.grad, reference, atol=1e-3)


def test_lr_is_the_authors_trainer_schedule_step_for_step():
    from transformers import get_cosine_schedule_with_warmup

    weight = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.AdamW([weight], lr=1e-4)
    theirs = get_cosine_schedule_with_warmup(optimizer, 15, 100)
    for step in range(101):
        assert lr_at(step, 1e-4, 15, 100) == pytest.approx(theirs.get_last_lr()[0], abs=1e-15)
        optimizer.step()
        theirs.step()
    assert lr_at(0, 1e-4, 1500, 10000) == 0.0  # the first step does not move the weights
    assert lr_at(5750, 1e-4, 1500, 10000) == pytest.approx(0.5e-4)


@pytest.mark.parametrize("batches, accum", [(10, 4), (12, 4), (3, 4), (7, 1)])
def test_an_epochs_last_step_takes_the_micro_batches_left_as_the_authors_trainer(batches, accum):
    # transformers' Trainer: ceil(batches / accum) updates per epoch, the last one over the
    # remainder; our stream of micro-batches is cut into steps the same way.
    updates = batches // accum + int(batches % accum > 0)
    remainder = batches % accum or accum
    theirs = [accum] * (updates - 1) + [remainder]
    stream = BatchStream(list(range(batches * 2)), 2, seed=0, bucketing=False)
    run = SimpleNamespace(accum=accum, steps_per_epoch=-(-batches // accum), stream=stream)
    assert run.steps_per_epoch == updates
    ours = [micro_batches_of(run, step) for step in range(3 * updates)]
    assert ours == theirs * 3
    assert sum(ours[:updates]) == stream.batches_per_epoch()  # an epoch, not more


def test_bucketing_cuts_padding_and_stays_seeded():
    rng = np.random.default_rng(0)
    lengths = rng.integers(50, 1500, 5000).tolist()
    bucketed = epoch_batches(lengths, 16, seed=3, epoch=0)
    plain = epoch_batches(lengths, 16, seed=3, epoch=0, bucketing=False)
    assert padding_fraction(bucketed, lengths) < 0.05 < padding_fraction(plain, lengths)
    assert epoch_batches(lengths, 16, 3, 0) == bucketed
    assert epoch_batches(lengths, 16, 3, 1) != bucketed
    used = sorted(i for b in bucketed for i in b)
    assert len(used) == len(set(used)) == 5000 // 16 * 16  # full batches, no repeats


def test_ranks_share_a_global_batch_and_resume_where_they_stopped():
    lengths = list(range(40))
    streams = [BatchStream(lengths, 8, seed=1, bucketing=True, rank=r, world=2) for r in range(2)]
    first = [next(s.iterate(0, 0)) for s in streams]
    assert sorted(first[0][2] + first[1][2]) == sorted(epoch_batches(lengths, 8, 1, 0)[0])
    fresh = streams[0].iterate(0, 0)
    sequence = [next(fresh)[2] for _ in range(12)]  # crosses into epoch 2
    resumed = streams[0].iterate(*divmod(7, streams[0].batches_per_epoch()))
    assert [next(resumed)[2] for _ in range(5)] == sequence[7:]
    with pytest.raises(ValueError, match="cannot fill one batch"):
        BatchStream([1, 2], 8, 0, True)
