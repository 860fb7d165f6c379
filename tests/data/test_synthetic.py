import json

import numpy as np
import pytest
import soundfile as sf

from alarm.data.synthetic import (
    SENTENCES,
    SOUND_EVENTS,
    make_synthetic_corpus,
    mix_at_snr,
    render_music,
    render_sound,
)

ITEMS = {"speech": 12, "dialogue": 3, "sound": 12, "music": 8, "squad": 6, "s2s": 4, "benchmark": 9}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("synthetic")
    make_synthetic_corpus(out, ITEMS, seed=3)
    return out


def _meta(corpus, part):
    return [
        json.loads(line) for line in (corpus / part / "metadata.jsonl").read_text().splitlines()
    ]


def test_every_part_is_written_with_its_counts(corpus):
    for part, n in ITEMS.items():
        extra = 3 if part == "speech" else 0  # the broken items
        assert len(_meta(corpus, part)) == n + extra


def test_default_corpus_has_at_least_200_items(default_config):
    items = default_config["synthetic"]["items"]
    assert sum(v for k, v in items.items() if k != "benchmark") >= 200


def test_it_is_deterministic(corpus, tmp_path):
    make_synthetic_corpus(tmp_path, ITEMS, seed=3)
    for part in ITEMS:
        assert (tmp_path / part / "metadata.jsonl").read_bytes() == (
            corpus / part / "metadata.jsonl"
        ).read_bytes()
    first = _meta(corpus, "speech")[0]["file"]
    assert (tmp_path / "speech" / first).read_bytes() == (corpus / "speech" / first).read_bytes()


def test_speech_covers_languages_genders_rates_and_noise(corpus):
    meta = [m["metadata"] for m in _meta(corpus, "speech") if m["unique_id_1"] != "broken"]
    assert {m["language"] for m in meta} == set(SENTENCES)
    assert {m["gender"] for m in meta} == {"Male", "Female"}
    assert len({m["speaking rate"] for m in meta}) >= 2
    noisy = [m for m in meta if m["snr"] != 100]
    assert noisy and all(m["noise"] in ("white noise", "pink noise") for m in noisy)
    item = _meta(corpus, "speech")[0]
    wav, sr = sf.read(corpus / "speech" / item["file"])
    assert sr == 22050 and wav.ndim == 1 and np.abs(wav).max() > 0.1


def test_mixing_reaches_the_stated_snr():
    rng = np.random.default_rng(0)
    signal, noise = rng.standard_normal(16000), rng.standard_normal(16000) * 3
    mixed = mix_at_snr(signal, noise, 5.0)
    snr = 10 * np.log10(np.mean(signal**2) / np.mean((mixed - signal) ** 2))
    assert snr == pytest.approx(5.0, abs=1e-6)


def _count_events(wav, sr):
    frames = np.abs(wav[: len(wav) // 80 * 80]).reshape(-1, 80).max(1)  # 5 ms peaks
    loud = frames > 0.1 * frames.max()
    return int(np.sum(loud[1:] & ~loud[:-1]) + loud[0])


@pytest.mark.parametrize("kind", ["beep", "click", "chirp", "whistle"])
@pytest.mark.parametrize("count", [1, 3, 5])
def test_sound_events_occur_the_stated_number_of_times(kind, count):
    wav = render_sound(kind, count, np.random.default_rng(count))
    assert _count_events(wav, 16000) == count


@pytest.mark.parametrize("midi", [48, 60, 69, 72])
def test_a_sine_note_has_the_stated_pitch(midi):
    stereo = render_music([midi], "sine wave", 100, np.random.default_rng(0))
    mono = stereo[0]
    spectrum = np.abs(np.fft.rfft(mono))
    peak = np.argmax(spectrum) * 44100 / len(mono)
    assert peak == pytest.approx(440.0 * 2 ** ((midi - 69) / 12), rel=0.01)


def test_sound_and_music_metadata(corpus):
    sound = _meta(corpus, "sound")
    assert {m["metadata"]["sound category"] for m in sound} <= set(SOUND_EVENTS)
    assert all(
        m["text_type"] == "caption" and 1 <= m["metadata"]["number of events"] <= 5 for m in sound
    )
    music = _meta(corpus, "music")
    assert {m["text"] for m in music} <= {"Musical note", "Chord"}
    assert any("midi pitch" in m["metadata"] for m in music)
    info = sf.info(corpus / "music" / music[0]["file"])
    assert (info.samplerate, info.channels, info.format) == (44100, 2, "FLAC")


def test_dialogues_are_described_segment_by_segment(corpus):
    for item in _meta(corpus, "dialogue"):
        assert len(item["segments"]) == len(item["text"]) >= 2
        starts = [s[0] for s in item["segments"]]
        assert starts == sorted(starts)
        assert item["metadata"]["the number of speakers"] == 2


def test_instruction_parts_and_benchmark(corpus):
    squad = _meta(corpus, "squad")
    assert {m["split"] for m in squad} == {"train", "validation"}
    assert all(m["context"] and m["question"].endswith("?") for m in squad)
    s2s = _meta(corpus, "s2s")
    assert all(m["context"].startswith("User: ") for m in s2s)
    for item in _meta(corpus, "benchmark"):
        assert item["answer"] in item["choices"]
        assert item["category"] in ("speech", "sound", "music")
