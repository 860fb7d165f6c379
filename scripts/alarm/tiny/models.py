"""Tiny, randomly initialised models of the real architectures (the default configuration).

Each is built from a config of the real class (Qwen3ForCausalLM,
Qwen3MoeForCausalLM, WhisperForConditionalGeneration, Wav2Vec2BertModel, MuQ,
our SSLAM) with the real vocabularies and special-token ids, and saved in the
same on-disk layout as the hub checkpoints, so every stage loads it with the
code it uses for the paper's models.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open

from alarm.texts import OURS
from alarm.tiny.tokenizers import QWEN3_VOCAB_SIZE, qwen3_tokenizer, whisper_tokenizer

log = logging.getLogger(__name__)

QWEN3_BOS, QWEN3_EOS, QWEN3_PAD = 151643, 151645, 151643


def _qwen3(spec: dict[str, Any], out: Path) -> None:
    from transformers import GenerationConfig, Qwen3Config, Qwen3ForCausalLM

    heads = spec["num_heads"]
    config = Qwen3Config(
        vocab_size=QWEN3_VOCAB_SIZE,
        hidden_size=spec["hidden_size"],
        intermediate_size=spec.get("intermediate_size", 3 * spec["hidden_size"]),
        num_hidden_layers=spec["num_layers"],
        num_attention_heads=heads,
        num_key_value_heads=spec.get("num_key_value_heads", heads),
        head_dim=spec.get("head_dim", spec["hidden_size"] // heads),
        max_position_embeddings=32768,
        rope_theta=5_000_000,
        rms_norm_eps=1e-6,
        tie_word_embeddings=True,  # as Qwen3-4B
        bos_token_id=QWEN3_BOS,
        eos_token_id=QWEN3_EOS,
    )
    Qwen3ForCausalLM(config).save_pretrained(out)
    qwen3_tokenizer("qwen3_thinking").save_pretrained(out)
    # Qwen3-4B-Thinking-2507's generation_config.json
    GenerationConfig(
        bos_token_id=QWEN3_BOS,
        eos_token_id=[QWEN3_EOS, QWEN3_BOS],
        pad_token_id=QWEN3_PAD,
        do_sample=True,
        temperature=0.6,
        top_p=0.95,
        top_k=20,
    ).save_pretrained(out)


def _qwen3_moe(spec: dict[str, Any], out: Path) -> None:
    from transformers import GenerationConfig, Qwen3MoeConfig, Qwen3MoeForCausalLM

    heads = spec["num_heads"]
    width = spec.get("intermediate_size", spec["hidden_size"])
    config = Qwen3MoeConfig(
        vocab_size=QWEN3_VOCAB_SIZE,
        hidden_size=spec["hidden_size"],
        intermediate_size=width,
        moe_intermediate_size=width,
        num_hidden_layers=spec["num_layers"],
        num_attention_heads=heads,
        num_key_value_heads=spec.get("num_key_value_heads", heads),
        head_dim=spec.get("head_dim", spec["hidden_size"] // heads),
        num_experts=spec.get("num_experts", 4),
        num_experts_per_tok=spec.get("num_experts_per_tok", 2),
        norm_topk_prob=True,  # as Qwen3-30B-A3B-2507
        decoder_sparse_step=1,
        max_position_embeddings=32768,
        rope_theta=10_000_000,
        rms_norm_eps=1e-6,
        tie_word_embeddings=False,
        bos_token_id=QWEN3_BOS,
        eos_token_id=QWEN3_EOS,
    )
    Qwen3MoeForCausalLM(config).save_pretrained(out)
    qwen3_tokenizer("qwen3_instruct").save_pretrained(out)
    # Qwen3-30B-A3B-Instruct-2507's generation_config.json
    GenerationConfig(
        bos_token_id=QWEN3_BOS,
        eos_token_id=[QWEN3_EOS, QWEN3_BOS],
        pad_token_id=QWEN3_PAD,
        do_sample=True,
        temperature=0.7,
        top_p=0.8,
        top_k=20,
    ).save_pretrained(out)


def _whisper(spec: dict[str, Any], out: Path) -> None:
    from transformers import (
        GenerationConfig,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperProcessor,
    )

    tokenizer = whisper_tokenizer()
    ids = tokenizer.get_vocab()
    sot, eot = ids["<|startoftranscript|>"], ids["<|endoftext|>"]
    config = WhisperConfig(
        vocab_size=len(tokenizer),
        num_mel_bins=128,  # large-v3
        d_model=spec["hidden_size"],
        encoder_layers=spec["num_layers"],
        decoder_layers=1,
        encoder_attention_heads=spec["num_heads"],
        decoder_attention_heads=spec["num_heads"],
        encoder_ffn_dim=spec.get("intermediate_size", 4 * spec["hidden_size"]),
        decoder_ffn_dim=spec.get("intermediate_size", 4 * spec["hidden_size"]),
        max_source_positions=1500,
        max_target_positions=448,
        pad_token_id=eot,
        bos_token_id=eot,
        eos_token_id=eot,
        decoder_start_token_id=sot,
    )
    WhisperForConditionalGeneration(config).save_pretrained(out)
    WhisperProcessor(WhisperFeatureExtractor(feature_size=128), tokenizer).save_pretrained(out)
    from whisper.tokenizer import LANGUAGES

    GenerationConfig(
        decoder_start_token_id=sot,
        bos_token_id=eot,
        eos_token_id=eot,
        pad_token_id=eot,
        max_length=448,
        is_multilingual=True,
        lang_to_id={f"<|{code}|>": ids[f"<|{code}|>"] for code in LANGUAGES},
        task_to_id={"transcribe": ids["<|transcribe|>"], "translate": ids["<|translate|>"]},
        no_timestamps_token_id=ids["<|notimestamps|>"],
        prev_sot_token_id=ids["<|startofprev|>"],
        begin_suppress_tokens=[ids["Ġ"], eot],
        suppress_tokens=[],
    ).save_pretrained(out)


def _w2v_bert(spec: dict[str, Any], out: Path) -> None:
    from transformers import SeamlessM4TFeatureExtractor, Wav2Vec2BertConfig, Wav2Vec2BertModel

    config = Wav2Vec2BertConfig(  # other fields keep the w2v-bert-2.0 defaults
        hidden_size=spec["hidden_size"],
        num_hidden_layers=spec["num_layers"],
        num_attention_heads=spec["num_heads"],
        intermediate_size=spec.get("intermediate_size", 4 * spec["hidden_size"]),
        output_hidden_size=spec["hidden_size"],
        feature_projection_input_dim=160,
        add_adapter=False,
    )
    Wav2Vec2BertModel(config).save_pretrained(out)
    SeamlessM4TFeatureExtractor().save_pretrained(out)


def _muq(spec: dict[str, Any], out: Path) -> None:
    from muq import MuQ, MuQConfig

    heads = spec["num_heads"]
    conformer = {  # the wav2vec2-conformer-rope-large settings MuQ-large uses, scaled down
        "position_embeddings_type": "rotary",
        "rotary_embedding_base": 10000,
        "num_attention_heads": heads,
        "intermediate_size": spec.get("intermediate_size", 4 * spec["hidden_size"]),
        "hidden_act": "swish",
        "conv_depthwise_kernel_size": 31,
        "num_conv_pos_embeddings": 128,
        "num_conv_pos_embedding_groups": heads,
        "feat_extract_activation": "gelu",
        "layer_norm_eps": 1e-5,
        "hidden_dropout": 0.1,
        "activation_dropout": 0.1,
        "attention_dropout": 0.1,
        "conformer_conv_dropout": 0.1,
        "layerdrop": 0.0,
        "max_source_positions": 5000,
    }
    config = MuQConfig(
        encoder_dim=spec["hidden_size"],
        encoder_depth=spec["num_layers"],
        conv_dim=spec.get("conv_dim", 8),  # the mel front end's channels (MuQ-large: 512)
        codebook_size=64,
        w2v2_config=conformer,
        # MuQ-large-msd-iter's mel statistics
        stat={"melspec_2048_mean": 6.768444971712967, "melspec_2048_std": 18.417922652295623},
    )
    MuQ(config).save_pretrained(out)


def _sslam(spec: dict[str, Any], out: Path) -> None:
    from alarm.model.encoders.sslam_modeling import SSLAMConfig, SSLAMModel

    width = spec["hidden_size"]
    config = SSLAMConfig(
        embed_dim=width,
        depth=spec["num_layers"],
        num_heads=spec["num_heads"],
        mlp_ratio=spec.get("intermediate_size", 4 * width) / width,
    )
    SSLAMModel(config).save_pretrained(out)


BUILDERS = {
    "qwen3": _qwen3,
    "qwen3_moe": _qwen3_moe,
    "whisper": _whisper,
    "w2v_bert": _w2v_bert,
    "muq": _muq,
    "sslam": _sslam,
}


def make_tiny_model(
    spec: dict[str, Any], out: str | Path, seed: int, n_candidates: int, texts: str = OURS
) -> None:
    """Write a tiny random model described by ``spec`` (config ``pretrained.<role>.tiny``).

    A tiny LM with a ``format_fit`` block is then taught the generation stages' output
    formats for their messages in ``texts`` (see :mod:`alarm.tiny.format_fit`);
    ``n_candidates`` is the prompt stage's list length it learns.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    BUILDERS[spec["architecture"]](spec, out)
    if "format_fit" in spec:
        from alarm.tiny.format_fit import format_fit

        format_fit(out, spec["format_fit"], seed, n_candidates, texts)
    n_params = 0
    for file in out.glob("*.safetensors"):
        with safe_open(file, "pt") as weights:
            names = list(weights.keys())  # a safetensors handle, not a dict
            n_params += sum(torch.Size(weights.get_slice(k).get_shape()).numel() for k in names)
    log.info("wrote a tiny %s (%d parameters) to %s", spec["architecture"], n_params, out)
