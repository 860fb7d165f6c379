"""MuQ encoder (OpenMuQ/MuQ-large-msd-iter, the ``muq`` package): music.

Raw waveform at 24 kHz, encoded in 30 s pieces with a sample-level mask; the
package's mel front end and x4 conv subsampling give 25 Hz frames, so MuQ needs
the MLP adapter rather than the downsampling one. 13 hidden states [input,
L1..L11, LN(L12)]; the paper averages [4, 8, 12].

The authors zero-pad the last piece to 30 s. Keys past an item are masked, so padding
reaches a valid frame only through the convolutions: the conformer's depthwise ones
((kernel - 1) / 2 frames a layer) and the front end's STFT window and subsampling. The last
piece therefore ends that margin after the batch's longest item, and a valid frame's
states are the ones 30 s of padding give (tests/model/test_encoders.py), for the cost of
the clip: the mel spectrogram of 30 s was a fifth of an ALARM-CA step at laptop scale.
"""

from __future__ import annotations

import numpy as np
import torch

from alarm.model.encoders.base import (
    EncoderOutput,
    FeatureExtractor,
    FrozenEncoder,
)
from alarm.specs import SAMPLE_RATES

SAMPLE_RATE = SAMPLE_RATES["muq"]
CHUNK_SAMPLES = 30 * SAMPLE_RATE
SAMPLES_PER_FRAME = 960  # 24 kHz -> 25 Hz
# Frames the front end lets padding reach, with room to spare: the 2048-sample STFT window
# (about 1 frame) and the subsampling's two strided residual blocks of 3x3 convolutions
# (19 mel frames wide: under 3).
FRONT_END_MARGIN_FRAMES = 8


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

    def margin_samples(self) -> int:
        """How far past an item its padding can change its states (see the module)."""
        conformer = self.encoder.model.conformer.config
        per_layer = (conformer.conv_depthwise_kernel_size - 1) // 2
        frames = conformer.num_hidden_layers * per_layer + FRONT_END_MARGIN_FRAMES
        return frames * SAMPLES_PER_FRAME

    def encode(self, input: torch.Tensor, length: torch.Tensor) -> EncoderOutput:
        # input (B, T) at 24 kHz, T = the longest item; the last piece stops the margin
        # after it (at most 30 s), on a frame boundary.
        pieces_end = -(-input.shape[1] // CHUNK_SAMPLES) * CHUNK_SAMPLES
        end = int(length.max()) + self.margin_samples()
        end = min(pieces_end, -(-end // SAMPLES_PER_FRAME) * SAMPLES_PER_FRAME)
        wav = torch.nn.functional.pad(input, (0, end - input.shape[1]))  # (B, end)
        mask = (torch.arange(end, device=wav.device) < length[:, None]).float()
        pieces = []
        for start in range(0, end, CHUNK_SAMPLES):
            out = self.encoder(
                wav[:, start : start + CHUNK_SAMPLES],
                attention_mask=mask[:, start : start + CHUNK_SAMPLES],
                output_hidden_states=True,
            )
            pieces.append(self.select(out.hidden_states))  # (L, B, <=750, D)
        return EncoderOutput(torch.cat(pieces, dim=2), length // SAMPLES_PER_FRAME)
