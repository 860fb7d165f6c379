"""Every frozen encoder on tiny weights: shapes, lengths, odd inputs."""

import numpy as np
import pytest
import torch

from alarm.model.encoders import feature_extractor, load_encoder
from alarm.model.encoders.base import pad_time_to_multiple
from alarm.specs import SAMPLE_RATES

LAYERS = {"whisper": [1, 2, 3], "w2vbert": [1, 2, 3], "muq": [1, 2, 3], "sslam": [0, 1, 2]}
# expected valid frames per second of input, before the adapter
RATE = {"whisper": 50, "w2vbert": 50, "muq": 25, "sslam": 50}
AUTHORS_DECODE_RATE = 16000  # the schema's encoders.decode_rate


@pytest.fixture(scope="module", params=list(LAYERS))
def encoder(request, tiny_models):
    name = request.param
    path = str(tiny_models / name)
    return (
        name,
        load_encoder(name, path, LAYERS[name]),
        feature_extractor(name, path, AUTHORS_DECODE_RATE),
    )


def _clip(seconds, sr=16000, channels=1, value=None):
    n = max(1, int(seconds * sr))
    if value is not None:
        return np.full(n, value, dtype=np.float32)
    return (
        np.random.default_rng(0).standard_normal((n, channels) if channels > 1 else n) * 0.1
    ).astype(np.float32)


def test_frozen_and_in_eval_mode(encoder):
    _, enc, _ = encoder
    enc.train()
    assert not enc.training and all(not m.training for m in enc.modules())
    assert not any(p.requires_grad for p in enc.parameters())


@pytest.mark.parametrize("seconds", [0.1, 3.3, 59.9])
def test_selected_states_and_lengths(encoder, seconds):
    name, enc, fe = encoder
    items = [fe(_clip(seconds), 16000), fe(_clip(1.0), 16000)]
    out = enc(**fe.collate(items))
    L, B, T, D = out.states.shape
    assert (3, 2, enc.hidden_size) == (L, B, D)
    assert out.lengths[0] <= T
    assert abs(int(out.lengths[0]) - seconds * RATE[name]) <= 3
    assert abs(int(out.lengths[1]) - RATE[name]) <= 3
    assert out.states.grad_fn is None and torch.isfinite(out.states).all()


def test_whisper_encodes_30_second_pieces_independently(tiny_models):
    enc = load_encoder("whisper", str(tiny_models / "whisper"), [1])
    fe = feature_extractor("whisper", str(tiny_models / "whisper"), AUTHORS_DECODE_RATE)
    long = fe(_clip(31.0), 16000)
    assert long["input"].shape == (6000, 128)  # two padded 3000-frame pieces
    out = enc(**fe.collate([long]))
    assert out.states.shape[2] == 3000 and int(out.lengths[0]) == 1550


def test_silence_stereo_and_other_rates(encoder):
    _, enc, fe = encoder
    silence = fe(_clip(2.0, value=0.0), 16000)
    stereo_44k = fe(_clip(2.0, 44100).astype(np.float32), 44100)
    out = enc(**fe.collate([silence, stereo_44k]))
    assert torch.isfinite(out.states).all()
    assert out.lengths[0] == out.lengths[1]  # same duration, same frames


def test_padding_does_not_change_a_masked_encoder(tiny_models):
    # W2V-BERT honours its padding mask: an item's states do not depend on batch padding.
    enc = load_encoder("w2vbert", str(tiny_models / "w2vbert"), [3])
    fe = feature_extractor("w2vbert", str(tiny_models / "w2vbert"), AUTHORS_DECODE_RATE)
    short = fe(_clip(1.0), 16000)
    alone = enc(**fe.collate([short]))
    padded = enc(**fe.collate([short, fe(_clip(4.0), 16000)]))
    n = int(alone.lengths[0])
    assert torch.allclose(alone.states[:, 0, :n], padded.states[:, 0, :n], atol=1e-5)


def test_w2vbert_s_last_piece_unpadded_gives_the_30_s_pieces_states(tiny_models):
    # The authors pad every piece to 1500 frames; the mask makes that padding inert, so the
    # encoder stops at the longest item and the valid states are the same.
    enc = load_encoder("w2vbert", str(tiny_models / "w2vbert"), [1, 2, 3])
    fe = feature_extractor("w2vbert", str(tiny_models / "w2vbert"), AUTHORS_DECODE_RATE)
    batch = fe.collate([fe(_clip(2.0), 16000), fe(_clip(31.0), 16000)])
    trimmed = enc(**batch)
    padded = enc(pad_time_to_multiple(batch["input"], 1500), batch["length"])
    assert trimmed.states.shape[2] == int(batch["length"].max()) < padded.states.shape[2] == 3000
    for item, n in enumerate(batch["length"].tolist()):
        assert torch.allclose(
            trimmed.states[:, item, :n], padded.states[:, item, :n], atol=1e-5, rtol=1e-4
        )


