"""Helpers shared by the multi-speaker and sound converters.

The multi-speaker corpora build each clip from several utterances, as the
authors' scripts do: AliMeeting and AMI lay timed utterances on a zero canvas
(``Span``, chunked when the clip reaches 40 s), MELD and DailyTalk concatenate
turns (``Turn``, chunked at 20 s / 25 s). The clip's audio is assembled only
when the raw stage loads it, as 16 kHz mono WAV like the authors' tmp files.
Speakers are numbered "the first ... tenth speaker" by first appearance in
the clip; the authors list per-speaker metadata in ``set`` order
(PYTHONHASHSEED-dependent), here always in that first-appearance order.
"""

from __future__ import annotations

import csv
import functools
import logging
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import soundfile as sf

from alarm import fetch
from alarm.data.audio import encode_wav, load_mono
from alarm.data.items import SourceItem

log = logging.getLogger(__name__)

SAMPLING_RATE = 16000
ORDINALS = (
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
)


def speaker_ordinals(speakers: Sequence[str]) -> dict[str, str]:
    """``speaker -> "first"...`` by first appearance (the authors' ORDER2TEXT numbering)."""
    order: dict[str, str] = {}
    for speaker in speakers:
        if speaker not in order:
            order[speaker] = ORDINALS[len(order)]
    return order


def read_csv(path: Path, delimiter: str = ",") -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter=delimiter))


def unpack(archive: Path, dest: Path) -> None:
    """Extract a zip or (any-compression) tar archive into ``dest``, keeping the archive."""
    fetch.unpack(archive, dest, keep=True)


