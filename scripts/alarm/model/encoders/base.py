"""What every frozen audio encoder provides.

An encoder comes in two halves: a picklable feature extractor that turns a
mono waveform into model inputs (it runs in data-loader workers, so no
network weights live there), and a frozen ``nn.Module`` that encodes a
collated batch and returns the selected hidden states with valid lengths.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from alarm.data.audio import resample


@dataclass
class EncoderOutput:
    states: torch.Tensor  # (L, B, T, D): the selected hidden states
    lengths: torch.Tensor  # (B,): valid frames of each item


class FeatureExtractor:
    """Waveform -> model inputs for one clip; ``collate`` pads a list of them.

    ``path`` is the encoder's directory (read by extractors that ship files there);
    ``decode_rate`` is the model's (:attr:`alarm.specs.ModelSpec.decode_rate`).
    """

    sample_rate: int  # the encoder's (alarm.specs.SAMPLE_RATES)
    pad_value = 0.0  # between a batch's items, as the authors' collate (pad_sequence)

    def __init__(self, path: str | None, decode_rate: int | None):
        del path
        self.decode_rate = decode_rate

    def prepare(self, waveform: np.ndarray, sample_rate: int) -> np.ndarray:
        """Resample a mono float32 waveform to this encoder's rate, by way of
        ``decode_rate`` where one is set."""
        # Every clip reaches every encoder through here (training, benchmarks, the CLI,
        # released checkpoints). The authors' datasets decoded every clip at 16 kHz, so
        # their MuQ (24 kHz) never saw content above 8 kHz; the 16 kHz encoders get the
        # same samples either way, the second resample being the identity.
        if self.decode_rate is not None:
            waveform = resample(waveform, sample_rate, self.decode_rate)
            sample_rate = self.decode_rate
        return resample(waveform, sample_rate, self.sample_rate).astype(np.float32, copy=False)

    def __call__(self, waveform: np.ndarray, sample_rate: int) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def collate(self, items: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
        """Right-pad ``input`` (time first) with ``pad_value`` and stack ``length``."""
        inputs = nn.utils.rnn.pad_sequence(
            [it["input"] for it in items], batch_first=True, padding_value=self.pad_value
        )
        return {"input": inputs, "length": torch.stack([it["length"] for it in items])}


def pad_time_to_multiple(x: torch.Tensor, multiple: int, value: float = 0.0) -> torch.Tensor:
    """Pad dim 1 (time) of ``(B, T, ...)`` up to a multiple of ``multiple``."""
    extra = -x.shape[1] % multiple
    if extra == 0 and x.shape[1] > 0:
        return x
    extra = extra or multiple
    pad = x.new_full((x.shape[0], extra, *x.shape[2:]), value)
    return torch.cat([x, pad], dim=1)


class FrozenEncoder(nn.Module):
    """A pretrained encoder that never trains: eval mode and no gradients, always."""

    name: str
    hidden_size: int

    def __init__(self, layers: list[int]):
        super().__init__()
        self.layers = list(layers)

    def freeze(self) -> FrozenEncoder:
        for p in self.parameters():
            p.requires_grad_(False)
        return self.eval()

    def train(self, mode: bool = True) -> FrozenEncoder:
        # Frozen encoders stay in eval mode (no dropout, fixed BatchNorm statistics)
        # whatever mode the surrounding model is put in.
        return super().train(False)

    def select(self, hidden_states: list[torch.Tensor] | tuple[torch.Tensor, ...]) -> torch.Tensor:
        """Stack the configured hidden states: (L, B, T, D)."""
        n = len(hidden_states)
        bad = [i for i in self.layers if i >= n]
        if bad:
            raise ValueError(
                f"{self.name}: layers {bad} requested but the encoder has {n} hidden states"
            )
        return torch.stack([hidden_states[i] for i in self.layers])

    def encode(self, input: torch.Tensor, length: torch.Tensor) -> EncoderOutput:
        raise NotImplementedError

    @torch.no_grad()
    def forward(self, input: torch.Tensor, length: torch.Tensor) -> EncoderOutput:
        return self.encode(input, length)
