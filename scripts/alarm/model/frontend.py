"""Audio -> LLM input embeddings: frozen encoders, adapters, fusion and the two separators.

The attribute names (``audio_encoder.encoders``, ``audio_adapter.adapters``,
``audio_fusion.fusion_model``, ``audio_start_emb``, ``audio_end_emb``) are those
of the authors' ``Qwen3AudioWrappedModel`` without its ``model.`` prefix, so
their released checkpoints load into this module directly.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

from alarm.model.adapters import EncoderAdapter
from alarm.model.encoders import FrozenEncoder
from alarm.model.fusion import build_fusion


class AudioEncoders(nn.Module):
    def __init__(self, encoders: dict[str, FrozenEncoder]):
        super().__init__()
        self.encoders = nn.ModuleDict(dict(sorted(encoders.items())))


class AudioAdapters(nn.Module):
    def __init__(self, adapters: dict[str, EncoderAdapter]):
        super().__init__()
        self.adapters = nn.ModuleDict(dict(sorted(adapters.items())))


class AudioFusion(nn.Module):
    def __init__(self, fusion: nn.Module):
        super().__init__()
        self.fusion_model = fusion


class AudioFrontEnd(nn.Module):
    """Encoders -> per-encoder adapters -> fusion; two separators frame it in the LLM input."""

    # Encoder tokens per second before the adapter (SSLAM: 512 patch tokens per 10.24 s).
    ENCODER_RATES: ClassVar[dict[str, float]] = {
        "whisper": 50.0,
        "w2vbert": 50.0,
        "muq": 25.0,
        "sslam": 50.0,
    }

    def __init__(
        self,
        encoders: dict[str, FrozenEncoder],
        adapter_specs: dict[str, dict],
        fusion_spec: dict,
        llm_dim: int,
    ):
        super().__init__()
        self.audio_encoder = AudioEncoders(encoders)
        self.audio_adapter = AudioAdapters(
            {
                name: EncoderAdapter(
                    len(encoders[name].layers), encoders[name].hidden_size, llm_dim, spec
                )
                for name, spec in adapter_specs.items()
            }
        )
        out_dims = {name: a.out_dim for name, a in self.audio_adapter.adapters.items()}
        self.audio_fusion = AudioFusion(build_fusion(fusion_spec, out_dims, llm_dim))
        # std-1 random vectors, as the authors initialise them (not scaled to the embeddings)
        self.audio_start_emb = nn.Parameter(torch.randn(1, llm_dim))
        self.audio_end_emb = nn.Parameter(torch.randn(1, llm_dim))
        self.fusion_spec = fusion_spec

    def token_rate(self) -> tuple[float, int]:
        """(audio tokens per second, fixed tokens per clip) fed to the LLM, separators included."""
        adapters = self.audio_adapter.adapters
        primary = self.fusion_spec.get("primary", next(iter(adapters)))
        rate = self.ENCODER_RATES[primary] * adapters[primary].rate_factor
        return rate, self.audio_fusion.fusion_model.fixed_tokens + 2

    def forward(
        self, features: dict[str, dict[str, torch.Tensor]]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """features: encoder name -> collated {input, length}. Returns (B, T, llm_dim), (B,)."""
        streams = {}
        for name, adapter in self.audio_adapter.adapters.items():
            encoded = self.audio_encoder.encoders[name](**features[name])
            streams[name] = adapter(encoded.states, encoded.lengths)
        audio, lengths = self.audio_fusion.fusion_model(streams)
        return audio, lengths.clamp(min=1, max=audio.shape[1])

    def trainable_state_dict(self) -> dict[str, torch.Tensor]:
        """Everything but the frozen encoders: what an ALARM checkpoint holds."""
        return {k: v for k, v in self.state_dict().items() if not k.startswith("audio_encoder.")}
