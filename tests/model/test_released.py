"""Loading the authors' released checkpoints: their key names, their config.json."""

import pytest
import torch
from safetensors.torch import save_file

from alarm.model.alarm_model import CheckpointError, build_frontend
from alarm.model.released import load_released, released_settings
from alarm.specs import with_paths

W = {
    "encoder_name": "whisper",
    "adapter_name": "downsampler_conformer",
    "audio_encoder_layers": [1, 2, 3],
    "norm_type": "batch",
    "adapter_embedding_dim": 16,
    "encoder_embedding_dim": 32,
    "llm_embedding_dim": 96,
}
CONFIGS = {
    "AL-Whisper-R": {"audio_adapter_configs": [W], "audio_fusion_config": {"fusion_type": "sum"}},
    "ALARM-CA": {
        "audio_adapter_configs": [
            W,
            {**W, "encoder_name": "w2vbert", "norm_type": "layer"},
            {
                "encoder_name": "muq",
                "adapter_name": "mlp",
                "audio_encoder_layers": [1, 2, 3],
                "hidden_dim": 16,
                "adapter_embedding_dim": 16,
            },
            {**W, "encoder_name": "sslam", "norm_type": "layer", "audio_encoder_layers": [0, 1, 2]},
        ],
        "audio_fusion_config": {
            "fusion_type": "crossattention",
            "hidden_dim": 16,
            "ffn_dims": 32,
            "dropout": 0.1,
            "num_attention_heads": 4,
            "num_hidden_layers": [1, 1, 1],
            "main_encoder": "whisper",
            "conditional_encoders": ["w2vbert", "muq", "sslam"],
        },
    },
    "ALARM-P": {
        "audio_adapter_configs": [W]
        + [
            {
                "encoder_name": e,
                "adapter_name": "identity",
                "audio_encoder_layers": layers,
                "use_llm_proj": False,
                "adapter_embedding_dim": 16,
            }
            for e, layers in (("w2vbert", [1, 2, 3]), ("muq", [1, 2, 3]), ("sslam", [0, 1, 2]))
        ],
        "audio_fusion_config": {
            "fusion_type": "multiperceiver",
            "num_latents": [20, 20, 20],
            "num_latent_channels": [12, 12, 12],
            "num_cross_attention_heads": [4, 4, 4],
            "num_self_attention_heads": [4, 4, 4],
            "num_self_attention_blocks": [3, 3, 3],
            "num_self_attention_layers_per_block": [6, 6, 6],
            "main_encoder": "whisper",
            "conditional_encoders": ["w2vbert", "muq", "sslam"],
        },
    },
}
# Keys as the authors' Qwen3AudioWrappedForCausalLM names them (a sample per part).
AUTHOR_KEYS = {
    "AL-Whisper-R": [
        "model.audio_adapter.adapters.whisper.layer_fusion.layer_weights",
        "model.audio_adapter.adapters.whisper.adapter.input_proj.weight",
        "model.audio_adapter.adapters.whisper.adapter.downsampler.0.0.weight",
        "model.audio_adapter.adapters.whisper.adapter.downsampler.1.2.running_mean",
        "model.audio_adapter.adapters.whisper.llm_proj.bias",
        "model.audio_start_emb",
    ],
    "ALARM-CA": [
        "model.audio_adapter.adapters.w2vbert.adapter.downsampler.0.2.norm.weight",
        "model.audio_adapter.adapters.muq.adapter.model.2.weight",
        "model.audio_fusion.fusion_model.in_proj.sslam.weight",
        "model.audio_fusion.fusion_model.condition_modules.w2vbert.0.multihead_attn.in_proj_weight",
        "model.audio_fusion.fusion_model.condition_modules.sslam.0.norm3.bias",
        "model.audio_fusion.fusion_model.out_proj.weight",
    ],
    "ALARM-P": [
        "model.audio_adapter.adapters.muq.layer_fusion.layer_weights",
        "model.audio_fusion.fusion_model.perceiver.w2vbert.latent_provider._query",
        "model.audio_fusion.fusion_model.perceiver.muq.cross_attn_1.0.module.kv_norm.weight",
        "model.audio_fusion.fusion_model.perceiver.muq.cross_attn_1.0.module.attention.k_proj.weight",
        "model.audio_fusion.fusion_model.perceiver.sslam.cross_attn_1.1.module.3.weight",
        "model.audio_fusion.fusion_model.perceiver.sslam.self_attn_1.5.1.module.0.bias",
        "model.audio_fusion.fusion_model.perceiver.sslam.self_attn_1.5.0.module.attention.o_proj.weight",
        "model.audio_fusion.fusion_model.out_proj.muq.weight",
        "model.audio_fusion.fusion_model.cond_end_emb",
    ],
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_released_checkpoints_load_by_the_authors_key_names(pretrained_dirs, tmp_path, name):
    settings = with_paths(
        released_settings(CONFIGS[name], name, 16000, "torchcodec"), pretrained_dirs
    )
    ours = build_frontend(settings, llm_dim=96)
    # a full released save: audio parts under "model.", plus LLM and encoder keys to ignore
    state = {
        f"model.{k}": torch.randn_like(v.float()).to(v.dtype)
        for k, v in ours.trainable_state_dict().items()
    }
    for key in AUTHOR_KEYS[name]:
        assert key in state, key
    state |= {
        "model.embed_tokens.weight": torch.zeros(4, 96),
        "lm_head.weight": torch.zeros(4, 96),
        "model.audio_encoder.encoders.whisper.encoder.conv1.weight": torch.zeros(2),
    }
    save_file(state, str(tmp_path / "model-00001-of-00002.safetensors"))
    fresh = build_frontend(settings, llm_dim=96)
    load_released(fresh, tmp_path)
    for key, value in fresh.trainable_state_dict().items():
        assert torch.equal(value, state[f"model.{key}"]), key


def test_a_mismatching_release_is_refused(pretrained_dirs, tmp_path):
    pretrained = pretrained_dirs
    single = build_frontend(
        with_paths(
            released_settings(CONFIGS["AL-Whisper-R"], "w", 16000, "torchcodec"), pretrained
        ),
        llm_dim=96,
    )
    save_file(
        {f"model.{k}": v for k, v in single.trainable_state_dict().items()},
        str(tmp_path / "m.safetensors"),
    )
    ca = build_frontend(
        with_paths(released_settings(CONFIGS["ALARM-CA"], "ca", 16000, "torchcodec"), pretrained),
        llm_dim=96,
    )
    with pytest.raises(CheckpointError, match="does not fit"):
        load_released(ca, tmp_path)


@pytest.mark.parametrize(
    ("configured", "whisper_r", "alarm_ca"), [(16000, 16000, 16000), (None, 16000, None)]
)
def test_released_checkpoints_take_the_configured_decode_rate(configured, whisper_r, alarm_ca):
    # Their config.json holds none (they were trained on clips decoded at 16 kHz).
    specs = [
        with_paths(
            released_settings(CONFIGS[name], name, configured, "torchcodec"), {}, complete=False
        )
        for name in ("AL-Whisper-R", "ALARM-CA")
    ]
    assert [spec.decode_rate for spec in specs] == [whisper_r, alarm_ca]