def test_muq_s_last_piece_ends_a_margin_after_the_longest_item(tiny_models, monkeypatch):
    # The authors zero-pad every 30 s piece; masked keys leave the padding only the
    # convolutions' reach, so stopping that margin after the longest item keeps the states.
    enc = load_encoder("muq", str(tiny_models / "muq"), [0, 1, 2, 3])
    fe = feature_extractor("muq", str(tiny_models / "muq"), AUTHORS_DECODE_RATE)
    batch = fe.collate([fe(_clip(2.0), 16000), fe(_clip(31.0), 16000)])
    wav, length = pad_time_to_multiple(batch["input"], 720000), batch["length"]
    mask = (torch.arange(wav.shape[1]) < length[:, None]).float()
    with torch.no_grad():
        padded = torch.cat(
            [
                enc.select(
                    enc.encoder(wav[:, s : s + 720000], mask[:, s : s + 720000]).hidden_states
                )
                for s in (0, 720000)
            ],
            dim=2,
        )

    def differs(trimmed) -> list[bool]:
        return [
            not torch.allclose(trimmed.states[:, i, :n], padded[:, i, :n], atol=1e-5, rtol=1e-4)
            for i, n in enumerate(trimmed.lengths.tolist())
        ]

    trimmed = enc(**batch)
    assert padded.shape[2] == 1500 > trimmed.states.shape[2] > int(trimmed.lengths.max())
    assert differs(trimmed) == [False, False]
    monkeypatch.setattr(type(enc), "margin_samples", lambda self: 0)
    assert differs(enc(**batch)) == [False, True]  # without the margin the longest item moves


def test_layers_out_of_range_are_a_clear_error(tiny_models):
    enc = load_encoder("sslam", str(tiny_models / "sslam"), [0, 7])
    fe = feature_extractor("sslam", str(tiny_models / "sslam"), AUTHORS_DECODE_RATE)
    with pytest.raises(ValueError, match="layers \\[7\\] requested but the encoder has 3"):
        enc(**fe.collate([fe(_clip(1.0), 16000)]))


def _share_above(waveform, sample_rate, hz):
    power = np.abs(np.fft.rfft(waveform)) ** 2
    return power[np.fft.rfftfreq(len(waveform), 1 / sample_rate) > hz].sum() / power.sum()


@pytest.mark.parametrize(("decode_rate", "kept"), [(AUTHORS_DECODE_RATE, False), (None, True)])
def test_muq_gets_content_above_8_khz_only_without_the_authors_decode_rate(decode_rate, kept):
    # A 48 kHz clip: a 440 Hz and a 10 kHz tone of equal power.
    t = np.arange(2 * 48000) / 48000
    clip = (0.4 * np.sin(2 * np.pi * 440 * t) + 0.4 * np.sin(2 * np.pi * 10000 * t)).astype(
        np.float32
    )
    wav = feature_extractor("muq", None, decode_rate)(clip, 48000)["input"].numpy()
    assert len(wav) == 2 * 24000
    share = _share_above(wav, 24000, 8000)
    assert share > 0.4 if kept else share < 1e-5


@pytest.mark.parametrize("sample_rate", [16000, 48000])
@pytest.mark.parametrize("name", list(LAYERS))
def test_decoding_at_an_encoders_own_rate_is_decoding_natively(tiny_models, name, sample_rate):
    # For Whisper, W2V-BERT and SSLAM that rate is the authors' 16 kHz: the switch leaves
    # their features bit for bit the same (and model specs rely on it, alarm.specs).
    assert SAMPLE_RATES[name] == (24000 if name == "muq" else AUTHORS_DECODE_RATE)
    clip = _clip(2.0, sample_rate)
    own, native = (
        feature_extractor(name, str(tiny_models / name), rate)(clip, sample_rate)
        for rate in (SAMPLE_RATES[name], None)
    )
    assert own.keys() == native.keys()
    assert all(torch.equal(own[k], native[k]) for k in own)
