"""SSLAM encoder (ta012/SSLAM_AS2M_Finetuned): general sound.

Features: 16 kHz, mean removed, 160 samples of zero padding per side, Kaldi
fbank (128 mel, Hanning window, 10 ms shift, HTK-compatible, no energy, no
dither), zero-padded to a multiple of 1024 frames and then normalised, so the
padding is normalised too (as the authors do); a batch's shorter items are padded
further with 0, as the authors' collate, or with that normalised zero
(``encoders.sslam.batch_padding: silence``). Each 1024-frame chunk gives 512
time-major patch tokens; there is no mask. 12 block outputs; the paper
averages [3, 7, 11].
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
from alarm.model.encoders.sslam_modeling import SSLAMConfig, SSLAMModel
from alarm.specs import SAMPLE_RATES

CHUNK_FRAMES = 1024
NORM_MEAN = -4.268
NORM_STD = 4.569
EDGE_PAD = 160


class SSLAMFeatures(FeatureExtractor):
    sample_rate = SAMPLE_RATES["sslam"]  # the fbank settings are fixed by the checkpoint's training
    # The normalised value of a zero fbank: what a clip's own padding to 1024 frames holds.
    # The authors padded the batch's shorter items with 0 instead (batch_padding: silence
    # pads them with this, so a padded chunk reads as the in-clip padding does).
    silence = (0.0 - NORM_MEAN) / (NORM_STD * 2)

    def __call__(self, waveform: np.ndarray, sample_rate: int) -> dict[str, torch.Tensor]:
        from torchaudio.compliance.kaldi import fbank

        wav = torch.from_numpy(self.prepare(waveform, sample_rate))
        wav = torch.nn.functional.pad(wav - wav.mean(), (EDGE_PAD, EDGE_PAD))
        feats = fbank(
            wav.unsqueeze(0),
            htk_compat=True,
            sample_frequency=self.sample_rate,
            use_energy=False,
            window_type="hanning",
            num_mel_bins=128,
            dither=0.0,
            frame_shift=10,
        )  # (frames, 128)
        frames = feats.shape[0]
        feats = pad_time_to_multiple(feats.unsqueeze(0), CHUNK_FRAMES)[0]
        return {"input": (feats - NORM_MEAN) / (NORM_STD * 2), "length": torch.tensor(frames)}


class SSLAMAudioEncoder(FrozenEncoder):
    name = "sslam"

    def __init__(self, model: SSLAMModel, layers: list[int]):
        super().__init__(layers)
        self.encoder = model
        self.hidden_size = model.config.embed_dim

    @classmethod
    def from_pretrained(cls, path: str, layers: list[int]) -> SSLAMAudioEncoder:
        return cls(SSLAMModel.from_pretrained(path), layers).freeze()

    @classmethod
    def from_config(cls, config: dict, layers: list[int]) -> SSLAMAudioEncoder:
        fields = SSLAMConfig.__dataclass_fields__
        return cls(
            SSLAMModel(SSLAMConfig(**{k: v for k, v in config.items() if k in fields})), layers
        ).freeze()

    def encode(self, input: torch.Tensor, length: torch.Tensor) -> EncoderOutput:
        if input.shape[1] % CHUNK_FRAMES:
            raise ValueError(f"SSLAM features must come in {CHUNK_FRAMES}-frame chunks")
        pieces = [
            self.select(self.encoder.model.block_outputs(input[:, start : start + CHUNK_FRAMES]))
            for start in range(0, input.shape[1], CHUNK_FRAMES)
        ]  # each (L, B, 512, D)
        return EncoderOutput(torch.cat(pieces, dim=2), length // 2)
