"""Audio -> LLM input embeddings: frozen encoders, adapters, fusion and the two separators.

The attribute names (``audio_encoder.encoders``, ``audio_adapter.adapters``,
``audio_fusion.fusion_model``, ``audio_start_emb``, ``audio_end_emb``) are those
of the authors' ``Qwen3AudioWrappedModel`` without its ``model.`` prefix, so
their released checkpoints load into this module directly.
"""

from __future__ import annotations

import torch
from torch import nn

from alarm.model.adapters import EncoderAdapter
from alarm.model.encoders import FrozenEncoder
from alarm.model.fusion import build_fusion
from alarm.specs import ModelSpec


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


def init_like_authors(module: nn.Module, std: float = 0.02) -> None:
    """Initialise new modules as the authors' model class does: its ``post_init`` applies
    transformers' generic ``_init_weights`` (4.57) to every submodule, Qwen3's
    ``initializer_range`` being 0.02. Linear and Conv1d: N(0, std), zero bias;
    MultiheadAttention: torch's own init (its out_proj, a Linear, keeps N(0, std));
    norms: weight 1, bias 0. Plain parameters (separators, layer weights, latents) keep
    their own init."""
    for m in module.modules():  # parents first, so an out_proj's Linear init comes last
        if isinstance(m, nn.MultiheadAttention):
            m._reset_parameters()
        elif isinstance(m, (nn.Linear, nn.Conv1d)):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.LayerNorm, nn.BatchNorm1d)) and m.weight is not None:
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


class AudioFrontEnd(nn.Module):
    """Encoders -> per-encoder adapters -> fusion; two separators frame it in the LLM input."""

    def __init__(self, encoders: dict[str, FrozenEncoder], spec: ModelSpec, llm_dim: int):
        super().__init__()
        self.audio_encoder = AudioEncoders(encoders)
        self.audio_adapter = AudioAdapters(
            {
                name: EncoderAdapter(
                    len(encoders[name].layers), encoders[name].hidden_size, llm_dim, adapter
                )
                for name, adapter in spec.adapters.items()
            }
        )
        out_dims = {name: a.out_dim for name, a in self.audio_adapter.adapters.items()}
        self.audio_fusion = AudioFusion(build_fusion(spec.fusion, out_dims, llm_dim))
        init_like_authors(self.audio_adapter)
        init_like_authors(self.audio_fusion)
        # std-1 random vectors, as the authors initialise them (not scaled to the embeddings)
        self.audio_start_emb = nn.Parameter(torch.randn(1, llm_dim))
        self.audio_end_emb = nn.Parameter(torch.randn(1, llm_dim))
        self.spec = spec

    def token_rate(self) -> tuple[float, int]:
        """(audio tokens per second, fixed tokens per clip) fed to the LLM, separators included."""
        primary = self.spec.primary
        rate = self.spec.encoders[primary].frame_rate
        rate *= self.audio_adapter.adapters[primary].rate_factor
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
