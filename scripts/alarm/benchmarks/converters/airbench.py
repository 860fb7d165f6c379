"""AIR-Bench Foundation (19 tasks, single-choice): qyang1021/AIR-Bench-Dataset on the hub.

As the authors do, every clip is downmixed, resampled to 16 kHz and cropped
to its first 60 s at conversion time; the result is stored as a float WAV,
the encoding their ``torchaudio.save`` writes, so the model sees the same
samples.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import soundfile as sf

from alarm import fetch
from alarm.benchmarks.converters import SourceRecord, lettered_choices
from alarm.data.audio import decode, resample, to_mono

REPO = "qyang1021/AIR-Bench-Dataset"
METADATA_REVISION = "df92055c320edc10183f930d0df72740e9b33147"
AUDIO_REVISION = "7766a6f775ab20013e957353961007ab157a5d46"
METADATA = "Foundation/Foundation_meta.json"
SAMPLE_RATE = 16000
MAX_SECONDS = 60


def download(dest: Path) -> None:
    # The audio revision ships its own metadata file; the pinned one is fetched apart.
    fetch.hub_snapshot(REPO, AUDIO_REVISION, dest, allow=["Foundation/**"], ignore=[METADATA])
    fetch.hub_file(REPO, METADATA, METADATA_REVISION, dest)


def audio_path(source_dir: Path, rec: dict) -> Path:
    path = source_dir / "Foundation" / f"{rec['task_name']}_{rec['dataset_name']}" / rec["path"]
    if rec["task_name"] == "Audio_Grounding":
        # The metadata names .wav files; the repo holds them as .flac (official inference too).
        path = path.with_name(path.name[:-3] + "flac")
    return path


def records(source_dir: Path) -> list[SourceRecord]:
    meta = json.loads((source_dir / METADATA).read_text(encoding="utf-8"))
    return [
        SourceRecord(
            id=str(rec["uniq_id"]),
            question=str(rec["question"]),
            choices=lettered_choices(rec),
            answer=str(rec["answer_gt"]),
            category=str(rec["task_name"]),
            audio_path=audio_path(source_dir, rec),
            record=rec,
        )
        for rec in meta
    ]


def crop_clip(data: bytes) -> bytes:
    """Mono, 16 kHz, first 60 s, as float WAV bytes."""
    # A second of margin past the crop point leaves the resampler's output exact up to it.
    waveform, sr = decode(data, stop_s=MAX_SECONDS + 1)
    mono = resample(to_mono(waveform), sr, SAMPLE_RATE)[: SAMPLE_RATE * MAX_SECONDS]
    buf = io.BytesIO()
    sf.write(buf, mono, SAMPLE_RATE, format="WAV", subtype="FLOAT")
    return buf.getvalue()
