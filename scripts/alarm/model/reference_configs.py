"""Architecture configs of the paper's pretrained networks, for building them without weights.

``alarm model-summary`` builds a paper-scale model on the meta device before
anything is downloaded; it needs each network's config.json, which these
reproduce (values of the published configs; MuQ's codebook settings only
change its unused prediction head). Once a network is downloaded, its own
config.json under results/pretrained/ is used instead.
"""

from __future__ import annotations

REFERENCE_CONFIGS: dict[str, dict] = {
    "Qwen/Qwen3-4B-Thinking-2507": {
        "model_type": "qwen3", "vocab_size": 151936, "hidden_size": 2560,
        "intermediate_size": 9728, "num_hidden_layers": 36, "num_attention_heads": 32,
        "num_key_value_heads": 8, "head_dim": 128, "max_position_embeddings": 262144,
        "rope_theta": 5000000, "rms_norm_eps": 1e-6, "tie_word_embeddings": True,
        "attention_bias": False, "hidden_act": "silu", "bos_token_id": 151643,
        "eos_token_id": 151645,
    },
    "openai/whisper-large-v3": {
        "model_type": "whisper", "vocab_size": 51866, "num_mel_bins": 128, "d_model": 1280,
        "encoder_layers": 32, "encoder_attention_heads": 20, "encoder_ffn_dim": 5120,
        "decoder_layers": 32, "decoder_attention_heads": 20, "decoder_ffn_dim": 5120,
        "max_source_positions": 1500, "max_target_positions": 448,
    },
    "facebook/w2v-bert-2.0": {
        "model_type": "wav2vec2-bert", "hidden_size": 1024, "num_hidden_layers": 24,
        "num_attention_heads": 16, "intermediate_size": 4096, "feature_projection_input_dim": 160,
        "hidden_act": "swish", "position_embeddings_type": "relative_key",
        "left_max_position_embeddings": 64, "right_max_position_embeddings": 8,
        "conv_depthwise_kernel_size": 31, "add_adapter": False, "output_hidden_size": 1024,
    },
    "OpenMuQ/MuQ-large-msd-iter": {
        "label_rate": 25, "num_codebooks": 1, "codebook_dim": 16, "codebook_size": 8192,
        "features": ["melspec_2048"], "hop_length": 240, "n_mels": 128, "conv_dim": 512,
        "encoder_dim": 1024, "encoder_depth": 12, "mask_hop": 0.4, "mask_prob": 0.6,
        "stat": {"melspec_2048_mean": 6.768444971712967, "melspec_2048_std": 18.417922652295623},
        "w2v2_config": {
            "position_embeddings_type": "rotary", "rotary_embedding_base": 10000,
            "num_attention_heads": 16, "intermediate_size": 4096, "hidden_act": "swish",
            "conv_depthwise_kernel_size": 31, "num_conv_pos_embeddings": 128,
            "num_conv_pos_embedding_groups": 16, "layer_norm_eps": 1e-5,
            "max_source_positions": 5000, "hidden_dropout": 0.1, "activation_dropout": 0.1,
            "attention_dropout": 0.1, "conformer_conv_dropout": 0.1, "layerdrop": 0.0,
            "feat_extract_activation": "gelu", "hidden_size": 1024, "num_hidden_layers": 12,
        },
    },
    "ta012/SSLAM_AS2M_Finetuned": {
        "embed_dim": 768, "depth": 12, "num_heads": 12, "mlp_ratio": 4.0, "patch_size": 16,
        "mel_bins": 128, "max_length": 768, "num_classes": 527, "norm_eps": 1e-6,
    },
}  # fmt: skip
