"""The authors' released ALARM checkpoints (Blinorot/ALARM-CA, -P, AL-*-R) in our model.

Their checkpoints are full ``Qwen3AudioWrappedForCausalLM`` saves: LLM, encoders
and the audio parts under ``model.audio_adapter``, ``model.audio_fusion.fusion_model``,
``model.audio_start_emb`` / ``model.audio_end_emb``. Our front end uses the same
names without the ``model.`` prefix, so loading takes those keys as they are;
the encoders come from their public repositories (the authors' copies are the
same frozen weights) and the backbone from Qwen3-4B-Thinking-2507. Their
``config.json`` declares the architecture, which maps onto our model settings.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import safe_open

from alarm.model.alarm_model import CheckpointError, load_fitting
from alarm.model.frontend import AudioFrontEnd
from alarm.specs import model_decode_rate

AUDIO_PREFIXES = (
    "model.audio_adapter.",
    "model.audio_fusion.",
    "model.audio_start_emb",
    "model.audio_end_emb",
)
ADAPTER_TYPES = {"downsampler_conformer": "conv", "mlp": "mlp", "identity": "identity"}


def released_settings(
    config: dict[str, Any], name: str, decode_rate: int | None, decoder: str
) -> dict[str, Any]:
    """Our model spec's JSON (as :func:`alarm.config.model_spec` makes) from a released
    checkpoint's ``config.json``; :func:`alarm.specs.with_paths` adds the local networks.
    ``decode_rate`` and ``decoder`` are the configuration's (``config.json`` holds
    neither; the checkpoints were trained on clips torchcodec decoded at 16 kHz)."""
    adapters, layers = {}, {}
    for spec in config["audio_adapter_configs"]:
        enc = spec["encoder_name"]
        kind = ADAPTER_TYPES[spec["adapter_name"]]
        adapter: dict[str, Any] = {"type": kind, "llm_proj": spec.get("use_llm_proj", True)}
        if kind == "conv":
            adapter |= {"width": spec["adapter_embedding_dim"], "norm": spec["norm_type"]}
        elif kind == "mlp":
            adapter["width"] = spec.get("hidden_dim", spec["adapter_embedding_dim"])
        adapters[enc] = adapter
        layers[enc] = list(spec["audio_encoder_layers"])
    fusion_config = config["audio_fusion_config"]
    kind = fusion_config["fusion_type"]
    if kind == "sum":
        fusion: dict[str, Any] = {"type": "identity"}
    elif kind == "crossattention":
        fusion = {
            "type": "cross_attention",
            "primary": fusion_config["main_encoder"],
            "order": fusion_config["conditional_encoders"],
            "width": fusion_config["hidden_dim"],
            "heads": fusion_config["num_attention_heads"],
            "ffn": fusion_config["ffn_dims"],
            "layers_per_encoder": fusion_config["num_hidden_layers"][0],
            "dropout": fusion_config.get("dropout", 0.1),
        }
    elif kind == "multiperceiver":
        fusion = {
            "type": "perceiver",
            "primary": fusion_config["main_encoder"],
            "order": fusion_config["conditional_encoders"],
            "latents": fusion_config["num_latents"][0],
            "width": fusion_config["num_latent_channels"][0],
            "heads": fusion_config["num_cross_attention_heads"][0],
            "self_attention_layers": fusion_config["num_self_attention_layers_per_block"][0],
            "self_attention_repeats": fusion_config["num_self_attention_blocks"][0],
        }
    else:
        raise CheckpointError(f"unknown fusion type {kind!r} in the released config")
    return {
        "name": name,
        "adapters": adapters,
        "fusion": fusion,
        "encoders": {enc: {"layers": layers[enc], "hub": None} for enc in adapters},
        "decode_rate": model_decode_rate(adapters, decode_rate),
        "decoder": decoder,
        "llm_hub": None,
    }


def released_state(path: str | Path) -> dict[str, torch.Tensor]:
    """The audio part of a released checkpoint (a directory of safetensors shards or one file)."""
    path = Path(path)
    files = sorted(path.glob("*.safetensors")) if path.is_dir() else [path]
    if not files:
        raise CheckpointError(f"no safetensors under {path}")
    state = {}
    for file in files:
        with safe_open(str(file), "pt") as weights:
            for key in list(weights.keys()):
                if key.startswith(AUDIO_PREFIXES):
                    state[key.removeprefix("model.")] = weights.get_tensor(key)
    return state


def load_released(frontend: AudioFrontEnd, path: str | Path) -> None:
    """Load a released checkpoint's adapters, fusion and separators; every key must match."""
    load_fitting(frontend, released_state(path), f"released checkpoint {path}")


def read_released_config(path: str | Path) -> dict[str, Any]:
    return json.loads((Path(path) / "config.json").read_text())
