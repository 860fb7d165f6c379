"""Mridangam stroke dataset 1.5 (Anantapadmanabhan et al. 2013): single strokes per tonic.

Layout after unpacking: ``mridangam_stroke_1.5/<tonic>/<id>__<author>__<stroke>-<tonic>-<n>.wav``.
A_text: ``[00:00-00:00] |Mridangam| (duration: 0s, tonic: B, stroke: Bheem)``;
ids ``tonic: <tonic>`` ; ``<file name>``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alarm.data.items import SourceItem
from alarm.data.sources._music_instruction_common import unpack

# The basename of the Zenodo URL (its "?download=1" is not part of the saved name).
ARCHIVE = "mridangam_stroke_1.5.zip"


def prepare(source_dir: Path, source: dict[str, Any]) -> None:
    unpack(Path(source_dir) / ARCHIVE, Path(source_dir))


def items(source_dir: Path, source: dict[str, Any]) -> Iterator[SourceItem]:
    root = Path(source_dir) / "mridangam_stroke_1.5"
    for tonic_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        tonic = tonic_dir.name
        for wav in sorted(p for p in tonic_dir.iterdir() if p.name.endswith(".wav")):
            # The authors split the whole path on "_"; every file name has one, so its last
            # "_" part is the same: "224030__akshaylaya__bheem-b-001.wav" -> "bheem".
            stroke = wav.name.split("_")[-1].split("-")[0]
            yield SourceItem(
                unique_id_1=f"tonic: {tonic}",
                unique_id_2=wav.name,
                load_audio=wav.read_bytes,
                text="Mridangam",
                text_type="caption",
                metadata={"tonic": tonic, "stroke": stroke.title()},
            )
