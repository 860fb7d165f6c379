"""SonicMaster (Melechovsky et al. 2025): degraded Jamendo music clips and how they were degraded.

Hub snapshot of Parquet files (columns ``id``, ``meta`` JSON, ``input_flac``,
``input_sr``, ``gt_flac``, ``gt_sr``); the rows of the ``train`` split whose
``meta.split`` is "train". The degraded ``input_flac`` is the clip, kept as
shipped (the authors resave it as 16 kHz mono WAV).
A_text: ``[00:00-00:30] |Music| (duration: 30s, song name: N, genres: pop/rock,
instrumental or with vocals: vocal[, singer gender: Female], tags: a/b, degraded using:
EQ and Reverb, degradataion description: [eq_mud - the audio ... / reverb_small - ...])``;
ids ``str(id)`` ; ``meta.name``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alarm.data.items import SourceItem
from alarm.data.sources._music_instruction_common import (
    ParquetRows,
    hf_split_files,
    text_and_metadata,
)

log = logging.getLogger(__name__)

# The authors' wording, typos included ("parameteric", "appling").
DESCRIPTIONS = {
    "Reverb_big": "the audio is convolved with a simulated big room impulse response",
    "Reverb_small": "the audio is convolved with a simulated small room impulse response",
    "EQ_boom": "the audio boominess is reduced by a low-shelf filter at 120 Hz by 10-20 dB",
    "Amplitude_volume": (
        "the audio gain is adjusted to a maximum amplitude within the set "
        "{0.001, 0.003, 0.01, 0.05}"
    ),
    "Dynamics_comp": (
        "the audio dynamics are modified by applying a feedforward compressor with attack "
        "3-80 ms, release 80-250 ms, threshold -45 to -38 dB, ratio 6-45, and make-up gain "
        "16-25 dB"
    ),
    "EQ_mud": (
        "the audio muddiness is increased with a second-order Chebyshev Type II bandpass "
        "(200-500 Hz) by 6-15 dB"
    ),
    "EQ_dark": (
        "the audio perceived brightness is increased with a high-shelf filter at 6 kHz by 6-15 dB"
    ),
    "Amplitude_clip": (
        "the audio level is modified to a maximum amplitude within the {2, 3, 5} set and clipped"
    ),
    "EQ_airy": "the audio airness is reduced via a high-shelf filter at 10 kHz by 10-20 dB",
    "Stereo_stereo": (
        "the left and right channels of the audio are combined to erase the spatial image"
    ),
    "EQ_warm": "the audio warmth is reduced by a low-shelf filter at 400 Hz by 6-20 dB",
    "EQ_vocal": (
        "the vocal-range frequencies are attenuated using a second-order Chebyshev Type II "
        "bandpass (350-3500 Hz) by 6-20 dB"
    ),
    "Reverb_real": "the audio is convolved with a real room impulse response",
    "Reverb_mix": ("the audio is convolved with a simulated mixed material room impulse response"),
    "EQ_xband": (
        "the audio is degraded by applying 8 to 12 band parameteric EQ with -6 to +6 range "
        "for each band"
    ),
    "EQ_mic": (
        "the audio is degraded by convolving the signal with a microphone transfer function"
    ),
    "EQ_bright": "the audio brightness is reduced using a high-shelf filter at 6 kHz by 6-15 dB",
    "Dynamics_punch": (
        "the audio dynamics are modified by appling a feedforward transient shaper with "
        "attack 3 ms, release 150 ms, adaptive threshold, and reduction of 8-15 dB"
    ),
    "EQ_clarity": (
        "the audio clarity is degraded using a Butterworth low-pass filter (order 3-5) "
        "with cutoff at 2 kHz"
    ),
}


def _describe(meta: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    metadata = {
        "song name": meta["name"],
        "genres": "/".join(meta["genres"]),
        "instrumental or with vocals": meta["vocalinstrumental"],
    }
    # Only vocal clips name a gender (the authors store "" in the column otherwise; A_text
    # has no such key).
    if meta["vocalinstrumental"] == "vocal":
        metadata["singer gender"] = meta["gender"].title()
    metadata["tags"] = "/".join(meta["vartags"])
    metadata["degraded using"] = " and ".join(meta["degradations"])
    effects = [f"{kind}_{v[0]}" for kind, v in meta["degradation_tracking"].items() if len(v)]
    described = [f"{effect.lower()} - {DESCRIPTIONS[effect]}" for effect in effects]
    metadata["degradataion description"] = "[" + " / ".join(described) + "]"  # authors' typo
    return "Music", metadata


def items(source_dir: Path, source: dict[str, Any]) -> Iterator[SourceItem]:
    reader = ParquetRows("input_flac")
    for path in hf_split_files(Path(source_dir))["train"]:
        for index, (row, load_audio) in enumerate(reader.rows(path, ["id", "meta"])):
            try:
                meta = json.loads(row["meta"])
                split, name = meta["split"], meta["name"]
                if row["id"] is None:
                    raise KeyError("id")
            except (TypeError, ValueError, KeyError) as err:
                log.warning(
                    "sonicmaster %s row %d: no ids or split (%r), skipped", path, index, err
                )
                continue
            if split != "train":
                continue
            text, metadata = text_and_metadata(f"sonicmaster {row['id']}", _describe, meta)
            yield SourceItem(
                unique_id_1=str(row["id"]),
                unique_id_2=str(name),
                load_audio=load_audio,
                text=text,
                text_type="caption",
                metadata=metadata,
            )
