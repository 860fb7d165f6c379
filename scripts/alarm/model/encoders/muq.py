"""MuQ encoder (OpenMuQ/MuQ-large-msd-iter, the ``muq`` package): music.

Raw waveform at 24 kHz, zero-padded to a multiple of 30 s with a sample-level
mask; the package's mel front end and x4 conv subsampling give 25 Hz frames,
so MuQ needs the MLP adapter rather than the downsampling one. 13 hidden
states [input, L1..L11, LN(L12)]; the paper averages [4, 8, 12].
"""

from __future__ import annotations

import numpy as np
import torch

from alarm.model.encoders.base import (
    EncoderOutput,
    FeatureExtractor,
    FrozenEncoder,
    pad_time_to_multiple,
)
from alarm.specs import SAMPLE_RATES

SAMPLE_RATE = SAMPLE_RATES["muq"]
CHUNK_SAMPLES = 30 * SAMPLE_RATE
SAMPLES_PER_FRAME = 960  # 24 kHz -> 25 Hz


class MuQFeatures(FeatureExtractor):
    sample_rate = SAMPLE_RATE  # MuQ computes its mel spectrogram inside the model

    def __call__(self, waveform: np.ndarray, sample_rate: int) -> dict[str, torch.Tensor]:
        wav = torch.from_numpy(self.prepare(waveform, sample_rate))
        return {"input": wav, "length": torch.tensor(len(wav))}


class MuQAudioEncoder(FrozenEncoder):
    name = "muq"

    def __init__(self, model, layers: list[int]):
        super().__init__(layers)
        self.encoder = model
        self.hidden_size = model.config.encoder_dim

    @classmethod
    def from_pretrained(cls, path: str, layers: list[int]) -> MuQAudioEncoder:
        from muq import MuQ

        # MuQ's constructor calls torch.manual_seed(142); callers seed after building.
        return cls(MuQ.from_pretrained(path), layers).freeze()

    @classmethod
    def from_config(cls, config: dict, layers: list[int]) -> MuQAudioEncoder:
        from muq import MuQ, MuQConfig

        fields = MuQConfig.__dataclass_fields__
        # torchaudio builds MuQ's mel filterbank with .item(), which the meta device
        # (used for summaries) cannot do: MuQ is always built on the CPU.
        with torch.device("cpu"):
            model = MuQ(MuQConfig(**{k: v for k, v in config.items() if k in fields}))
        return cls(model, layers).freeze()

    def encode(self, input: torch.Tensor, length: torch.Tensor) -> EncoderOutput:
        wav = pad_time_to_multiple(input, CHUNK_SAMPLES)  # (B, n * 720000)
        mask = (torch.arange(wav.shape[1], device=wav.device) < length[:, None]).float()
        pieces = []
        for start in range(0, wav.shape[1], CHUNK_SAMPLES):
            out = self.encoder(
                wav[:, start : start + CHUNK_SAMPLES],
                attention_mask=mask[:, start : start + CHUNK_SAMPLES],
                output_hidden_states=True,
            )
            pieces.append(self.select(out.hidden_states))  # (L, B, 750, D)
        return EncoderOutput(torch.cat(pieces, dim=2), length // SAMPLES_PER_FRAME)
