"""The frozen-LLM wrapper: gradients, frozen parts, loss masking, layouts, checkpoints."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from alarm.model.alarm_model import (
    IGNORE,
    ALARMModel,
    CheckpointError,
    build_frontend,
    load_trained_weights,
    read_trained,
    save_trained,
)
from alarm.model.encoders import feature_extractors
from alarm.model.layout import (
    AudioSegment,
    Text,
    inference_layout,
    piece_ids,
    training_layout,
)
from alarm.model.loading import load_llm
from alarm.texts import load_texts
from alarm.tokenizer import load_tokenizer


@pytest.fixture(scope="module")
def parts(tiny_models):
    return load_llm(str(tiny_models / "rlm"), torch.float32), load_tokenizer(
        str(tiny_models / "rlm")
    )


def _features(spec, seconds=(1.3, 2.0)):
    rng = np.random.default_rng(0)
    out = {}
    for name, fe in feature_extractors(spec).items():
        out[name] = fe.collate(
            [
                fe(rng.standard_normal(int(16000 * s)).astype(np.float32) * 0.1, 16000)
                for s in seconds
            ]
        )
    return out


@pytest.fixture
def build(model_settings, parts):
    """build(config, name) -> (ALARMModel with one fresh front end, its settings)."""

    def make(config, name):
        llm, tok = parts
        settings = model_settings(config, name)
        return ALARMModel([build_frontend(settings, llm.config.hidden_size)], llm, tok), settings

    return make


def test_a_fresh_front_end_is_initialised_as_the_authors_model_class_does(
    config_with_models, build
):
    # Their post_init: Linear and Conv1d N(0, 0.02) with zero bias (torch's default draws
    # uniform biases), norms 1 and 0; the separators stay std-1 randn.
    model, _ = build(config_with_models, "al_whisper_r")
    frontend = model.frontends[0]
    layers = [
        m
        for m in [*frontend.audio_adapter.modules(), *frontend.audio_fusion.modules()]
        if isinstance(m, (torch.nn.Linear, torch.nn.Conv1d))
    ]
    assert layers and all(not m.bias.any() for m in layers)
    weights = torch.cat([m.weight.flatten() for m in layers])
    assert weights.std().item() == pytest.approx(0.02, rel=0.05)
    assert frontend.audio_start_emb.std().item() > 0.5


def test_gradients_reach_every_trainable_parameter_and_no_frozen_one(
    config_with_models, parts, build, model_settings, tmp_path
):
    config = config_with_models
    # ALARM-CA loads its adapters from the single-encoder models: write those first.
    for single in ("al_whisper_r", "al_w2vbert2_r", "al_muq_r", "al_sslam_r"):
        model, settings = build(config, single)
        save_trained(model.frontends[0], settings, tmp_path / single)
    for name in ("al_whisper_r", "alarm_ca", "alarm_p"):
        if name == "alarm_p":
            save_trained(
                build(config, "al_whisper_instruct_r")[0].frontends[0],
                model_settings(config, "al_whisper_instruct_r"),
                tmp_path / "al_whisper_instruct_r",
            )
        settings = model_settings(config, name)
        settings = replace(
            settings,
            init={
                enc: str(tmp_path / a.init_from / "adapter.safetensors")
                for enc, a in settings.adapters.items()
                if a.init_from is not None
            },
        )
        llm, tok = parts
        model = ALARMModel([build_frontend(settings, llm.config.hidden_size)], llm, tok).train()
        layouts = [training_layout(tok, "What is it?", "It is a sound.\n</think>\n\nA sound.")] * 2
        loss, count = model(_features(settings), layouts, max_len=4096)
        (loss.sum() / count.sum()).backward()
        for pname, p in model.named_parameters():
            trainable = p.requires_grad
            assert (p.grad is not None) == trainable, pname
            if trainable:
                assert torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0, pname
        assert not any(p.requires_grad for p in model.llm.parameters())
        frozen = [
            a
            for a in model.frontends[0].audio_adapter.adapters.values()
            if not any(p.requires_grad for p in a.parameters())
        ]
        assert all(
            not m.training for a in frozen for m in a.modules()
        )  # frozen adapters stay in eval
        assert not model.llm.training
        for p in model.parameters():
            p.grad = None


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_frozen_adapters_train_in_the_mode_asked(config_with_models, parts, model_settings, mode):
    """train: the authors' code (the frozen Whisper adapter's BatchNorm uses batch statistics
    and updates its running averages); eval: they stay as loaded."""
    llm, tok = parts
    settings = model_settings(config_with_models, "al_whisper_r")
    frontend = build_frontend(settings, llm.config.hidden_size)
    adapter = frontend.audio_adapter.adapters["whisper"]
    adapter.requires_grad_(False)  # as build_frontend leaves an adapter loaded frozen
    norms = [m for m in adapter.modules() if isinstance(m, torch.nn.BatchNorm1d)]
    assert norms
    before = [n.running_mean.clone() for n in norms]
    model = ALARMModel([frontend], llm, tok, frozen_adapters=mode).train()
    layouts = [training_layout(tok, "What is it?", "A sound.\n</think>\n\nA sound.")] * 2
    model(_features(settings), layouts, max_len=4096)
    moved = [not torch.equal(b, n.running_mean) for b, n in zip(before, norms, strict=True)]
    assert all(moved) == (mode == "train") and any(moved) == (mode == "train")
    assert all(n.training == (mode == "train") for n in norms)


def test_loss_covers_only_the_target(config_with_models, build):
    model, settings = build(config_with_models, "al_muq_r")
    model.eval()
    tok = model.tokenizer
    target = "Some reasoning.\n</think>\n\nAn answer."
    layout = training_layout(tok, "Describe it.", target)
    features = _features(settings, seconds=(1.0,))
    audio = model.encode_audio([features])
    embeds, labels = model.assemble([layout], audio)
    target_ids = tok(target, add_special_tokens=False)["input_ids"]
    assert labels[0][-len(target_ids) :].tolist() == target_ids
    assert (labels[0][: -len(target_ids)] == IGNORE).all()
    # the loss equals cross-entropy over the target positions, computed by hand
    loss, count = model(features, [layout], max_len=4096)
    logits = model.llm(inputs_embeds=embeds[0][None]).logits[0]
    manual = torch.nn.functional.cross_entropy(
        logits[-len(target_ids) - 1 : -1], torch.tensor(target_ids), reduction="sum"
    )
    assert int(count[0]) == len(target_ids)
    assert torch.allclose(loss[0], manual, atol=1e-3)
    # a pad-id token in the target is not learned
    padded = [Text(p.parts, p.is_target) if isinstance(p, Text) else p for p in layout]
    padded[-1] = Text((target + "<|endoftext|>",), is_target=True)
    assert int(model(features, [padded], max_len=4096)[1][0]) == len(target_ids)
    # right truncation counts audio tokens too
    assert int(model(features, [layout], max_len=len(embeds[0]) - 3)[1][0]) == len(target_ids) - 3


def test_training_and_inference_layouts(parts):
    _, tok = parts
    pieces = training_layout(tok, "P?", "T")
    assert pieces == [
        Text(("<|im_start|>user\n",)),
        AudioSegment(0),
        Text(("P?<|im_end|>\n<|im_start|>assistant\n<think>\n",)),
        Text(("T",), True),
    ]
    inference = inference_layout(tok, "P?", "SYS")
    assert inference[0] == Text(("<|im_start|>system\nSYS<|im_end|>\n",))
    assert inference[1:] == [
        Text(("<|im_start|>user\n",)),
        AudioSegment(0),
        Text(("P?<|im_end|>\n<|im_start|>assistant\n<think>\n",)),
    ]


def test_ensemble_embedding_layout_token_by_token(config_with_models, parts, model_settings):
    llm, tok = parts
    members = [model_settings(config_with_models, m) for m in ("al_muq_r", "al_whisper_r")]
    frontends = [build_frontend(s, llm.config.hidden_size) for s in members]
    model = ALARMModel(frontends, llm, tok).eval()
    audio = model.encode_audio([_features(s, seconds=(1.0,)) for s in members])
    texts = load_texts()
    instruction, first, second = (
        texts.ensemble_instruction(2),
        texts.ensemble_pass(1, 2),
        texts.ensemble_pass(2, 2),
    )
    layout = inference_layout(tok, "What do you hear?", "SYS", n_segments=2, texts=texts)
    embeds, _ = model.assemble([layout], audio)
    ids = lambda *parts: [t for p in parts for t in tok(p, add_special_tokens=False)["input_ids"]]  # noqa: E731
    table = llm.get_input_embeddings().weight
    expected = []
    expected += [table[i] for i in ids("<|im_start|>system\nSYS<|im_end|>\n")]
    expected += [table[i] for i in ids("<|im_start|>user\n", instruction, first)]
    (a0, l0), (a1, l1) = audio
    expected += [
        frontends[0].audio_start_emb[0],
        *a0[0, : int(l0[0])],
        frontends[0].audio_end_emb[0],
    ]
    expected += [table[i] for i in ids("\n")]
    expected += [table[i] for i in ids(second)]
    expected += [
        frontends[1].audio_start_emb[0],
        *a1[0, : int(l1[0])],
        frontends[1].audio_end_emb[0],
    ]
    expected += [
        table[i] for i in ids("\n", "What do you hear?<|im_end|>\n<|im_start|>assistant\n<think>\n")
    ]
    assert embeds[0].shape[0] == len(expected)
    assert torch.allclose(embeds[0], torch.stack(expected), atol=1e-6)
    # each text piece is tokenised on its own, as the authors build their ids
    assert piece_ids(tok, layout[1]) == ids("<|im_start|>user\n", instruction, first)


def test_checkpoints_hold_no_frozen_backbone_or_encoder_weight(config_with_models, build, tmp_path):
    model, settings = build(config_with_models, "al_whisper_r")
    save_trained(model.frontends[0], settings, tmp_path)
    assert read_trained(tmp_path) == (settings, tmp_path / "adapter.safetensors")  # model.json
    from safetensors.torch import load_file

    keys = load_file(str(tmp_path / "adapter.safetensors"))
    assert keys and all(
        k.startswith(("audio_adapter.", "audio_fusion.", "audio_start_emb", "audio_end_emb"))
        for k in keys
    )
    assert sum(
        v.numel() for k, v in keys.items() if "running" not in k and "num_batches" not in k
    ) == sum(p.numel() for p in model.frontends[0].parameters() if p.requires_grad)
    fresh, _ = build(config_with_models, "al_whisper_r")
    load_trained_weights(fresh.frontends[0], tmp_path / "adapter.safetensors")
    other, _ = build(config_with_models, "al_muq_r")
    with pytest.raises(CheckpointError, match="does not fit"):
        load_trained_weights(other.frontends[0], tmp_path / "adapter.safetensors")
    (tmp_path / "broken.safetensors").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="cannot be read"):
        load_trained_weights(fresh.frontends[0], tmp_path / "broken.safetensors")
    with pytest.raises(CheckpointError, match="does not exist"):
        load_trained_weights(fresh.frontends[0], tmp_path / "missing.safetensors")
