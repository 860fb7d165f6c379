"""SingMOS (Tang et al. 2024): real and generated singing with mean opinion scores.

Hub snapshot: ``info/{score,split,sys_info}.json`` and ``wavs/<f_id>.wav``; the
clips are the ``singmos`` train list of split.json, in its order.
A_text: ``[00:00-00:04] |Singing| (duration: 4s, mos: 3.4, real or synthesized:
Synthesized, type of generative algorithm: Singning Voice Synthesis)``; ids ``f_id`` ; ``sys_id``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alarm.data.items import SourceItem
from alarm.data.sources._music_instruction_common import text_and_metadata

log = logging.getLogger(__name__)

# The authors' strings, typo included ("Singning"); other types are printed raw.
ALGORITHMS = {
    "svs": "Singning Voice Synthesis",
    "svc": "Singing Voice Conversion",
    "vocoder": "Vocoder",
    "gt": "Not generated",
}


def _describe(score: dict[str, Any], system: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    algorithm = ALGORITHMS.get(system["type"], system["type"])
    return "Singing", {
        "mos": round(float(score["score"]["mos"]), 2),
        "real or synthesized": "Real" if algorithm == "Not generated" else "Synthesized",
        "type of generative algorithm": algorithm,
    }


def items(source_dir: Path, source: dict[str, Any]) -> Iterator[SourceItem]:
    info = Path(source_dir) / "info"
    scores = json.loads((info / "score.json").read_text())["utterance"]
    train = json.loads((info / "split.json").read_text())["singmos"]["train"]
    systems = json.loads((info / "sys_info.json").read_text())
    for f_id in train:
        score = scores.get(f_id)
        if not isinstance(score, dict) or "sys_id" not in score:
            log.warning("singmos %s: no sys_id in score.json, skipped", f_id)
            continue
        system = score["sys_id"]
        text, metadata = text_and_metadata(
            f"singmos {f_id}", _describe, score, systems.get(system, {})
        )
        yield SourceItem(
            unique_id_1=str(f_id),
            unique_id_2=str(system),
            load_audio=(Path(source_dir) / "wavs" / f"{f_id}.wav").read_bytes,
            text=text,
            text_type="caption",
            metadata=metadata,
        )
