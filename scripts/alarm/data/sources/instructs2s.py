"""InstructS2S-200K (Fang et al. 2025): spoken multi-turn instructions (Alpaca, UltraChat).

Hub snapshot: ``en_part_00`` .. ``en_part_32`` (one tar.gz split in 33 pieces,
holding ``en/wav/<dir>/<file>.wav``) and the conversations as a JSON file
(``instruct_en_200k_data_cosy2.json``: ``[{"id", "conversation": [{"from",
"text", "speech", ...}]}]``). One item per human turn: its text is the question,
the earlier turns (``User: ..\\n`` / ``Assistant: ..\\n``) its context, and its
audio ``en/wav/<dir>/<file>`` after the last two parts of ``speech``.
Ids ``str(id)`` ; ``str(turn index)``, counting the assistant's turns too.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from datasets.data_files import FILES_TO_IGNORE

from alarm import fetch
from alarm.data.items import SourceItem

log = logging.getLogger(__name__)

PARTS = [f"en_part_{i:02d}" for i in range(33)]
# A JSON file whose name marks another split (HF's split keywords) is not in load_dataset's train.
OTHER_SPLIT = re.compile(
    r"(^|[-._ 0-9])(validation|valid|dev|val|test|testing|eval|evaluation)[-._ 0-9]"
)
# Between the objects of a JSON array (or JSON Lines) file.
SEPARATORS = re.compile(r"[\s,\[\]]*")


def prepare(source_dir: Path, source: dict[str, Any]) -> None:
    """Unpack the 33 parts into ``en/wav``, read in order as one tar.gz stream.

    The authors first write the concatenation (en_combined.tar.gz, as large as the
    parts); reading the parts one after the other gives the same files without that copy.
    """
    source_dir = Path(source_dir)
    parts = [source_dir / name for name in PARTS]
    fetch.unpack(parts, source_dir, keep=True, name="en_parts")


def _conversation_files(source_dir: Path) -> list[Path]:
    return sorted(
        p
        for p in source_dir.glob("*.json")
        if p.name not in FILES_TO_IGNORE and not OTHER_SPLIT.search(p.name)
    )


def _json_objects(path: Path, chunk_chars: int = 1 << 24) -> Iterator[Any]:
    """The top-level objects of a JSON array file, decoded one at a time.

    The conversations file is about 1 GB; decoded whole (speech units included)
    it would not fit the memory of a shard job.
    """
    decoder = json.JSONDecoder()
    buffer, pos = "", 0
    with path.open(encoding="utf-8") as f:
        while True:
            pos = SEPARATORS.match(buffer, pos).end()
            try:
                obj, pos = decoder.raw_decode(buffer, pos)
            except json.JSONDecodeError:
                chunk = f.read(chunk_chars)
                if not chunk:
                    if pos < len(buffer):
                        raise
                    return
                buffer, pos = buffer[pos:] + chunk, 0
                continue
            yield obj


def _speech_loader(wav_dir: Path, speech: Any, where: str) -> Callable[[], bytes]:
    parts = speech.split("/") if isinstance(speech, str) else []
    if len(parts) < 2:

        def missing() -> bytes:
            raise FileNotFoundError(f"{where}: no <dir>/<file> speech path ({speech!r})")

        return missing
    return (wav_dir / parts[-2] / parts[-1]).read_bytes


def _turns(conversation: Any, wav_dir: Path) -> Iterator[SourceItem]:
    if not isinstance(conversation, dict) or conversation.get("id") is None:
        log.warning("instructs2s: a conversation without an id, skipped: %.200r", conversation)
        return
    conv_id = str(conversation["id"])
    context = ""
    for index, turn in enumerate(conversation.get("conversation") or []):
        text = turn.get("text")
        if turn.get("from") != "human":
            context += f"Assistant: {text}\n"
            continue
        yield SourceItem(
            unique_id_1=conv_id,
            unique_id_2=str(index),
            load_audio=_speech_loader(wav_dir, turn.get("speech"), f"{conv_id} turn {index}"),
            question=text,
            context=context,
        )
        context += f"User: {text}\n"


def items(source_dir: Path, source: dict[str, Any]) -> Iterator[SourceItem]:
    wav_dir = Path(source_dir) / "en" / "wav"
    for path in _conversation_files(Path(source_dir)):
        for conversation in _json_objects(path):
            yield from _turns(conversation, wav_dir)
