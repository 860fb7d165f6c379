"""Training examples: selected from the corpus index, loaded and featurised in workers.

A model trains on the datasets that list it in ``train_for``, each variant of each
cut to ``int(fraction * N)`` of its N examples in the authors' table order, sorted
by the two ids (their prefix slices, e.g. 20% of AudioSet for AL-SSLAM-R). A
worker decodes the clip once, hands the mono waveform to each encoder's feature
extractor and tokenises the layout; the main process only collates.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from alarm.data.audio import AudioError, decode_mono
from alarm.data.audio_store import AudioStore
from alarm.files import read_shard
from alarm.model.encoders import FeatureExtractor
from alarm.model.layout import Text, piece_ids, training_layout
from alarm.sharding import stable_hash

log = logging.getLogger(__name__)
SKIPPED_RATE = 16000  # the silence standing in for a clip that does not decode


class DataError(ValueError):
    """A corpus index that cannot train this model; raised before any step runs."""


def select_examples(
    index: str | Path,
    fractions: dict[str, float],
    known: set[str],
    limit: int | None = None,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Examples of the model's datasets, each variant cut to its prefix fraction."""
    rows = read_shard(index)
    unknown = sorted({r["dataset"] for r in rows} - known)
    if unknown:
        raise DataError(f"{index}: datasets {unknown} are not in the configuration")
    # The authors list a dataset once per variant (WithContext, NoContext), each entry
    # taking int(N * fraction) rows of its table in dataset_index order: the two ids.
    by_part: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if row["dataset"] in fractions:
            by_part[row["dataset"], row["variant"]].append(row)
    selected = []
    for (dataset, _), items in sorted(by_part.items()):
        items.sort(key=lambda r: (r["unique_id_1"], r["unique_id_2"], r["example_id"]))
        selected += items[: int(len(items) * fractions[dataset])]
    if limit is not None and len(selected) > limit:
        selected = sorted(selected, key=lambda r: stable_hash(f"{seed}/{r['example_id']}"))[:limit]
    return selected


def sequence_length(example: dict[str, Any], tokens_per_second: float, fixed: int) -> int:
    """LLM input length of an example: audio tokens + separators + prompt and target text.

    The chat template adds a handful of tokens more; bucketing only needs the order.
    """
    return int(example["duration"] * tokens_per_second) + fixed + example["text_tokens"]


class ExampleDataset(torch.utils.data.Dataset):
    def __init__(
        self,
        examples: list[dict[str, Any]],
        extractors: dict[str, FeatureExtractor],
        tokenizer,
        decoding: tuple[str, int | None],
    ):
        self.examples = examples
        self.extractors = extractors
        self.tokenizer = tokenizer
        self.decoding = decoding  # the model's decoder and decode rate (alarm.data.audio)
        self.store = AudioStore()

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, i: int) -> dict[str, Any]:
        ex = self.examples[i]
        target, skipped = ex["target"], False
        try:
            mono, sr = decode_mono(
                self.store.get(ex["audio_shard"], ex["audio_row"]), *self.decoding
            )
        except AudioError as err:
            # A clip the corpus kept that this decoder rejects (the authors' audio check
            # read only its first 10 ms): a second of silence with no target, so the
            # example adds no loss and every process still steps with the others.
            log.warning("example %s skipped: %s", ex["example_id"], err)
            sr = self.decoding[1] or SKIPPED_RATE
            mono, target, skipped = np.zeros(sr, dtype=np.float32), "", True
        layout = training_layout(self.tokenizer, ex["prompt"], target)
        return {
            "features": {name: fe(mono, sr) for name, fe in self.extractors.items()},
            "layout": [
                (piece, piece_ids(self.tokenizer, piece) if isinstance(piece, Text) else None)
                for piece in layout
            ],
            "group": ex["category"],
            "skipped": skipped,
        }

    def collate(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "features": {
                name: fe.collate([it["features"][name] for it in items])
                for name, fe in self.extractors.items()
            },
            "layouts": [it["layout"] for it in items],
            "groups": [it["group"] for it in items],
            "skipped": sum(it["skipped"] for it in items),
        }


def move_features(features: dict[str, dict[str, torch.Tensor]], device) -> dict:
    return {name: {k: v.to(device) for k, v in f.items()} for name, f in features.items()}
