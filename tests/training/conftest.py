"""A small corpus index over real raw shards, and training settings for the tiny models."""

from __future__ import annotations

import copy
from typing import NamedTuple

import pytest

from alarm.config import training_settings
from alarm.data.collect import collect_shard
from alarm.data.filters import audio_filter
from alarm.data.index import INDEX_SCHEMA
from alarm.data.synthetic import make_synthetic_corpus
from alarm.files import read_shard, write_shard
from alarm.specs import ModelSpec, TrainingSettings
from alarm.tokenizer import load_tokenizer

PARTS = {
    "synthetic_speech": ("speech", "speech"),
    "synthetic_sound": ("sound", "sound"),
    "synthetic_music": ("music", "music"),
}
TARGETS = {
    "speech": "I hear a {g} voice speaking {l}.\n</think>\n\nThe speaker is {g}.",
    "sound": "I hear a sound repeated a few times.\n</think>\n\nIt is a {k}.",
    "music": "I hear a {t} tone.\n</think>\n\nIt is a {t}.",
}


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory, tiny_models):
    """train/validation index files whose targets follow the clips' metadata."""
    import json

    root = tmp_path_factory.mktemp("corpus")
    items = {
        "speech": 16,
        "dialogue": 0,
        "sound": 12,
        "music": 12,
        "squad": 0,
        "s2s": 0,
        "benchmark": 0,
    }
    make_synthetic_corpus(root / "src", items, seed=1)
    tokenizer = load_tokenizer(tiny_models / "rlm")
    rows = []
    for dataset, (part, category) in PARTS.items():
        settings = {
            "category": category,
            "source": {"type": "synthetic", "part": part},
            "n_shards": 1,
            "repeated_ids": "keep",
            "train_for": {},
        }
        raw = root / "raw" / f"{dataset}.parquet"
        collect_shard(dataset, settings, 0, root / "src", raw)
        audio_filter(
            {"max_duration_s": 60.0, "audio_check": "full"},
            raw,
            root / "items" / f"{dataset}.parquet",
        )
        for i, item in enumerate(read_shard(root / "items" / f"{dataset}.parquet")):
            meta = json.loads(item["metadata"])
            target = TARGETS[category].format(
                g=meta.get("gender", ""),
                l=meta.get("language", ""),
                k=meta.get("sound category", ""),
                t=meta.get("timbre", ""),
            )
            prompt = "What do you hear?"
            rows.append(
                {
                    "example_id": f"{item['uid']}/described",
                    "uid": item["uid"],
                    "dataset": dataset,
                    "unique_id_1": item["unique_id_1"],
                    "unique_id_2": item["unique_id_2"],
                    "category": category,
                    "variant": "described",
                    "audio_shard": item["audio_shard"],
                    "audio_row": item["audio_row"],
                    "duration": item["duration"],
                    "prompt": prompt,
                    "text_prompt": prompt,
                    "target": target,
                    "text_tokens": len(
                        tokenizer(prompt + target, add_special_tokens=False)["input_ids"]
                    ),
                    "split": "validation" if i % 4 == 0 else "train",
                }
            )
    for split in ("train", "validation"):
        write_shard(
            [r for r in rows if r["split"] == split], root / f"{split}.parquet", INDEX_SCHEMA
        )
    return root


class TrainArgs(NamedTuple):
    """The first three arguments of alarm.training.loop.train."""

    model: ModelSpec
    training: TrainingSettings
    categories: dict[str, str]


@pytest.fixture
def train_settings(config_with_models, model_settings, tiny_corpus):
    """settings(model, init=None, **training overrides): TrainArgs for the tiny models."""
    config = copy.deepcopy(config_with_models)
    for name, (_, category) in PARTS.items():
        config["datasets"][name]["category"] = category

    def make(model="al_whisper_r", init=None, **overrides):
        training = training_settings(config, model)
        training["data"] = {d: f for d, f in training["data"].items() if d in PARTS}
        training.update(
            {
                "effective_batch": 4,
                "per_device_batch": 2,
                "warmup_steps": 2,
                "eval_every": 1000,
                "checkpoint_every": 1000,
                "lr": 3e-3,
                "epochs": 1,
                "num_workers": 0,
                "max_seq_len": 1024,
            }
            | overrides
        )
        return TrainArgs(
            model_settings(config, model, init),
            TrainingSettings.from_dict(training),
            {n: s["category"] for n, s in config["datasets"].items()},
        )

    return make
