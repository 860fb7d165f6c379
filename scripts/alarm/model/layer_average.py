"""Learnable softmax average over an encoder's selected hidden states (paper §2.2)."""

from __future__ import annotations

import torch
from torch import nn


class LayerAverage(nn.Module):
    """``sum_l softmax(w)_l * h_l`` with ``w`` zero-initialised, i.e. a uniform start."""

    def __init__(self, n_layers: int):
        super().__init__()
        self.layer_weights = nn.Parameter(torch.zeros(n_layers))

    def forward(self, states: torch.Tensor) -> torch.Tensor:
        # states: (L, B, T, D) -> (B, T, D); the weights stay fp32 under autocast.
        weights = torch.softmax(self.layer_weights.float(), dim=0).to(states.dtype)
        return torch.einsum("l,lbtd->btd", weights, states)
