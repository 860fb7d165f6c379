"""Audio decoding shared by every stage: bytes in their original codec -> mono float32.

Raw shards keep each clip's original bytes (codec and sample rate as the
source ships them); resampling and the mono downmix happen only at decode
time, as in the authors' datasets (their 16 kHz decoding is a model's
``decode_rate``, applied where the encoders' feature extractors resample:
:meth:`alarm.model.encoders.base.FeatureExtractor.prepare`). A clip that
cannot be used raises :class:`AudioError` with a stable ``reason`` that stages
record as a drop.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

import numpy as np
import soundfile as sf

MAX_DURATION_S = 60.0


class AudioError(ValueError):
    """A clip that cannot be used; ``reason`` is the drop code recorded in ledgers."""

    def __init__(self, reason: str, detail: str):
        # libsndfile names the in-memory file by its address; keep ledgers reproducible.
        detail = re.sub(r"<_io\.BytesIO object at 0x[0-9a-f]+>", "the file", detail)
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class AudioInfo:
    sample_rate: int
    channels: int
    frames: int

    @property
    def duration(self) -> float:
        return self.frames / self.sample_rate


def probe(data: bytes) -> AudioInfo:
    """Header facts of an encoded clip, without decoding the samples."""
    if not data:
        raise AudioError("audio_empty", "the file has no bytes")
    try:
        info = sf.info(io.BytesIO(data))
    except (sf.LibsndfileError, RuntimeError, TypeError) as err:
        raise AudioError("audio_undecodable", str(err)) from err
    if info.frames <= 0 or info.samplerate <= 0:
        raise AudioError("audio_empty", "the file decodes to no samples")
    return AudioInfo(info.samplerate, info.channels, info.frames)


def decode(
    data: bytes, start_s: float = 0.0, stop_s: float | None = None
) -> tuple[np.ndarray, int]:
    """Decode ``data`` (or only ``[start_s, stop_s)``) to ``(channels, samples)`` float32."""
    info = probe(data)
    start = int(start_s * info.sample_rate)
    stop = None if stop_s is None else int(stop_s * info.sample_rate)
    try:
        samples, sr = sf.read(
            io.BytesIO(data), start=start, stop=stop, dtype="float32", always_2d=True
        )
    except (sf.LibsndfileError, RuntimeError) as err:
        raise AudioError("audio_undecodable", str(err)) from err
    if samples.size == 0:
        raise AudioError("audio_empty", "the file decodes to no samples")
    return np.ascontiguousarray(samples.T), sr


def to_mono(waveform: np.ndarray) -> np.ndarray:
    """Average channels (the authors' downmix); ``(channels, T)`` or ``(T,)`` -> ``(T,)``."""
    return waveform.mean(axis=0) if waveform.ndim == 2 else waveform


def resample(waveform: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """torchaudio's default (sinc, Hann) resampler, as the authors use."""
    if orig_sr == target_sr:
        return waveform
    import torch
    import torchaudio.functional as AF

    return AF.resample(torch.from_numpy(waveform), orig_sr, target_sr).numpy()


def decode_mono(data: bytes, decoder: str, sample_rate: int | None) -> tuple[np.ndarray, int]:
    """A clip as a model hears it: mono float32 and its rate, before the feature extractors.

    ``torchcodec`` (the authors'): as their ``datasets.Audio(sampling_rate=...)`` and
    feature extractor, FFmpeg decodes and resamples every channel to ``sample_rate``
    (None: the clip's own rate), then the channels are averaged. ``soundfile``:
    libsndfile decodes at the clip's rate and the channels are averaged; the extractor's
    ``prepare`` resamples (torchaudio) to ``sample_rate`` and the encoder's rate.
    """
    if decoder == "torchcodec":
        from torchcodec.decoders import AudioDecoder

        probe(data)  # an empty or unreadable file fails as in every other stage
        try:
            samples = AudioDecoder(data, sample_rate=sample_rate).get_all_samples()
        except (RuntimeError, ValueError) as err:
            raise AudioError("audio_undecodable", str(err)) from err
        channels, sr = samples.data, samples.sample_rate
        mono = (channels.mean(dim=0) if channels.shape[0] != 1 else channels[0]).numpy()
    elif decoder == "soundfile":
        waveform, sr = decode(data)
        mono = to_mono(waveform)
    else:
        raise ValueError(f"unknown decoder {decoder!r} (torchcodec | soundfile)")
    if mono.size == 0:
        raise AudioError("audio_empty", "the file decodes to no samples")
    if not np.isfinite(mono).all():
        raise AudioError("audio_nan", "NaN or infinite samples")
    return np.ascontiguousarray(mono, dtype=np.float32), sr


def load_mono(data: bytes, target_sr: int, uid: str = "") -> np.ndarray:
    """Decode, downmix and resample a clip; NaN or infinite samples are an error naming ``uid``."""
    try:
        mono, sr = decode_mono(data, "soundfile", None)
    except AudioError as err:
        if err.reason != "audio_nan":
            raise
        raise AudioError("audio_nan", f"{uid or 'clip'} has NaN or infinite samples") from err
    return resample(mono, sr, target_sr).astype(np.float32, copy=False)


def encode_wav(waveform: np.ndarray, sample_rate: int) -> bytes:
    """16-bit PCM WAV bytes of a mono ``(T,)`` or ``(channels, T)`` float waveform."""
    buf = io.BytesIO()
    data = waveform.T if waveform.ndim == 2 else waveform
    sf.write(buf, np.clip(data, -1.0, 1.0), sample_rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()
