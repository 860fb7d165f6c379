"""VoxCeleb1 dev (authors' voxceleb.py): two utterances back to back, same speaker or not.

Download: ``vox1/vox1_dev_wav_parta{a,b,c,d}`` of ProgramComputer/voxceleb @23dcdd6d
(the KAIST access form first) and ``vox1_meta.csv`` (OpenSLR 49; tab-separated:
VoxCeleb1 ID, VGGFace1 ID, Gender, Nationality, Set). ``prepare`` checks the parts'
md5 as the authors do, joins and unpacks them (``wav/<id>/<video>/<n>.wav``), then
writes the pairs (``train_list.txt``, the authors' format ``<file>\\t<file>``) and each
file's length (``wav_frames.tsv``).

The authors publish no pair list (TRAIN_LIST_URL = "") and regenerate it with
``random.seed(123)`` over ``os.listdir`` orders, which differ between file systems, so
their pairs cannot be reproduced. Here the same procedure runs over sorted listings with
``random.Random(123)``: the same pairs on every machine, though not the authors' pairs.
"""

from __future__ import annotations

import functools
import logging
import random
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import soundfile as sf

from alarm.data.items import SourceItem
from alarm.data.sources._multi_sound_common import (
    SAMPLING_RATE,
    concatenated_wav,
    read_csv,
    resampled_length,
    seconds_at_16k,
    unpack,
)
from alarm.files import file_checksum

log = logging.getLogger(__name__)

PART_MD5 = {
    "vox1_dev_wav_partaa": "e395d020928bc15670b570a21695ed96",
    "vox1_dev_wav_partab": "bbfaaccefab65d82b21903e81a8a8020",
    "vox1_dev_wav_partac": "017d579a2a96a077f40042ec33e51512",
    "vox1_dev_wav_partad": "7bb1e9f70fddc7a678fa998ea8b3ba19",
}
PAIRS_SEED = 123
N_PAIRS = 50  # pairs of each kind per speaker: same speaker, male, female
PAIRS = "train_list.txt"
FRAMES = "wav_frames.tsv"


def prepare(source_dir: Path, source: dict[str, Any]) -> None:
    source_dir = Path(source_dir)
    if not (source_dir / "wav").is_dir():
        parts = [source_dir / "vox1" / name for name in sorted(PART_MD5)]
        for part in parts:
            if file_checksum(part, "md5") != PART_MD5[part.name]:
                raise ValueError(f"{part}: md5 differs from the authors' {PART_MD5[part.name]}")
        joined = source_dir / "voxceleb.zip"
        with open(joined, "wb") as out:
            for part in parts:
                with open(part, "rb") as f:
                    shutil.copyfileobj(f, out)
        unpack(joined, source_dir)
        joined.unlink()
    if not (source_dir / PAIRS).exists():
        _write_pairs(source_dir)


def _dev_speakers(source_dir: Path) -> list[tuple[str, str, str]]:
    """(id, gender code, nationality) of the dev speakers in CSV order; columns by
    position, as the authors' ``iloc``."""
    rows = read_csv(source_dir / "vox1_meta.csv", delimiter="\t")
    return [tuple(list(r.values())[i] for i in (0, 2, 3)) for r in rows if r["Set"] == "dev"]


def _write_pairs(source_dir: Path) -> None:
    speakers = _dev_speakers(source_dir)
    wav_dir = source_dir / "wav"
    audio: dict[str, list[str]] = {}
    frames = []
    for speaker, _, _ in speakers:
        audio[speaker] = []
        for path in sorted((wav_dir / speaker).glob("*/*.wav")):
            try:
                info = sf.info(str(path))
            except (OSError, RuntimeError) as err:
                log.warning("voxceleb1: %s unreadable, left out of the pairs (%s)", path, err)
                continue
            name = str(path.relative_to(wav_dir))
            audio[speaker].append(name)
            frames.append(f"{name}\t{info.frames}\t{info.samplerate}\n")
    (source_dir / FRAMES).write_text("".join(frames))
    pairs = create_pairs(speakers, audio)
    partial = source_dir / f"{PAIRS}.partial"
    partial.write_text("".join(f"{a}\t{b}\n" for a, b in pairs))
    partial.replace(source_dir / PAIRS)


def create_pairs(
    speakers: list[tuple[str, str, str]], audio: dict[str, list[str]]
) -> list[tuple[str, str]]:
    """The authors' create_train_pairs, over the (sorted) ``audio`` lists given.

    Per dev speaker in CSV order: up to 50 pairs of two of its own files, then 50 male and
    50 female other speakers with one pair each (own file, their file).
    """
    rng = random.Random(PAIRS_SEED)
    male = sorted({speaker for speaker, gender, _ in speakers if gender == "m"})
    female = sorted({speaker for speaker, gender, _ in speakers if gender == "f"})

    def sample_pairs(first: list[str], second: list[str], n: int) -> list[tuple[str, str]]:
        n = min(n, len(first), len(second))
        return list(zip(rng.sample(first, n), rng.sample(second, n), strict=True))

    pairs = []
    for speaker, _, _ in speakers:
        own = audio[speaker]
        pairs += sample_pairs(own, own, N_PAIRS)
        for group in (male, female):
            for other in rng.sample([s for s in group if s != speaker], N_PAIRS):
                pairs += sample_pairs(own, audio[other], 1)
    return pairs


def items(source_dir: Path, source: dict[str, Any]) -> Iterator[SourceItem]:
    source_dir = Path(source_dir)
    speakers = {
        speaker: ("Male" if gender == "m" else "Female", nationality)
        for speaker, gender, nationality in _dev_speakers(source_dir)
    }
    seconds = {}
    for line in (source_dir / FRAMES).read_text().splitlines():
        path, frames, rate = line.split("\t")
        seconds[path] = resampled_length(int(frames), int(rate)) / SAMPLING_RATE
    for line in (source_dir / PAIRS).read_text().splitlines():
        first, second = line.split("\t")
        yield _item(source_dir / "wav", first, second, speakers, seconds)


def _item(
    wav_dir: Path,
    first: str,
    second: str,
    speakers: dict[str, tuple[str, str]],
    seconds: dict[str, float],
) -> SourceItem:
    id1, id2 = first.split("/")[0], second.split("/")[0]
    # A list file from elsewhere may name files prepare did not measure: probe those.
    d1, d2 = (seconds.get(f) or seconds_at_16k(wav_dir / f) or 0.0 for f in (first, second))
    known = id1 in speakers and id2 in speakers
    metadata: dict[str, Any] = {}
    if known:
        (gender1, nation1), (gender2, nation2) = speakers[id1], speakers[id2]
        metadata = {
            "the speakers are the same": "Yes" if id1 == id2 else "No",
            "the first speaker's gender": gender1,
            "the second speaker's gender": gender2,
            "the first speaker's nationality": nation1,
            "the second speaker's nationality": nation2,
            "the number of speakers": 2,
        }
    return SourceItem(
        unique_id_1=first,
        unique_id_2=second,
        load_audio=functools.partial(concatenated_wav, [wav_dir / first, wav_dir / second]),
        text=["Speech", "Speech"] if known else None,
        text_type="caption",
        metadata=metadata,
        segments=[(0, d1, "the first speaker"), (d1, d1 + d2, "the second speaker")],
    )
