"""The four frozen audio encoders, by the names the config and checkpoints use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from alarm.model.encoders.base import EncoderOutput, FeatureExtractor, FrozenEncoder
from alarm.model.encoders.muq import MuQAudioEncoder, MuQFeatures
from alarm.model.encoders.sslam import SSLAMAudioEncoder, SSLAMFeatures
from alarm.model.encoders.w2vbert import W2VBertAudioEncoder, W2VBertFeatures
from alarm.model.encoders.whisper import WhisperAudioEncoder, WhisperFeatures

if TYPE_CHECKING:
    from alarm.specs import ModelSpec

ENCODERS: dict[str, tuple[type[FrozenEncoder], type[FeatureExtractor]]] = {
    "whisper": (WhisperAudioEncoder, WhisperFeatures),
    "w2vbert": (W2VBertAudioEncoder, W2VBertFeatures),
    "muq": (MuQAudioEncoder, MuQFeatures),
    "sslam": (SSLAMAudioEncoder, SSLAMFeatures),
}


def load_encoder(
    name: str, path: str, layers: list[int], config: dict | None = None
) -> FrozenEncoder:
    """A frozen encoder: weights from a local directory (hub snapshot or tiny model), or,
    given ``config`` (a config.json as a dict), the architecture alone with random weights."""
    cls = ENCODERS[name][0]
    return (
        cls.from_config(config, layers) if config is not None else cls.from_pretrained(path, layers)
    )


def feature_extractor(
    name: str, path: str | None, decode_rate: int | None, batch_padding: str | None = None
) -> FeatureExtractor:
    """``batch_padding``: None pads a batch's shorter items with 0 (the authors'),
    ``silence`` with the extractor's own silence value (SSLAM only)."""
    extractor = ENCODERS[name][1](path, decode_rate)
    if batch_padding == "silence":
        extractor.pad_value = extractor.silence
    return extractor


def feature_extractors(spec: ModelSpec) -> dict[str, FeatureExtractor]:
    """The feature extractor of each of a model's encoders, at the model's decode rate."""
    return {
        name: feature_extractor(name, enc.path, spec.decode_rate, enc.batch_padding)
        for name, enc in spec.encoders.items()
    }


__all__ = [
    "ENCODERS",
    "EncoderOutput",
    "FeatureExtractor",
    "FrozenEncoder",
    "feature_extractor",
    "feature_extractors",
    "load_encoder",
]
