"""Length-bucketed batches that stay seeded and resumable.

Every epoch is a seeded permutation of the examples. With bucketing, the
permutation is cut into windows of ``window`` batches; each window is sorted
by length and cut into batches, and the batches of all windows are shuffled.
Items in a batch then have similar lengths (little padding) while the order
of batches stays random. Epoch ``e`` is a pure function of (seed, e), so a
resumed run only needs (epoch, batch position).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

WINDOW_BATCHES = 64


def epoch_batches(
    lengths: Sequence[int],
    batch_size: int,
    seed: int,
    epoch: int,
    bucketing: bool = True,
    window: int = WINDOW_BATCHES,
) -> list[list[int]]:
    """The batches of one epoch (full batches only: the last partial one is dropped)."""
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(len(lengths))
    n_full = len(order) // batch_size * batch_size
    if not bucketing:
        return [order[i : i + batch_size].tolist() for i in range(0, n_full, batch_size)]
    lengths = np.asarray(lengths)
    batches = []
    span = batch_size * window
    for start in range(0, n_full, span):
        chunk = order[start : min(start + span, n_full)]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i : i + batch_size].tolist() for i in range(0, len(chunk), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def padding_fraction(batches: list[list[int]], lengths: Sequence[int]) -> float:
    """Share of padded positions when each batch is padded to its longest item."""
    real = sum(lengths[i] for b in batches for i in b)
    padded = sum(max(lengths[i] for i in b) * len(b) for b in batches)
    return 1.0 - real / padded if padded else 0.0


class BatchStream:
    """Global batches from (epoch, position) onwards, endlessly, for one rank's slice."""

    def __init__(
        self,
        lengths: Sequence[int],
        global_batch: int,
        seed: int,
        bucketing: bool,
        rank: int = 0,
        world: int = 1,
    ):
        self.lengths, self.global_batch, self.seed = lengths, global_batch, seed
        self.bucketing, self.rank, self.world = bucketing, rank, world
        if len(lengths) < global_batch:
            raise ValueError(
                f"{len(lengths)} training examples cannot fill one batch of {global_batch}"
            )

    def batches_per_epoch(self) -> int:
        return len(self.lengths) // self.global_batch

    def iterate(self, epoch: int, position: int) -> Iterator[tuple[int, int, list[int]]]:
        """Yields (epoch, position of the next batch, this rank's indices)."""
        while True:
            batches = epoch_batches(
                self.lengths, self.global_batch, self.seed, epoch, self.bucketing
            )
            for pos in range(position, len(batches)):
                # Interleaved slices give every rank items of the same length bucket.
                yield epoch, pos + 1, batches[pos][self.rank :: self.world]
            epoch, position = epoch + 1, 0
