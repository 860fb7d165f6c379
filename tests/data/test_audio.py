import io

import numpy as np
import pytest
import soundfile as sf

from alarm.data.audio import (
    AudioError,
    decode,
    decode_mono,
    encode_wav,
    load_mono,
    probe,
    resample,
)


def _encode(data, sr, fmt="WAV", subtype=None):
    buf = io.BytesIO()
    sf.write(buf, data, sr, format=fmt, subtype=subtype)
    return buf.getvalue()


def test_probe_and_decode_keep_channels_and_rate():
    data = np.zeros((4410, 2), dtype=np.float32)
    info = probe(_encode(data, 44100, "FLAC"))
    assert (info.sample_rate, info.channels, info.frames) == (44100, 2, 4410)
    wav, sr = decode(_encode(data, 44100, "FLAC"))
    assert wav.shape == (2, 4410) and sr == 44100


def test_load_mono_downmixes_and_resamples():
    t = np.arange(44100) / 44100
    stereo = np.stack([np.sin(2 * np.pi * 440 * t), np.zeros_like(t)], 1) * 0.5
    mono = load_mono(_encode(stereo, 44100), 16000)
    assert mono.shape == (16000,) and mono.dtype == np.float32
    assert np.abs(mono).max() == pytest.approx(0.25, abs=0.01)  # the channel average


@pytest.mark.parametrize(
    ("data", "reason"), [(b"", "audio_empty"), (b"not audio at all", "audio_undecodable")]
)
def test_bad_bytes(data, reason):
    with pytest.raises(AudioError) as err:
        decode(data)
    assert err.value.reason == reason


def test_nan_samples_are_an_error_naming_the_item():
    data = np.full(100, np.nan, dtype=np.float32)
    with pytest.raises(AudioError, match="ds/a/b has NaN"):
        load_mono(_encode(data, 16000, subtype="FLOAT"), 16000, uid="ds/a/b")


def test_encode_and_resample_identity():
    wav = np.linspace(-0.5, 0.5, 160, dtype=np.float32)
    assert resample(wav, 16000, 16000) is wav
    back, sr = decode(encode_wav(wav, 16000))
    assert sr == 16000 and np.allclose(back[0], wav, atol=1e-4)


def _stereo_44k():
    t = np.arange(int(44100 * 1.3)) / 44100
    left, right = np.sin(2 * np.pi * 440 * t), 0.5 * np.sin(2 * np.pi * 3000 * t)
    return _encode(np.stack([left, right], 1) * 0.5, 44100, subtype="PCM_16")


def test_the_authors_decoder_is_datasets_audio_sample_for_sample():
    import datasets

    data = _stereo_44k()
    mono, sr = decode_mono(data, "torchcodec", 16000)
    theirs = datasets.Audio(sampling_rate=16000).decode_example({"path": None, "bytes": data})
    assert sr == 16000 and mono.dtype == np.float32
    assert np.array_equal(mono, theirs["array"])  # no tolerance: the same FFmpeg calls
    native, native_sr = decode_mono(data, "torchcodec", None)
    assert native_sr == 44100 and native.shape == (57330,)


def test_ours_decodes_natively_and_leaves_resampling_to_the_extractor():
    data = _stereo_44k()
    mono, sr = decode_mono(data, "soundfile", 16000)
    waveform, _ = decode(data)
    assert sr == 44100 and np.array_equal(mono, waveform.mean(axis=0))
    ours = resample(mono, 44100, 16000)
    authors, _ = decode_mono(data, "torchcodec", 16000)
    # FFmpeg's resampler and torchaudio's sinc agree to within a few 1e-3, not bit for bit.
    assert ours.shape == authors.shape and not np.array_equal(ours, authors)
    assert np.abs(ours - authors)[100:-100].max() < 5e-3


@pytest.mark.parametrize("decoder", ["torchcodec", "soundfile"])
@pytest.mark.parametrize(
    ("data", "reason"), [(b"", "audio_empty"), (b"not audio at all", "audio_undecodable")]
)
def test_either_decoder_names_bad_bytes(decoder, data, reason):
    with pytest.raises(AudioError) as err:
        decode_mono(data, decoder, 16000)
    assert err.value.reason == reason
