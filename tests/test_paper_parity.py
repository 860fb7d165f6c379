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
        "training", "models", "split", "encoders", "generation", "filters", "inference"
    }  # fmt: skip
    assert IMPROVED["split"] == PAPER["split"] | {"method": "hash"}
    assert IMPROVED["generation"] == PAPER["generation"] | {
        "rephrase": PAPER["generation"]["rephrase"] | {"parse": "strict"},
        "r0": PAPER["generation"]["r0"] | {"empty": "drop"},
    }
    assert IMPROVED["filters"] == PAPER["filters"] | {
        "answer_tokens": PAPER["filters"]["answer_tokens"] | {"apply": True},
        "repeated_ids": "drop",
        "audio_check": "full",
    }
    assert IMPROVED["encoders"] == PAPER["encoders"] | {
        "decode_rate": None,
        "decoder": "soundfile",
        "sslam": PAPER["encoders"]["sslam"] | {"batch_padding": "silence"},
    }
    assert IMPROVED["inference"] == PAPER["inference"] | {"seed": 0}


def test_the_paper_corpus_is_built_as_the_authors_and_the_overlay_filters_it():
    # generate_responses.py keeps every rephrasing; validate_and_filter_answers.py writes
    # indexes that src/dataset/data_utils.py never reads, so no length filter.
    assert PAPER["generation"]["rephrase"]["parse"] == "authors"
    assert PAPER["filters"]["answer_tokens"] == {"min": 100, "max": 612, "apply": False}
    assert IMPROVED["generation"]["rephrase"]["parse"] == "strict"
    assert IMPROVED["filters"]["answer_tokens"]["apply"] is True


def test_the_paper_corpus_keeps_repeated_ids_and_empty_r0_as_the_authors():
    # Their raw tables number every row, a repeated id included, and generate_responses.py
    # rephrases every R0, an empty one included.
    assert PAPER["filters"]["repeated_ids"] == "keep"
    # validate_and_filter_indexes.py: the described corpora, their first 10 ms.
    assert STAGES["audio_filter"].settings_of(PAPER)["audio_check"] == "authors"
    assert STAGES["audio_filter"].settings_of(IMPROVED)["audio_check"] == "full"
    assert PAPER["generation"]["r0"]["empty"] == "keep"
    assert STAGES["collect"].settings_of(IMPROVED, dataset="clotho")["repeated_ids"] == "drop"
    assert STAGES["generate_r0"].settings_of(IMPROVED)["empty"] == "drop"


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


TWO_GPU = ("al_whisper_instruct_r", "al_w2vbert2_r", "al_muq_r", "al_sslam_r")


def test_validation_every_5000_steps_on_2_gpus_and_20000_on_4():
    # eval_steps in train_alarm_ca.sh and train_alarm_p.sh
    for model in AUTHORS:
        assert settings(PAPER, model).eval_every == (5000 if model in TWO_GPU else 20000)


def test_benchmarks_are_answered_as_run_eval_sh_and_seeded_in_the_overlay():
    # run_eval.sh: SEED defaults to null, GPU_MEMORY_UTILIZATION to 0.5.
    assert PAPER["inference"]["seed"] is None
    assert PAPER["inference"]["engine"]["gpu_memory_utilization"] == 0.5
    answered = STAGES["benchmark_generate"].settings_of(IMPROVED, model="alarm_ca")
    assert answered["inference"]["seed"] == 0


def test_sslam_batches_pad_with_zeros_as_the_authors_and_with_silence_in_the_overlay():
    short, long = (torch.full((1024 * k, 128), 0.25) for k in (1, 2))  # normalised features
    items = [{"input": x, "length": torch.tensor(x.shape[0])} for x in (short, long)]
    padded = {}
    for name, config in (("paper", PAPER), ("improved", IMPROVED)):
        spec = with_paths(model_spec(config, "al_sslam_r"), {}, complete=False)
        padded[name] = feature_extractors(spec)["sslam"].collate(items)["input"]
    # the authors' collate_fn.py: torch.nn.utils.rnn.pad_sequence, padding_value 0
    assert torch.equal(padded["paper"][0, 1024:], torch.zeros(1024, 128))
    silence = (0.0 + 4.268) / (2 * 4.569)  # a zero fbank, normalised as the clip's padding
    assert torch.allclose(padded["improved"][0, 1024:], torch.full((1024, 128), silence))
    assert torch.equal(padded["paper"][:, :1024], padded["improved"][:, :1024])
    assert "batch_padding" not in model_spec(PAPER, "al_whisper_r")["encoders"]["whisper"]


def test_a_fraction_of_a_dataset_is_the_authors_prefix_of_their_table(tmp_path):
    from alarm.data.index import INDEX_SCHEMA
    from alarm.files import write_shard
    from alarm.training.data import select_examples

    # hf_dataset.py: int(len(dataset) * 0.2) rows, in dataset_index order (the two ids).
    # "a-b/.." sorts before "a/.." as a uid string but after ("a", ..) as ids; 8 rows give
    # int(1.6) = 1 where round() gives 2.
    ids = [("a-b", "x")] + [("a", str(i)) for i in range(7)]
    rows = [
        dict.fromkeys(INDEX_SCHEMA.names, "")
        | {"example_id": f"audioset/{u1}/{u2}/described", "uid": f"audioset/{u1}/{u2}",
           "dataset": "audioset", "unique_id_1": u1, "unique_id_2": u2, "variant": "described",
           "audio_row": 0, "duration": 1.0, "text_tokens": 1}
        for u1, u2 in ids
    ]  # fmt: skip
    write_shard(rows, tmp_path / "train.parquet", INDEX_SCHEMA)
    chosen = select_examples(tmp_path / "train.parquet", {"audioset": 0.2}, {"audioset"})
    assert [r["uid"] for r in chosen] == ["audioset/a/0"]


def test_clips_are_decoded_as_datasets_audio_decodes_them_and_by_libsndfile_in_the_overlay():
    # datasets.Audio (their pin, 4.0.0) decodes with torchcodec; the equality of the two
    # decodes is tests/data/test_audio.py's.
    for config, decoder in ((PAPER, "torchcodec"), (IMPROVED, "soundfile")):
        assert {model_spec(config, m)["decoder"] for m in AUTHORS} == {decoder}
        assert STAGES["generate_released"].settings_of(config)["decoder"] == decoder
