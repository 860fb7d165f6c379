"""NSynth train (Engel et al. 2017): 4-s single notes with pitch, velocity and qualities.

Layout after unpacking: ``nsynth-train/examples.json`` (note_str -> annotations)
and ``nsynth-train/audio/<note_str>.wav``; items in examples.json order.
A_text: ``[00:00-00:04] |guitar musical note| (duration: 4s, midi pitch: 60 out of 127,
midi velocity: 100 out of 127, instrument source: Acoustic, instrument family: Guitar,
special qualitative categories: bright/percussive, special qualitative categories
description: 'A large amount ... A loud non-harmonic sound at note onset.')``;
ids ``note_str`` ; ``str(note)``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alarm.data.items import SourceItem
from alarm.data.sources._music_instruction_common import text_and_metadata, unpack

log = logging.getLogger(__name__)

ARCHIVE = "nsynth-train.jsonwav.tar.gz"

# https://magenta.tensorflow.org/datasets/nsynth#note-qualities, as the authors word them.
QUALITY_DESC = {
    "bright": "A large amount of high frequency content and strong upper harmonics.",
    "dark": (
        "A distinct lack of high frequency content, giving a muted and bassy sound. "
        "Also sometimes described as 'Warm'."
    ),
    "distortion": (
        "Waveshaping that produces a distinctive crunchy sound and presence of many "
        "harmonics. Sometimes paired with non-harmonic noise."
    ),
    "fast_decay": (
        "Amplitude envelope of all harmonics decays substantially before the 'note-off' "
        "point at 3 seconds."
    ),
    "long_release": (
        "Amplitude envelope decays slowly after the 'note-off' point, sometimes still "
        "present at the end of the sample 4 seconds."
    ),
    "multiphonic": (
        "Presence of overtone frequencies related to more than one fundamental frequency."
    ),
    "nonlinear_env": (
        "Modulation of the sound with a distinct envelope behavior different than the "
        "monotonic decrease of the note. Can also include filter envelopes as well as "
        "dynamic envelopes."
    ),
    "percussive": "A loud non-harmonic sound at note onset.",
    "reverb": "Room acoustics that were not able to be removed from the original sample.",
    "tempo-synced": "Rhythmic modulation of the sound to a fixed tempo.",
}

INSTRUMENT_FAMILY = {
    0: "bass",
    1: "brass",
    2: "flute",
    3: "guitar",
    4: "keyboard",
    5: "mallet",
    6: "organ",
    7: "reed",
    8: "string",
    9: "synth lead",
    10: "vocal",
}

INSTRUMENT_SOURCE = {0: "acoustic", 1: "electronic", 2: "synthetic"}


def prepare(source_dir: Path, source: dict[str, Any]) -> None:
    unpack(Path(source_dir) / ARCHIVE, Path(source_dir))


def _describe(note: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    family = INSTRUMENT_FAMILY[note["instrument_family"]]
    metadata = {
        "MIDI pitch": f"{note['pitch']} out of 127",
        "MIDI velocity": f"{note['velocity']} out of 127",
        "instrument source": INSTRUMENT_SOURCE[note["instrument_source"]].title(),
        "instrument family": family.title(),
    }
    qualities = note["qualities_str"]
    if qualities:
        metadata["special qualitative categories"] = "/".join(qualities)
        metadata["special qualitative categories description"] = (
            "'" + " ".join(QUALITY_DESC[q] for q in qualities) + "'"
        )
    else:
        metadata["special qualitative categories"] = "None"
        metadata["special qualitative categories description"] = (
            "No special categories for this audio"
        )
    return f"{family} musical note", metadata


def items(source_dir: Path, source: dict[str, Any]) -> Iterator[SourceItem]:
    root = Path(source_dir) / "nsynth-train"
    examples = json.loads((root / "examples.json").read_text())
    for name, note in examples.items():
        if not isinstance(note, dict) or "note" not in note:
            log.warning("nsynth %s: no note id in examples.json, skipped", name)
            continue
        text, metadata = text_and_metadata(f"nsynth {name}", _describe, note)
        yield SourceItem(
            unique_id_1=name,
            unique_id_2=str(note["note"]),
            load_audio=(root / "audio" / f"{name}.wav").read_bytes,
            text=text,
            text_type="caption",
            metadata=metadata,
        )
