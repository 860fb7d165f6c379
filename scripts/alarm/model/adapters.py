"""Modality adapters: encoder features (after the layer average) -> LLM embedding space.

Module and parameter names follow the authors' checkpoints
(``layer_fusion.layer_weights``, ``adapter.input_proj``, ``adapter.downsampler.{0,1}.{0,2}``,
``adapter.model.{0,2}``, ``llm_proj``) so their released adapters load as they are.
"""

from __future__ import annotations

import torch
from torch import nn

from alarm.model.layer_average import LayerAverage
from alarm.specs import AdapterSpec


class TransposeLayerNorm(nn.Module):
    """LayerNorm over channels of a (B, C, T) tensor."""

    def __init__(self, channels: int):
        super().__init__()
        self.norm = nn.LayerNorm(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.norm(x.transpose(1, 2)).transpose(1, 2)


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm1d(channels)
    if kind == "layer":
        return TransposeLayerNorm(channels)
    raise ValueError(f"adapter norm must be 'batch' or 'layer', got {kind!r}")


class ConvAdapter(nn.Module):
    """Conv1d k3 -> GELU -> norm -> Conv1d k4 stride 2 -> GELU -> norm: 50 Hz -> 25 Hz.

    An input projection to ``width`` comes first when the encoder is wider or
    narrower (Whisper 1280 -> 1024, SSLAM 768 -> 1024; none for W2V-BERT).
    """

    def __init__(self, in_dim: int, width: int, norm: str):
        super().__init__()
        self.input_proj = nn.Linear(in_dim, width) if in_dim != width else nn.Identity()
        self.downsampler = nn.Sequential(
            nn.Sequential(
                nn.Conv1d(width, 2 * width, 3, stride=1, padding=1),
                nn.GELU(),
                _norm(norm, 2 * width),
            ),
            nn.Sequential(
                nn.Conv1d(2 * width, width, 4, stride=2, padding=1), nn.GELU(), _norm(norm, width)
            ),
        )

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.input_proj(x)  # (B, T, width)
        if x.shape[1] % 2:  # one zero frame so that stride 2 halves T exactly
            x = nn.functional.pad(x, (0, 0, 0, 1))
        x = self.downsampler(x.transpose(1, 2)).transpose(1, 2)  # (B, T/2, width)
        return x, lengths // 2


class MLPAdapter(nn.Module):
    """Linear-GELU-Linear-GELU for MuQ, whose frames are already at 25 Hz."""

    def __init__(self, in_dim: int, width: int):
        super().__init__()
        self.model = nn.Sequential(
            nn.Linear(in_dim, width), nn.GELU(), nn.Linear(width, width), nn.GELU()
        )

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.model(x), lengths


class EncoderAdapter(nn.Module):
    """Layer average, adapter body and projection to the LLM width for one encoder.

    ``type: identity`` keeps only the layer average (ALARM-P's conditional
    encoders, whose Perceivers take the raw averaged features).
    """

    def __init__(self, n_layers: int, in_dim: int, llm_dim: int, spec: AdapterSpec):
        super().__init__()
        self.layer_fusion = LayerAverage(n_layers)
        if spec.type == "conv":
            self.adapter = ConvAdapter(in_dim, spec.width, spec.norm)
            out_dim = spec.width
        elif spec.type == "mlp":
            self.adapter = MLPAdapter(in_dim, spec.width)
            out_dim = spec.width
        elif spec.type == "identity":
            self.adapter = None
            out_dim = in_dim
        else:
            raise ValueError(f"unknown adapter type {spec.type!r}")
        self.llm_proj = nn.Linear(out_dim, llm_dim) if spec.llm_proj else None
        self.out_dim = llm_dim if self.llm_proj is not None else out_dim
        # tokens per second of output for each frame per second of input
        self.rate_factor = 0.5 if spec.type == "conv" else 1.0

    def forward(
        self, states: torch.Tensor, lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """states: (L, B, T, D) -> (B, T', out_dim); lengths (B,) -> (B,)."""
        states = states[:, :, : int(lengths.max())]  # trim to the batch's longest item
        x = self.layer_fusion(states)
        if self.adapter is not None:
            x, lengths = self.adapter(x, lengths)
        if self.llm_proj is not None:
            x = self.llm_proj(x)
        return x, lengths
