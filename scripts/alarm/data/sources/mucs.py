"""MUCS 2021 (OpenSLR 104) code-switching train sets: Hindi-English and Bengali-English.

A_text: ``text (duration, language: "<L>-English code-switching")``; uid = (segment, recording).
Each item is a segment cropped from its recording, as the authors write it: samples
``[int(start*sr), int(end*sr))``, resampled to 16 kHz when the recording is not, channels
kept, as WAV (16-bit PCM; the authors' torchaudio.save wrote float32).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from alarm.data.audio import AudioError, encode_wav, resample
from alarm.data.items import SourceItem
from alarm.data.sources._speech_common import text_lines, unpack

log = logging.getLogger(__name__)

LANGUAGES = ("Hindi-English", "Bengali-English")
SAMPLING_RATE = 16000


def prepare(source_dir: Path, source: dict[str, Any]) -> None:
    for language in LANGUAGES:
        unpack(Path(source_dir) / f"{language}_train.tar.gz", Path(source_dir) / language)


def _crop(recording: Path, start: str, end: str) -> bytes:
    if not recording.is_file():
        raise FileNotFoundError(recording)
    try:
        sr = sf.info(str(recording)).samplerate
        samples, _ = sf.read(
            str(recording),
            start=int(float(start) * sr),
            stop=int(float(end) * sr),
            dtype="float32",
            always_2d=True,
        )
    except sf.LibsndfileError as err:
        raise AudioError("audio_undecodable", f"{recording.name}: {err}") from err
    waveform = np.ascontiguousarray(samples.T)  # (channels, samples): no downmix
    return encode_wav(resample(waveform, sr, SAMPLING_RATE), SAMPLING_RATE)


def _transcripts(path: Path) -> dict[str, str]:
    # Kaldi `text`: "<segment id> <transcript>". The authors zip it with `segments` line
    # by line (asserting equal ids); looking the segment up by id gives the same pairs.
    texts = {}
    for line in text_lines(path):
        segment_id, *rest = line.strip().split(maxsplit=1)
        texts[segment_id] = rest[0].strip() if rest else ""
    return texts


def items(source_dir: Path, source: dict[str, Any]) -> Iterator[SourceItem]:
    for language in LANGUAGES:
        root = Path(source_dir) / language / "train"
        texts = _transcripts(root / "transcripts" / "text")
        for line in text_lines(root / "transcripts" / "segments"):
            fields = line.split()  # Kaldi `segments`: "<segment id> <recording id> <start> <end>"
            if len(fields) < 4:
                log.warning("mucs: %s segment line %r is not 'seg rec start end'", language, line)
                continue
            segment_id, recording_id = fields[0], fields[1]
            text = texts.get(segment_id)  # None: no transcript, a missing-metadata drop
            yield SourceItem(
                unique_id_1=segment_id,
                unique_id_2=recording_id,
                load_audio=partial(_crop, root / f"{recording_id}.wav", fields[-2], fields[-1]),
                text=text,
                metadata={"language": f"{language} code-switching"},
            )
