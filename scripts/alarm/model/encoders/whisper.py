"""Whisper large-v3 encoder (openai/whisper-large-v3): speech content.

30 s pieces are encoded independently (Whisper's encoder has 1500 positions),
each padded to 3000 mel frames; HF Whisper ignores the attention mask, so
padding is encoded too and lengths are tracked separately. 33 hidden states
[embeddings, L1..L31, LN(L32)]; the paper averages [7, 15, 23, 31].
"""

from __future__ import annotations

import numpy as np
import torch

from alarm.model.encoders.base import EncoderOutput, FeatureExtractor, FrozenEncoder
from alarm.specs import SAMPLE_RATES

CHUNK_SAMPLES = 30 * SAMPLE_RATES["whisper"]
CHUNK_FRAMES = 3000  # mel frames per 30 s piece (10 ms hop)


class WhisperFeatures(FeatureExtractor):
    sample_rate = SAMPLE_RATES["whisper"]

    def __init__(self, path: str, decode_rate: int | None):
        from transformers import WhisperFeatureExtractor

        super().__init__(path, decode_rate)
        self.extractor = WhisperFeatureExtractor.from_pretrained(path)

    def __call__(self, waveform: np.ndarray, sample_rate: int) -> dict[str, torch.Tensor]:
        wav = self.prepare(waveform, sample_rate)
        pieces = [wav[i : i + CHUNK_SAMPLES] for i in range(0, max(len(wav), 1), CHUNK_SAMPLES)]
        out = self.extractor(
            pieces,
            sampling_rate=self.sample_rate,
            padding="max_length",
            return_attention_mask=True,
            return_tensors="pt",
        )
        # (n, 128, 3000) -> (n * 3000, 128): time first, so pieces concatenate in time.
        features = out["input_features"].transpose(1, 2).reshape(-1, out["input_features"].shape[1])
        return {"input": features, "length": out["attention_mask"].sum()}


class WhisperAudioEncoder(FrozenEncoder):
    name = "whisper"

    def __init__(self, encoder, layers: list[int]):
        super().__init__(layers)
        self.encoder = encoder
        self.hidden_size = encoder.config.d_model

    @classmethod
    def from_pretrained(cls, path: str, layers: list[int]) -> WhisperAudioEncoder:
        from transformers import WhisperModel

        return cls(WhisperModel.from_pretrained(path).get_encoder(), layers).freeze()

    @classmethod
    def from_config(cls, config: dict, layers: list[int]) -> WhisperAudioEncoder:
        from transformers import WhisperConfig
        from transformers.models.whisper.modeling_whisper import WhisperEncoder

        return cls(WhisperEncoder(WhisperConfig(**config)), layers).freeze()

    def encode(self, input: torch.Tensor, length: torch.Tensor) -> EncoderOutput:
        B, T, n_mels = input.shape  # (B, n_pieces * 3000, 128)
        if T % CHUNK_FRAMES:
            raise ValueError(f"whisper features must come in {CHUNK_FRAMES}-frame pieces, got {T}")
        pieces = input.reshape(B * (T // CHUNK_FRAMES), CHUNK_FRAMES, n_mels).transpose(1, 2)
        out = self.encoder(pieces, output_hidden_states=True)
        states = self.select(out.hidden_states)  # (L, B * n, 1500, D)
        L, _, t, D = states.shape
        states = states.reshape(L, B, (T // CHUNK_FRAMES) * t, D)
        return EncoderOutput(states, length // 2)  # conv stride 2: 100 -> 50 Hz
