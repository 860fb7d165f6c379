"""DisfluencySpeech (amaai-lab/DisfluencySpeech): Switchboard-annotated disfluent speech.

A_text: ``transcript_annotated (duration, special annotations)``; uid = (the transcript,
"annotations: <special annotations>"), as the corpus has no id column.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alarm.data.items import SourceItem
from alarm.data.sources._speech_common import hf_rows

log = logging.getLogger(__name__)

COLUMNS = ("transcript_annotated",)
# Switchboard disfluency tags, "{F uh, }" etc.; "conjuctions" is the authors' spelling.
ELEMENT_TYPES = {
    "F": "Filled pauses (e.g. 'uh', 'um')",
    "E": "Explicit editing terms (e.g. 'I mean', 'sorry')",
    "D": "Discourse markers (e.g. 'you know', 'well')",
    "C": "Coordinating conjuctions (e.g. 'and', 'but')",
    "A": "Asides (comments that interrupt fluent flow)",
}


def special_annotations(text: str) -> str:
    # The authors test the bare letter (`"F" in text`), so any capital F/E/D/C/A in a
    # word ("Friday", "And") counted as a tag; only the tag's opening "{X" is matched here.
    found = [f"{{{tag} ...}}: {desc}" for tag, desc in ELEMENT_TYPES.items() if "{" + tag in text]
    if "[" in text:
        found.append("[... + ...]: Restarts")
    if "¡" in text or "¿" in text:
        found.append("¡...¿: non-speech sounds")
    return "/".join(found) if found else "No special annotations"


def items(source_dir: Path, source: dict[str, Any]) -> Iterator[SourceItem]:
    for index, (row, load_audio) in enumerate(hf_rows(Path(source_dir), ["train"], COLUMNS)):
        if row["transcript_annotated"] is None:
            # The transcript is the first id, so a row without one has no uid.
            log.warning("disfluencyspeech: train row %d has no transcript; skipped", index)
            continue
        text = row["transcript_annotated"].strip()
        annotations = special_annotations(text)
        yield SourceItem(
            unique_id_1=text,
            unique_id_2=f"annotations: {annotations}",
            load_audio=load_audio,
            text=text,
            metadata={"special annotations": annotations},
        )
