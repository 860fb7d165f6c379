"""The synthetic corpus and benchmark of the default configuration, made offline.

Every clip is synthesised from known parameters, so its metadata (and hence
its A_text, and the answers of the benchmark) are true by construction:

- speech: espeak-ng in four languages, male and female voices, three speaking
  rates, some with white or pink noise mixed in at a known SNR;
- dialogue: two speakers taking turns, described segment by segment;
- sound: a known number of events of a known kind (beeps, clicks, knocks, ...);
- music: single notes and triads with a known pitch, chord and timbre;
- squad / s2s: spoken questions with a text passage or a text conversation
  as context, shaped like HeySQuAD and InstructS2S;
- benchmark: held-out clips with multiple-choice questions answerable from
  their parameters, in the common benchmark schema.

Clips come in several codecs and sample rates (22.05 kHz WAV from espeak,
44.1 kHz stereo FLAC music, 16 kHz WAV sounds) so that the decoding paths of
the real corpora are exercised. The speech part also holds three broken
items (an empty file, a corrupt file, a clip over 60 s) that the raw and audio
stages must drop and record. Everything is deterministic given the seed.

Layout: ``<out>/<part>/metadata.jsonl`` plus ``<out>/<part>/audio/*``.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from alarm.sharding import stable_hash

log = logging.getLogger(__name__)

PARTS = ("speech", "dialogue", "sound", "music", "squad", "s2s", "benchmark")

SENTENCES = {
    "English": [
        "The morning train to the coast was twenty minutes late.",
        "Please remember to water the plants on the balcony.",
        "My grandmother grows tomatoes and sweet peppers every summer.",
        "The museum opens at nine and closes early on Sundays.",
        "We watched the storm roll in over the quiet harbour.",
        "Could you send me the report before the meeting starts?",
        "The children built a small boat out of old wooden boxes.",
        "A cup of hot tea is the best way to start a cold day.",
        "The library will be closed for repairs until next month.",
        "He plays the violin in a small orchestra on weekends.",
    ],
    "French": [
        "Le train du matin est arrivé avec vingt minutes de retard.",
        "N'oublie pas d'arroser les plantes sur le balcon.",
        "Ma grand-mère cultive des tomates chaque été.",
        "Le musée ouvre à neuf heures et ferme tôt le dimanche.",
        "Nous avons regardé l'orage arriver sur le port.",
        "Les enfants ont construit un petit bateau en bois.",
        "La bibliothèque sera fermée jusqu'au mois prochain.",
        "Il joue du violon dans un petit orchestre le week-end.",
    ],
    "German": [
        "Der Zug zur Küste hatte zwanzig Minuten Verspätung.",
        "Bitte vergiss nicht, die Pflanzen auf dem Balkon zu gießen.",
        "Meine Großmutter baut jeden Sommer Tomaten an.",
        "Das Museum öffnet um neun Uhr und schließt früh am Sonntag.",
        "Wir sahen zu, wie das Gewitter über den Hafen zog.",
        "Die Kinder bauten ein kleines Boot aus alten Kisten.",
        "Die Bibliothek bleibt bis nächsten Monat geschlossen.",
        "Er spielt am Wochenende Geige in einem kleinen Orchester.",
    ],
    "Spanish": [
        "El tren de la mañana llegó con veinte minutos de retraso.",
        "No olvides regar las plantas del balcón.",
        "Mi abuela cultiva tomates y pimientos cada verano.",
        "El museo abre a las nueve y cierra temprano los domingos.",
        "Vimos cómo llegaba la tormenta sobre el puerto.",
        "Los niños construyeron un pequeño barco de madera.",
        "La biblioteca estará cerrada hasta el mes que viene.",
        "Él toca el violín en una pequeña orquesta los fines de semana.",
    ],
}
ESPEAK_LANG = {"English": "en", "French": "fr", "German": "de", "Spanish": "es"}
VOICES = {"Male": ["m1", "m3", "m7"], "Female": ["f1", "f3", "f4"]}
RATES = {"slow": 120, "normal": 165, "fast": 220}  # words per minute
SNRS_DB = (0, 5, 10, 20)
NOISES = {"white noise": "white", "pink noise": "pink"}
CLEAN = "there is no noise - the audio is clean"

SOUND_EVENTS = ("beep", "click", "knock", "chirp", "whistle", "noise burst")
TIMBRES = ("sine wave", "square wave", "sawtooth wave", "plucked string")
NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")

PASSAGES = [
    (
        "The Blue Lake is twelve kilometres long and lies north of the town of Arden. "
        "It freezes every winter and is famous for its trout.",
        [
            ("How long is the Blue Lake?", False),
            ("What is the Blue Lake famous for?", False),
            ("Who discovered the Blue Lake?", True),
        ],
    ),
    (
        "The Orion Library was founded in 1894 by the merchant Clara Weiss. "
        "It holds forty thousand books and a large collection of old maps.",
        [
            ("Who founded the Orion Library?", False),
            ("How many books does the library hold?", False),
            ("How much does a library card cost?", True),
        ],
    ),
    (
        "Tellmark is a small island with a lighthouse built in 1902. "
        "Ferries leave the harbour twice a day during the summer.",
        [
            ("When was the lighthouse built?", False),
            ("How often do the ferries leave?", False),
            ("What is the population of Tellmark?", True),
        ],
    ),
    (
        "The annual river race starts at the old mill and ends at the stone bridge. "
        "Last year forty boats took part and the winner finished in two hours.",
        [
            ("Where does the river race start?", False),
            ("How many boats took part last year?", False),
            ("What was the name of the winning boat?", True),
        ],
    ),
]

CONVERSATIONS = [
    [
        ("Can you suggest a vegetable for a small garden?", "Cherry tomatoes grow well in pots."),
        ("How often should I water them?", "Water them every morning in hot weather."),
        ("Do they need a lot of sun?", None),
    ],
    [
        ("I want to learn to cook.", "Starting with simple soups is a good idea."),
        ("Which soup is the easiest?", None),
    ],
    [
        ("What is a good book for a long trip?", "A long adventure novel keeps you busy."),
        ("Can you name one?", "Treasure Island is a classic choice."),
        ("Is it suitable for children?", None),
    ],
    [
        (
            "How do I keep my bicycle in good shape?",
            "Oil the chain and check the tyres every week.",
        ),
        ("What pressure should the tyres have?", None),
    ],
]


@dataclass
class Clip:
    """One synthesised item: its audio file, ids and the fields its converter reads."""

    file: str
    unique_id_1: str
    unique_id_2: str
    fields: dict[str, Any] = field(default_factory=dict)


def _rng(seed: int, *keys: object) -> np.random.Generator:
    return np.random.default_rng(stable_hash("/".join(map(str, (seed, *keys)))))


def espeak(text: str, language: str, voice: str, rate: int) -> tuple[np.ndarray, int]:
    """Speak ``text`` with espeak-ng; returns (mono float32 waveform, 22050)."""
    if shutil.which("espeak-ng") is None:
        raise RuntimeError(
            "espeak-ng is not installed; the README's setup command installs it "
            "(Debian: apt-get install espeak-ng)"
        )
    with tempfile.NamedTemporaryFile(suffix=".wav") as tmp:
        subprocess.run(
            [
                "espeak-ng",
                "-v",
                f"{ESPEAK_LANG[language]}+{voice}",
                "-s",
                str(rate),
                "-w",
                tmp.name,
                text,
            ],
            check=True,
            capture_output=True,
        )
        wav, sr = sf.read(tmp.name, dtype="float32")
    return wav, sr


def _noise(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    white = rng.standard_normal(n).astype(np.float32)
    if kind == "white":
        return white
    # Pink noise: shape white noise by 1/sqrt(f) in the frequency domain.
    spectrum = np.fft.rfft(white)
    spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1))
    return np.fft.irfft(spectrum, n).astype(np.float32)


def mix_at_snr(signal: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """``signal`` plus ``noise`` scaled so that 10 log10(P_signal / P_noise) == snr_db."""
    p_signal = float(np.mean(signal**2))
    p_noise = float(np.mean(noise**2)) or 1.0
    scale = np.sqrt(p_signal / (p_noise * 10 ** (snr_db / 10)))
    return signal + scale * noise


def _normalise(wav: np.ndarray, peak: float = 0.8) -> np.ndarray:
    top = float(np.max(np.abs(wav))) or 1.0
    return (wav * (peak / top)).astype(np.float32)


def _write(path: Path, wav: np.ndarray, sr: int, fmt: str = "WAV") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = wav.T if wav.ndim == 2 else wav
    sf.write(path, data, sr, format=fmt, subtype="PCM_16")


# --- speech -------------------------------------------------------------------------------


def _speech_params(seed: int, part: str, i: int) -> dict[str, Any]:
    rng = _rng(seed, part, i)
    language = list(SENTENCES)[i % len(SENTENCES)]
    gender = ("Male", "Female")[int(rng.integers(2))]
    return {
        "text": str(rng.choice(SENTENCES[language])),
        "language": language,
        "gender": gender,
        "voice": str(rng.choice(VOICES[gender])),
        "rate": list(RATES)[int(rng.integers(len(RATES)))],
        "noise": (None if rng.random() < 0.6 else str(rng.choice(list(NOISES)))),
        "snr": int(rng.choice(SNRS_DB)),
        "noise_seed": int(rng.integers(2**31)),
    }


def _render_speech(p: dict[str, Any]) -> tuple[np.ndarray, int]:
    wav, sr = espeak(p["text"], p["language"], p["voice"], RATES[p["rate"]])
    wav = np.pad(wav, (sr // 5, sr // 5))
    if p["noise"]:
        rng = np.random.default_rng(p["noise_seed"])
        wav = mix_at_snr(wav, _noise(NOISES[p["noise"]], len(wav), rng), p["snr"])
    return _normalise(wav), sr


def make_speech(out: Path, n: int, seed: int) -> list[Clip]:
    clips = []
    for i in range(n):
        p = _speech_params(seed, "speech", i)
        wav, sr = _render_speech(p)
        file = f"audio/speech_{i:04d}.wav"
        _write(out / file, wav, sr)
        noise = p["noise"] or CLEAN
        snr = p["snr"] if p["noise"] else 100
        clips.append(
            Clip(
                file,
                f"speaker_{p['voice']}",
                f"utt_{i:04d}",
                {
                    "text": p["text"],
                    "text_type": "speech",
                    "metadata": {
                        "gender": p["gender"],
                        "language": p["language"],
                        "speaking rate": p["rate"],
                        "noise": noise,
                        "snr": snr,
                    },
                },
            )
        )
    clips += _broken_items(out, seed)
    return clips


def _broken_items(out: Path, seed: int) -> list[Clip]:
    """An empty file, a corrupt file and a 61 s clip: the stages must drop and record them."""
    (out / "audio").mkdir(parents=True, exist_ok=True)
    (out / "audio" / "broken_empty.wav").write_bytes(b"")
    (out / "audio" / "broken_corrupt.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEjunk" * 8)
    p = _speech_params(seed, "long", 0) | {"noise": None}
    wav, sr = _render_speech(p)
    wav = np.concatenate([wav, np.zeros(61 * sr - len(wav) % sr, np.float32)])[: 61 * sr]
    _write(out / "audio" / "broken_long.wav", wav, sr)
    meta = {
        "gender": p["gender"],
        "language": p["language"],
        "speaking rate": p["rate"],
        "noise": CLEAN,
        "snr": 100,
    }
    return [
        Clip(
            f"audio/{name}.wav",
            "broken",
            name,
            {"text": p["text"], "text_type": "speech", "metadata": meta},
        )
        for name in ("broken_empty", "broken_corrupt", "broken_long")
    ]


# --- dialogue -----------------------------------------------------------------------------


def make_dialogue(out: Path, n: int, seed: int) -> list[Clip]:
    clips = []
    for i in range(n):
        rng = _rng(seed, "dialogue", i)
        genders = [("Male", "Female"), ("Female", "Male"), ("Male", "Male")][int(rng.integers(3))]
        voices = [VOICES[g][k] for k, g in enumerate(genders)]
        turns = int(rng.integers(2, 5))
        segments, texts, pieces, t, sr = [], [], [], 0.0, 22050
        order = ["the first speaker", "the second speaker"]
        for turn in range(turns):
            who = turn % 2
            text = str(rng.choice(SENTENCES["English"]))
            wav, sr = espeak(text, "English", voices[who], RATES["normal"])
            gap = np.zeros(int(sr * float(rng.uniform(0.2, 0.8))), np.float32)
            pieces += [wav, gap]
            segments.append((t, t + len(wav) / sr, order[who]))
            texts.append(text)
            t += (len(wav) + len(gap)) / sr
        file = f"audio/dialogue_{i:04d}.wav"
        _write(out / file, _normalise(np.concatenate(pieces)), sr)
        metadata = {
            "the first speaker's gender": genders[0],
            "the second speaker's gender": genders[1],
            "the number of speakers": 2,
        }
        clips.append(
            Clip(
                file,
                f"dialogue_{i:04d}",
                "joint",
                {
                    "text": texts,
                    "segments": [list(s) for s in segments],
                    "text_type": "speech",
                    "metadata": metadata,
                },
            )
        )
    return clips


# --- sound --------------------------------------------------------------------------------


def _event(kind: str, sr: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(int(sr * 0.25)) / sr
    if kind == "beep":
        return np.sin(2 * np.pi * 1000 * t) * np.hanning(len(t))
    if kind == "click":
        return np.concatenate([np.ones(8), -np.ones(8), np.zeros(len(t) - 16)])
    if kind == "knock":
        return np.sin(2 * np.pi * 180 * t) * np.exp(-t * 30)
    if kind == "chirp":
        return np.sin(2 * np.pi * (500 + 6000 * t) * t) * np.hanning(len(t))
    if kind == "whistle":
        return np.sin(2 * np.pi * (2500 + 400 * np.sin(2 * np.pi * 6 * t)) * t) * np.hanning(len(t))
    return rng.standard_normal(len(t)) * np.hanning(len(t))  # noise burst


def render_sound(kind: str, count: int, rng: np.random.Generator, sr: int = 16000) -> np.ndarray:
    duration = 1.0 + 0.6 * count + float(rng.uniform(0, 1.5))
    wav = 0.01 * rng.standard_normal(int(sr * duration))
    slots = np.sort(rng.choice(np.arange(count * 2), size=count, replace=False))
    for slot in slots:
        event = _event(kind, sr, rng)
        start = int(sr * (0.3 + slot * (duration - 0.8) / (count * 2)))
        wav[start : start + len(event)] += event[: len(wav) - start]
    return _normalise(wav)


def make_sound(out: Path, n: int, seed: int) -> list[Clip]:
    clips = []
    for i in range(n):
        rng = _rng(seed, "sound", i)
        kind = SOUND_EVENTS[i % len(SOUND_EVENTS)]
        count = int(rng.integers(1, 6))
        file = f"audio/sound_{i:04d}.wav"
        _write(out / file, render_sound(kind, count, rng), 16000)
        clips.append(
            Clip(
                file,
                kind,
                f"clip_{i:04d}",
                {
                    "text": kind.capitalize(),
                    "text_type": "caption",
                    "metadata": {"sound category": kind, "number of events": count},
                },
            )
        )
    return clips


# --- music --------------------------------------------------------------------------------


def note_name(midi: int) -> str:
    return f"{NOTE_NAMES[midi % 12]}{midi // 12 - 1}"


def _tone(freq: float, timbre: str, n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(n) / sr
    if timbre == "sine wave":
        return np.sin(2 * np.pi * freq * t)
    if timbre == "square wave":
        return sum(np.sin(2 * np.pi * k * freq * t) / k for k in range(1, 16, 2))
    if timbre == "sawtooth wave":
        return sum(np.sin(2 * np.pi * k * freq * t) / k for k in range(1, 16))
    # plucked string: Karplus-Strong
    period = max(int(sr / freq), 2)
    buf = rng.uniform(-1, 1, period)
    out = np.empty(n)
    for i in range(n):
        out[i] = buf[i % period]
        buf[i % period] = 0.996 * 0.5 * (buf[i % period] + buf[(i + 1) % period])
    return out


def render_music(
    pitches: list[int], timbre: str, velocity: int, rng: np.random.Generator, sr: int = 44100
) -> np.ndarray:
    n = int(sr * float(rng.uniform(1.5, 3.0)))
    envelope = np.minimum(1.0, np.arange(n) / (0.01 * sr)) * np.exp(-np.arange(n) / (1.2 * sr))
    mono = sum(_tone(440.0 * 2 ** ((p - 69) / 12), timbre, n, sr, rng) for p in pitches) * envelope
    mono = _normalise(mono, peak=0.3 + 0.6 * velocity / 127)
    return np.stack([mono, mono * 0.9])  # stereo


def make_music(out: Path, n: int, seed: int) -> list[Clip]:
    clips = []
    for i in range(n):
        rng = _rng(seed, "music", i)
        timbre = TIMBRES[i % len(TIMBRES)]
        root = int(rng.integers(48, 73))
        velocity = int(rng.choice([50, 75, 100, 127]))
        file = f"audio/music_{i:04d}.flac"
        if rng.random() < 0.5:
            wav = render_music([root], timbre, velocity, rng)
            caption = "Musical note"
            metadata = {
                "midi pitch": f"{root} out of 127",
                "note name": note_name(root),
                "midi velocity": f"{velocity} out of 127",
                "timbre": timbre,
            }
        else:
            quality = ("major", "minor")[int(rng.integers(2))]
            pitches = [root, root + (4 if quality == "major" else 3), root + 7]
            wav = render_music(pitches, timbre, velocity, rng)
            caption = "Chord"
            metadata = {
                "chord": f"{NOTE_NAMES[root % 12]} {quality}",
                "root note": note_name(root),
                "timbre": timbre,
            }
        _write(out / file, wav, 44100, fmt="FLAC")
        clips.append(
            Clip(
                file,
                caption.lower().replace(" ", "_"),
                f"take_{i:04d}",
                {
                    "text": caption,
                    "text_type": "caption",
                    "metadata": metadata,
                },
            )
        )
    return clips


# --- spoken instructions ------------------------------------------------------------------


def make_squad(out: Path, n: int, seed: int) -> list[Clip]:
    clips = []
    questions = [(c, q, imp) for c, qs in PASSAGES for q, imp in qs]
    for i in range(n):
        rng = _rng(seed, "squad", i)
        context, question, impossible = questions[i % len(questions)]
        gender = ("Male", "Female")[i % 2]
        wav, sr = espeak(question, "English", str(rng.choice(VOICES[gender])), RATES["normal"])
        file = f"audio/squad_{i:04d}.wav"
        _write(out / file, _normalise(np.pad(wav, (sr // 10, sr // 10))), sr)
        clips.append(
            Clip(
                file,
                f"q{i:05d}",
                str(impossible),
                {
                    "question": question,
                    "context": context,
                    "is_impossible": impossible,
                    # HeySQuAD ships an official validation split; one item in three goes there.
                    "split": "validation" if i % 3 == 2 else "train",
                },
            )
        )
    return clips


def make_s2s(out: Path, n: int, seed: int) -> list[Clip]:
    clips = []
    for i in range(n):
        rng = _rng(seed, "s2s", i)
        conversation = CONVERSATIONS[i % len(CONVERSATIONS)]
        context = "".join(f"User: {u}\nAssistant: {a}\n" for u, a in conversation[:-1])
        question = conversation[-1][0]
        wav, sr = espeak(question, "English", str(rng.choice(VOICES["Female"])), RATES["normal"])
        file = f"audio/s2s_{i:04d}.wav"
        _write(out / file, _normalise(np.pad(wav, (sr // 10, sr // 10))), sr)
        clips.append(
            Clip(
                file,
                f"conv{i:05d}",
                str(len(conversation) - 1),
                {
                    "question": question,
                    "context": context,
                },
            )
        )
    return clips


# --- benchmark ----------------------------------------------------------------------------


def make_benchmark(out: Path, n: int, seed: int) -> list[Clip]:
    """Held-out clips with one multiple-choice question each (MMAU-like categories)."""
    clips = []
    for i in range(n):
        rng = _rng(seed, "benchmark", i)
        kind = i % 3
        file = f"audio/bench_{i:04d}"
        if kind == 0:  # speech
            p = _speech_params(seed, "benchmark-speech", i) | {"noise": None}
            wav, sr = _render_speech(p)
            file += ".wav"
            _write(out / file, wav, sr)
            question, choices, answer, sub = [
                (
                    "Which language is spoken in the recording?",
                    list(SENTENCES),
                    p["language"],
                    "language identification",
                ),
                (
                    "What is the gender of the speaker?",
                    ["Male", "Female"],
                    p["gender"],
                    "gender recognition",
                ),
                ("How fast does the speaker talk?", list(RATES), p["rate"], "speaking rate"),
            ][i % 3]
            category = "speech"
        elif kind == 1:  # sound
            event = SOUND_EVENTS[i % len(SOUND_EVENTS)]
            count = int(rng.integers(1, 5))
            file += ".wav"
            _write(out / file, render_sound(event, count, rng), 16000)
            if i % 2:
                question, choices, answer, sub = (
                    "How many times does the sound occur?",
                    ["1", "2", "3", "4"],
                    str(count),
                    "event counting",
                )
            else:
                question, choices, answer, sub = (
                    "Which sound do you hear?",
                    list(SOUND_EVENTS[:4]) if event in SOUND_EVENTS[:4] else list(SOUND_EVENTS[2:]),
                    event,
                    "event classification",
                )
            category = "sound"
        else:  # music
            timbre = TIMBRES[i % len(TIMBRES)]
            root = int(rng.integers(48, 73))
            chord = rng.random() < 0.5
            pitches = [root, root + 4, root + 7] if chord else [root]
            file += ".flac"
            _write(out / file, render_music(pitches, timbre, 100, rng), 44100, fmt="FLAC")
            if i % 2:
                question, choices, answer, sub = (
                    "Is this a single note or a chord?",
                    ["a single note", "a chord"],
                    "a chord" if chord else "a single note",
                    "texture",
                )
            else:
                question, choices, answer, sub = (
                    "Which timbre does the instrument have?",
                    list(TIMBRES),
                    timbre,
                    "timbre",
                )
            category = "music"
        clips.append(
            Clip(
                file,
                f"bench_{i:04d}",
                category,
                {
                    "question": question,
                    "choices": choices,
                    "answer": answer,
                    "category": category,
                    "sub-category": sub,
                },
            )
        )
    return clips


MAKERS: dict[str, Callable[[Path, int, int], list[Clip]]] = {
    "speech": make_speech,
    "dialogue": make_dialogue,
    "sound": make_sound,
    "music": make_music,
    "squad": make_squad,
    "s2s": make_s2s,
    "benchmark": make_benchmark,
}


def make_synthetic_corpus(out: str | Path, items: dict[str, int], seed: int) -> dict[str, int]:
    """Write every part under ``out``; returns the number of items written per part."""
    out = Path(out)
    written = {}
    for part in PARTS:
        part_dir = out / part
        clips = MAKERS[part](part_dir, items[part], seed)
        part_dir.mkdir(parents=True, exist_ok=True)
        with open(part_dir / "metadata.jsonl", "w") as f:
            for clip in clips:
                f.write(
                    json.dumps(
                        {
                            "file": clip.file,
                            "unique_id_1": clip.unique_id_1,
                            "unique_id_2": clip.unique_id_2,
                            **clip.fields,
                        },
                        ensure_ascii=False,
                    )
                    + "\n"
                )
        written[part] = len(clips)
        log.info("synthetic %s: %d items", part, len(clips))
    return written
