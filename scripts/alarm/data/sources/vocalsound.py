"""VocalSound (16 kHz release): laughter, sighs, coughs, throat clearing, sneezes, sniffs.

A_text: ``|Laughter| (duration, age: "30s", gender, has a cold/allergy/...: Yes/No)``;
uid = (speaker id, file name with ".wav"). Only the training speakers (meta/tr_meta.csv).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

from alarm.data.items import SourceItem
from alarm.data.sources._speech_common import described, downloaded, unpack

HEALTH_QUESTION = "has a cold/allergy/other health-related symptoms that might affect speech"
# The 34 files torchaudio could not load for the authors (listed in their script), which
# their corpus therefore lacks; they are recorded drops here whatever libsndfile makes of them.
_SOUNDS = ("laughter", "sigh", "cough", "throatclearing", "sneeze", "sniff")
_ALL_BROKEN = ("m0600_0", "f2298_0", "f2298_1", "f3310_0", "m2077_0")
BROKEN = frozenset(
    [f"{rec}_{sound}.wav" for rec in _ALL_BROKEN for sound in _SOUNDS]
    + ["m0072_0_laughter.wav", "m0072_0_throatclearing.wav"]
    + ["f0098_0_sneeze.wav", "f0066_0_cough.wav"]
)
# Their corpus lacks those files, so they do not count in the authors' split either.
AUTHORS_SKIP_UNREADABLE = True


def prepare(source_dir: Path, source: dict[str, Any]) -> None:
    # vs_release_16k.zip at the authors' URL; named by whatever URL the config gives.
    unpack(downloaded(source_dir, source["urls"][0]), Path(source_dir))


def _broken(path: Path) -> bytes:
    raise OSError(f"{path.name}: broken (the authors' torchaudio could not load it)")


def _describe(file_name: str, row: list[str]) -> tuple[str, dict[str, Any]]:
    # tr_meta.csv columns: speaker id, gender, age, country, native language, health condition
    sound = Path(file_name).stem.split("_")[-1].title()
    if sound == "Throatclearing":
        sound = "Throat clearing"
    return sound, {
        "age": f"{(int(row[2]) // 10) * 10}s",  # the decade: the exact age is hard to hear
        "gender": row[1].title(),
        HEALTH_QUESTION: row[5].title(),
    }


def items(source_dir: Path, source: dict[str, Any]) -> Iterator[SourceItem]:
    audio_dir = Path(source_dir) / "audio_16k"
    files: dict[str, list[str]] = defaultdict(list)  # speaker id -> "<spk>_<n>_<sound>.wav"
    for path in sorted(audio_dir.iterdir()):
        files[path.name.split("_")[0]].append(path.name)
    with open(Path(source_dir) / "meta" / "tr_meta.csv", newline="", encoding="utf-8") as f:
        rows = [row for row in csv.reader(f) if row]
    for row in rows:
        speaker_id = row[0]
        for file_name in files.get(speaker_id, []):
            path = audio_dir / file_name
            text, metadata = described(_describe, file_name, row)
            yield SourceItem(
                unique_id_1=speaker_id,
                unique_id_2=file_name,
                load_audio=partial(_broken, path) if file_name in BROKEN else path.read_bytes,
                text=text,
                text_type="caption",
                metadata=metadata,
            )
