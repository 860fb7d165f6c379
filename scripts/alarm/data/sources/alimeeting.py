"""AliMeeting near-field train set (authors' alimeeting.py): meeting clips of >= 40 s.

Download: ``Train_Ali_near.tar.gz`` (OpenSLR 119). Layout after ``prepare``:
``Train_Ali_near/textgrid_dir/<room>_<meeting>_<M|F>_<SPK>.TextGrid`` and one
near-field ``Train_Ali_near/audio_dir/<same>.wav`` per speaker. Every interval of a
TextGrid's first tier is an utterance (empty marks included, as the authors read them);
a meeting's utterances of all speakers are sorted by start and laid out in clips.
"""

from __future__ import annotations

import functools
import logging
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from alarm.data.audio import resample, to_mono
from alarm.data.items import SourceItem
from alarm.data.sources._multi_sound_common import (
    SAMPLING_RATE,
    Span,
    span_chunks,
    span_item,
    unpack,
)

log = logging.getLogger(__name__)

MAX_SECONDS = 40
ITEM = re.compile(r"\n\s*item \[\d+\]:")
INTERVAL = re.compile(
    r'intervals \[\d+\]:?\s*xmin = (\S+)\s*xmax = (\S+)\s*text = "((?:[^"]|"")*)"', re.S
)


def prepare(source_dir: Path, source: dict[str, Any]) -> None:
    source_dir = Path(source_dir)
    if not (source_dir / "Train_Ali_near" / "textgrid_dir").is_dir():
        unpack(source_dir / "Train_Ali_near.tar.gz", source_dir)


def first_tier_intervals(path: Path) -> list[tuple[float, float, str]]:
    """(start, end, mark) of a long-format TextGrid's first tier, read as the ``textgrid``
    package does: times rounded to 5 digits, empty-length intervals dropped, sorted by start,
    ``""`` unescaped to ``"``."""
    raw = path.read_bytes()
    text = (
        raw.decode("utf-16") if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else raw.decode("utf-8-sig")
    )
    tiers = ITEM.split(text)
    intervals = []
    for xmin, xmax, mark in INTERVAL.findall(tiers[1] if len(tiers) > 1 else ""):
        start, end = round(float(xmin), 5), round(float(xmax), 5)
        if start < end:
            intervals.append((start, end, mark.replace('""', '"')))
    return sorted(intervals, key=lambda i: i[0])


def items(source_dir: Path, source: dict[str, Any]) -> Iterator[SourceItem]:
    data_dir = Path(source_dir) / "Train_Ali_near"
    meetings: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    # Sorted, where the authors take os.listdir order: it only breaks ties of equal starts.
    for path in sorted((data_dir / "textgrid_dir").glob("*.TextGrid")):
        parts = path.stem.split("_")
        if len(parts) != 4:
            log.warning("alimeeting: %s is not <room>_<meeting>_<gender>_<speaker>; skipped", path)
            continue
        room, meeting, gender, speaker = parts
        meetings[f"{room}_{meeting}"].append((path.stem, speaker, gender))
    for meet_id in sorted(meetings):
        try:
            spans, genders = _meeting(data_dir, meetings[meet_id])
        except (OSError, UnicodeError, ValueError) as err:
            log.warning("alimeeting: meeting %s skipped: %s", meet_id, err)
            continue
        for wav_id, chunk in enumerate(span_chunks(spans, MAX_SECONDS)):
            joint_f_id = f"{meet_id}_{wav_id}_" + "_".join(s.speaker[3:] for s in chunk)
            yield span_item(meet_id, joint_f_id, chunk, genders)


def _meeting(
    data_dir: Path, files: list[tuple[str, str, str]]
) -> tuple[list[Span], dict[str, str]]:
    spans: list[Span] = []
    genders: dict[str, str] = {}
    for f_id, speaker, gender in files:
        if speaker in genders:
            raise ValueError(f"speaker {speaker} has two TextGrids")  # the authors' assert
        genders[speaker] = "Male" if gender == "M" else "Female"
        wav = data_dir / "audio_dir" / f"{f_id}.wav"
        for start, end, mark in first_tier_intervals(
            data_dir / "textgrid_dir" / f"{f_id}.TextGrid"
        ):
            audio = functools.partial(crop_16k, wav, start, end)
            spans.append(Span(start, end, speaker, mark.strip(), audio))
    spans.sort(key=lambda s: s.start)  # stable, as sorted(..., key=start)
    return spans, genders


def crop_16k(path: Path, start: float, end: float) -> np.ndarray:
    """``[round(start*sr):round(end*sr)]`` of a file, downmixed and resampled to 16 kHz."""
    try:
        sample_rate = sf.info(str(path)).samplerate
        data, _ = sf.read(
            str(path),
            start=round(start * sample_rate),
            stop=round(end * sample_rate),
            dtype="float32",
            always_2d=True,
        )
    except sf.LibsndfileError as err:  # a RuntimeError: make it the drop the raw stage records
        raise OSError(f"{path}: {err}") from err
    mono = to_mono(data.T)
    return resample(mono, sample_rate, SAMPLING_RATE) if mono.size else mono
