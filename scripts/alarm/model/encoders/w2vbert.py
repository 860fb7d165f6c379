"""W2V-BERT 2.0 encoder (facebook/w2v-bert-2.0): rich paralinguistic cues.

SeamlessM4T features (80-bin fbank, per-utterance normalisation, 2-frame
stacking -> 160-d at 50 Hz) after zero-padding the waveform by 160 samples on
each side; encoded in 1500-frame (30 s) pieces with the padding mask
honoured. Because the mask really masks (keys are masked and the causal depthwise
convolutions see masked frames as zeros), a valid frame's states do not depend on how
much padding follows it: the last piece ends at the batch's longest item instead of
being padded to 1500 frames, which gives the same states for a fraction of the work
(a 5 s clip is a sixth of a 30 s piece, and attention is quadratic in it).
25 hidden states [feature projection, L1..L24]; the paper averages [6, 10, 15, 20, 24].
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

CHUNK_FRAMES = 1500
EDGE_PAD = 160


class W2VBertFeatures(FeatureExtractor):
    sample_rate = SAMPLE_RATES["w2vbert"]

    def __init__(self, path: str, decode_rate: int | None):
        from transformers import SeamlessM4TFeatureExtractor

        super().__init__(path, decode_rate)
        self.extractor = SeamlessM4TFeatureExtractor.from_pretrained(path)

    def __call__(self, waveform: np.ndarray, sample_rate: int) -> dict[str, torch.Tensor]:
        wav = np.pad(self.prepare(waveform, sample_rate), EDGE_PAD)
        out = self.extractor(
            wav, sampling_rate=self.sample_rate, return_attention_mask=True, return_tensors="pt"
        )
        return {"input": out["input_features"][0], "length": out["attention_mask"][0].sum()}


class W2VBertAudioEncoder(FrozenEncoder):
    name = "w2vbert"

    def __init__(self, model, layers: list[int]):
        super().__init__(layers)
        self.encoder = model
        self.hidden_size = model.config.hidden_size

    @classmethod
    def from_pretrained(cls, path: str, layers: list[int]) -> W2VBertAudioEncoder:
        from transformers import Wav2Vec2BertModel

        return cls(Wav2Vec2BertModel.from_pretrained(path), layers).freeze()

    @classmethod
    def from_config(cls, config: dict, layers: list[int]) -> W2VBertAudioEncoder:
        from transformers import Wav2Vec2BertConfig, Wav2Vec2BertModel

        return cls(Wav2Vec2BertModel(Wav2Vec2BertConfig(**config)), layers).freeze()

    def encode(self, input: torch.Tensor, length: torch.Tensor) -> EncoderOutput:
        # (B, T, 160): collate pads to the batch's longest item, so T = max(length)
        mask = (torch.arange(input.shape[1], device=input.device) < length[:, None]).long()
        pieces = []
        for start in range(0, input.shape[1], CHUNK_FRAMES):
            piece_mask = mask[:, start : start + CHUNK_FRAMES]
            out = self.encoder(
                input_features=input[:, start : start + CHUNK_FRAMES],
                attention_mask=piece_mask,
                output_hidden_states=True,
            )
            pieces.append(self.select(out.hidden_states))  # (L, B, <=1500, D)
        return EncoderOutput(torch.cat(pieces, dim=2), length)
