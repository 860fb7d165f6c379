"""config/paper.yaml replays the authors' runs; config/improved.yaml holds our deviations.

The authors' values come from their training scripts (Blinorot/ALARM at 67c6776, see
shared/reference/model-training.md), which made the released checkpoints: where the
paper's text differs, the scripts win in paper.yaml and the text goes to improved.yaml.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from alarm.config import load_config, model_spec, training_settings
from alarm.model.encoders import feature_extractors
from alarm.model.frontend import AudioFrontEnd
from alarm.registry import STAGES
from alarm.specs import TrainingSettings, with_paths

REPO = Path(__file__).resolve().parents[1]
PAPER = load_config([REPO / "config" / "paper.yaml"])
IMPROVED = load_config([REPO / "config" / "paper.yaml", REPO / "config" / "improved.yaml"])

# model: epochs, effective batch (GPUs x per-device x accumulation), per-device batch
AUTHORS = {
    "al_whisper_r": (2, 64, 4),  # 4 x 4 x 4
    "al_whisper_instruct_r": (2, 32, 2),  # 2 x 2 x 8
    "al_w2vbert2_r": (2, 32, 2),
    "al_muq_r": (2, 32, 2),
    "al_sslam_r": (2, 32, 2),
    "alarm_ca": (2, 64, 4),  # train_alarm_ca.sh: ~172k steps of 64
    "alarm_p": (2, 64, 4),
}


def settings(config, model) -> TrainingSettings:
    return TrainingSettings.from_dict(training_settings(config, model))


@pytest.mark.parametrize("model", AUTHORS)
def test_the_paper_config_trains_as_the_authors_scripts(model):
    t = settings(PAPER, model)
    assert (t.epochs, t.effective_batch, t.per_device_batch) == AUTHORS[model]
    assert (t.lr, t.warmup_steps, t.grad_clip, t.weight_decay, t.seed) == (1e-4, 1500, 1.0, 0.0, 42)
    assert t.max_seq_len == 4096
    assert t.bucketing is False  # the HF Trainer's random sampler
    assert t.frozen_adapters == "train"  # their adapters loaded frozen stay in train mode
    assert t.loss_normalisation == "micro_batch"  # the HF Trainer's per-micro-batch mean


def test_alarm_ca_masks_as_the_authors_and_the_overlay_by_each_stream():
    assert "lengths" not in PAPER["models"]["alarm_ca"]["fusion"]  # left out: the authors'
    assert IMPROVED["models"]["alarm_ca"]["fusion"]["lengths"] == "own"
    assert IMPROVED["models"]["alarm_ca"]["fusion"] | {"lengths": None} == PAPER["models"][
        "alarm_ca"
    ]["fusion"] | {"lengths": None}


def test_the_trained_models_are_the_authors_seven():
    trained = {m for m, spec in PAPER["models"].items() if "ensemble" not in spec}
    assert trained == set(AUTHORS)


def test_the_improved_overlay_changes_only_its_named_switches():
    changed = {
        (model, field)
        for model in AUTHORS
        for field, value in settings(IMPROVED, model).to_dict().items()
        if settings(PAPER, model).to_dict()[field] != value
    }
    switches = {
        (m, name)
        for m in AUTHORS
        for name in ("bucketing", "frozen_adapters", "loss_normalisation")
    }
    paper_text = {("al_whisper_r", "effective_batch"), ("al_whisper_r", "per_device_batch"),
                  ("alarm_ca", "epochs")}  # fmt: skip
    assert changed == switches | paper_text
    assert {k for k in IMPROVED if IMPROVED[k] != PAPER[k]} == {
        "training", "models", "split", "encoders", "generation", "filters"
    }  # fmt: skip
    assert IMPROVED["split"] == PAPER["split"] | {"method": "hash"}
    assert IMPROVED["generation"] == PAPER["generation"] | {
        "rephrase": PAPER["generation"]["rephrase"] | {"parse": "strict"}
    }
    assert IMPROVED["filters"] == PAPER["filters"] | {
        "answer_tokens": PAPER["filters"]["answer_tokens"] | {"apply": True}
    }
    assert IMPROVED["encoders"] == PAPER["encoders"] | {"decode_rate": None}


def test_the_paper_corpus_is_built_as_the_authors_and_the_overlay_filters_it():
    # generate_responses.py keeps every rephrasing; validate_and_filter_answers.py writes
    # indexes that src/dataset/data_utils.py never reads, so no length filter.
    assert PAPER["generation"]["rephrase"]["parse"] == "authors"
    assert PAPER["filters"]["answer_tokens"] == {"min": 100, "max": 612, "apply": False}
    assert IMPROVED["generation"]["rephrase"]["parse"] == "strict"
    assert IMPROVED["filters"]["answer_tokens"]["apply"] is True


def test_the_paper_split_holds_out_the_authors_rows():
    # scripts/alarm/create_train_val_split.py: legacy numpy seeded 123, the first 10 %.
    assert PAPER["split"] == {"validation_fraction": 0.1, "seed": 123, "method": "authors"}


def test_clips_reach_the_encoders_decoded_at_16_khz_and_natively_in_the_overlay():
    # The authors cast every corpus and benchmark to datasets.Audio(sampling_rate=16000).
    assert PAPER["encoders"]["decode_rate"] == 16000
    assert IMPROVED["encoders"]["decode_rate"] is None
    # A model spec states the rate its extractors use; a model whose encoders share one
    # rate decodes natively at that rate, so the 16 kHz models keep the authors' spec.
    improved = dict.fromkeys(AUTHORS, 16000) | {"al_muq_r": 24000, "alarm_ca": None,
                                                "alarm_p": None}  # fmt: skip
    for config, rates in ((PAPER, dict.fromkeys(AUTHORS, 16000)), (IMPROVED, improved)):
        for model, rate in rates.items():
            trained = STAGES["train_model"].settings_of(config, model=model)["model"]
            assert with_paths(trained, {}, complete=False).decode_rate == rate, model
        muq = with_paths(model_spec(config, "al_muq_r"), {}, complete=False)
        assert feature_extractors(muq)["muq"].decode_rate == rates["al_muq_r"]  # no files
        answered = STAGES["benchmark_generate"].settings_of(config, model="alarm_e")["models"]
        assert [m["decode_rate"] for m in answered] == [rates["alarm_ca"], 16000]
        released = STAGES["generate_released"].settings_of(config)["decode_rate"]
        assert released == config["encoders"]["decode_rate"]


class _Encoder(torch.nn.Module):
    """What a front end reads of a frozen encoder: its selected layers and width."""

    def __init__(self, layers, hidden_size):
        super().__init__()
        self.layers, self.hidden_size = layers, hidden_size


WIDTH = {"whisper": 1280, "w2vbert": 1024, "muq": 1024, "sslam": 768}


@pytest.mark.parametrize("model", AUTHORS)
def test_new_modules_start_as_the_authors_post_init_leaves_them(model):
    # Their post_init (transformers' generic init): Linear and Conv1d N(0, 0.02), zero bias.
    spec = with_paths(model_spec(PAPER, model), {}, complete=False)
    encoders = {n: _Encoder(list(e.layers), WIDTH[n]) for n, e in spec.encoders.items()}
    frontend = AudioFrontEnd(encoders, spec, llm_dim=2560)
    layers = [
        m
        for part in (frontend.audio_adapter, frontend.audio_fusion)
        for m in part.modules()
        if isinstance(m, (torch.nn.Linear, torch.nn.Conv1d))
    ]
    assert layers and not any(m.bias.any() for m in layers if m.bias is not None)
    weights = torch.cat([m.weight.detach().flatten() for m in layers])
    assert weights.std().item() == pytest.approx(0.02, rel=0.02)