def resampled_length(frames: int, sample_rate: int) -> int:
    """Samples after torchaudio's resample to 16 kHz (it ceils in float32)."""
    if sample_rate == SAMPLING_RATE:
        return frames
    gcd = math.gcd(sample_rate, SAMPLING_RATE)
    return int(np.ceil(np.float32(SAMPLING_RATE // gcd * frames / (sample_rate // gcd))))


def seconds_at_16k(path: Path) -> float | None:
    """A file's duration after the authors' resample to 16 kHz, from its header;
    ``None`` (logged) where the file cannot be read."""
    try:
        info = sf.info(str(path))
    except (OSError, RuntimeError) as err:  # soundfile's LibsndfileError is a RuntimeError
        log.warning("%s: unreadable (%s)", path, err)
        return None
    return resampled_length(info.frames, info.samplerate) / SAMPLING_RATE


def read_16k(path: Path) -> np.ndarray:
    """A whole file, downmixed and resampled to 16 kHz as the authors load it."""
    return load_mono(path.read_bytes(), SAMPLING_RATE, str(path))


def concatenated_wav(paths: Sequence[Path]) -> bytes:
    return encode_wav(np.concatenate([read_16k(p) for p in paths]), SAMPLING_RATE)


# --- clips of timed, possibly overlapping utterances (AliMeeting, AMI) ---


@dataclass(frozen=True)
class Span:
    """One timed utterance; ``audio`` returns it at 16 kHz mono."""

    start: float
    end: float
    speaker: str
    text: str | None
    audio: Callable[[], np.ndarray]


def span_chunks(spans: Sequence[Span], max_seconds: float) -> list[list[Span]]:
    """Cut start-sorted spans into clips, closing a clip once it reaches ``max_seconds``.

    The clip length is the last span's end minus the first span's start (the authors'
    ``total_duration``); the remainder is a clip too unless that length is 0.
    """
    chunks: list[list[Span]] = []
    current: list[Span] = []
    total = 0.0
    for span in spans:
        current.append(span)
        total = span.end - current[0].start
        if total >= max_seconds:
            chunks.append(current)
            current, total = [], 0.0
    if total != 0:
        chunks.append(current)
    return chunks


def overlaid_wav(spans: Sequence[Span]) -> bytes:
    """The authors' get_joint_audio: each piece at ``round((start - first) * 16k)`` on a
    zero canvas, later pieces overwriting earlier ones where they overlap."""
    placed = []
    for span in spans:
        piece = span.audio()
        offset = round((span.start - spans[0].start) * SAMPLING_RATE)
        placed.append((offset, piece))
    canvas = np.zeros(max(offset + len(piece) for offset, piece in placed), dtype=np.float32)
    for offset, piece in placed:
        canvas[offset : offset + len(piece)] = piece
    return encode_wav(canvas, SAMPLING_RATE)


def span_item(
    unique_id_1: str, joint_f_id: str, spans: list[Span], genders: dict[str, str]
) -> SourceItem:
    """A clip of AliMeeting/AMI: segments relative to its first start, speaker genders."""
    first = spans[0].start
    order = speaker_ordinals([s.speaker for s in spans])
    metadata: dict[str, Any] = {
        f"the {ordinal} speaker's gender": genders[speaker] for speaker, ordinal in order.items()
    }
    metadata["the number of speakers"] = len(order)
    texts = [s.text for s in spans]
    return SourceItem(
        unique_id_1=unique_id_1,
        unique_id_2=joint_f_id,
        load_audio=functools.partial(overlaid_wav, spans),
        text=None if None in texts else texts,
        text_type="speech",
        metadata=metadata,
        segments=[
            (s.start - first, s.end - first, f"the {order[s.speaker]} speaker") for s in spans
        ],
    )


# --- clips of concatenated turns (MELD, DailyTalk) ---


@dataclass(frozen=True)
class Turn:
    """One turn of a dialogue.

    ``label`` follows the speaker ordinal in the segment label (", emotion: ..."),
    ``None`` where a field is missing; ``seconds`` is ``None`` where the audio could
    not be probed.
    """

    utterance_id: str
    speaker: str
    label: str | None
    text: str | None
    path: Path
    seconds: float | None


def turn_chunks(turns: Sequence[Turn], max_seconds: float) -> list[list[Turn]]:
    """Concatenate turns into clips, closing a clip once it reaches ``max_seconds``.

    A turn whose audio could not be probed has no known length: its clip is closed
    right after it (and fails when loaded, so the raw stage records it as a drop),
    where the authors' script would have stopped.
    """
    chunks: list[list[Turn]] = []
    current: list[Turn] = []
    total = 0.0
    for turn in turns:
        current.append(turn)
        total += turn.seconds or 0.0
        if turn.seconds is None or total >= max_seconds:
            chunks.append(current)
            current, total = [], 0.0
    if total != 0:
        chunks.append(current)
    return chunks


def turn_item(dialogue_id: str, wav_id: int, turns: list[Turn]) -> SourceItem:
    """A clip of MELD/DailyTalk: turns back to back, "the number of speakers" only."""
    order = speaker_ordinals([t.speaker for t in turns])
    segments, start = [], 0.0
    for turn in turns:
        end = start + (turn.seconds or 0.0)
        segments.append((start, end, f"the {order[turn.speaker]} speaker{turn.label}"))
        start = end
    texts = [t.text for t in turns]
    complete = None not in texts and all(t.label is not None for t in turns)
    return SourceItem(
        unique_id_1=dialogue_id,
        unique_id_2=f"{dialogue_id}_{wav_id}_" + "_".join(t.utterance_id for t in turns),
        load_audio=functools.partial(concatenated_wav, [t.path for t in turns]),
        text=texts if complete else None,
        text_type="speech",
        metadata={"the number of speakers": len(order)},
        segments=segments,
    )


# --- Hugging Face snapshots ---


def snapshot_files(source_dir: Path, pattern: str) -> list[Path]:
    """The snapshot's files matching ``pattern``, in the order ``load_dataset`` reads them."""
    files = sorted(Path(source_dir).glob(pattern))
    if not files:
        raise FileNotFoundError(f"{source_dir}: no {pattern}; is the hub snapshot downloaded?")
    return files


def parquet_rows(
    path: Path, columns: Sequence[str]
) -> Iterator[tuple[dict[str, Any], Callable[[], bytes]]]:
    """Rows (``columns`` only) of a hub Parquet file, each with a lazy loader of its audio."""
    parquet = pq.ParquetFile(path)
    for group in range(parquet.num_row_groups):
        for index, row in enumerate(
            parquet.read_row_group(group, columns=list(columns)).to_pylist()
        ):
            yield row, functools.partial(_parquet_audio, str(path), group, index)


@functools.lru_cache(maxsize=8)
def _audio_group(path: str, group: int) -> pa.Array:
    # A shard loads in yield order, so a few cached row groups serve all of its items;
    # an AMI clip takes pieces from each headset's run of rows, hence more than one.
    return pq.ParquetFile(path).read_row_group(group, columns=["audio"]).column(0).combine_chunks()


def _parquet_audio(path: str, group: int, index: int) -> bytes:
    audio = _audio_group(path, group)[index].as_py()
    if not audio or not audio.get("bytes"):
        raise OSError(f"{path}: row {index} of row group {group} has no audio bytes")
    return audio["bytes"]
