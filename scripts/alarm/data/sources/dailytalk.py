"""DailyTalk (authors' dailytalk.py): train dialogues, turns concatenated into clips of >= 25 s.

Download: the DailyTalk Google Drive folder (holding ``dailytalk.zip``; gdown may put it in
a sub-folder named after the Drive folder) and ``train_frame.txt`` of the DailyTalk repo
@881eb3c (lines ``<utt>_<spk>_d<dialogue>|<spk>|{phones}|clean text|<emotion>``).
``prepare`` unpacks the zip: ``dailytalk/metadata.json``
(``{dialogue: {utterance: {"speaker", "act", "emotion", ...}}}``) and
``dailytalk/data/<dialogue>/<utt>_<spk>_d<dialogue>.wav``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alarm.data.items import SourceItem
from alarm.data.sources._multi_sound_common import (
    Turn,
    seconds_at_16k,
    turn_chunks,
    turn_item,
    unpack,
)

log = logging.getLogger(__name__)

MAX_SECONDS = 25


def prepare(source_dir: Path, source: dict[str, Any]) -> None:
    source_dir = Path(source_dir)
    if (source_dir / "dailytalk" / "metadata.json").exists():
        return
    archives = sorted(source_dir.rglob("dailytalk.zip"))
    if not archives:
        raise FileNotFoundError(f"{source_dir}: no dailytalk.zip from the Google Drive folder")
    unpack(archives[0], source_dir)


def items(source_dir: Path, source: dict[str, Any]) -> Iterator[SourceItem]:
    source_dir = Path(source_dir)
    clean_text: dict[str, str] = {}
    train_dialogues: set[str] = set()
    for line in (source_dir / "train_frame.txt").read_text(encoding="utf-8").splitlines():
        fields = line.split("|")
        if len(fields) < 3 or "d" not in fields[0]:
            continue
        clean_text[fields[0]] = fields[-2]
        train_dialogues.add(fields[0].split("d")[1])
    metadata = json.loads((source_dir / "dailytalk" / "metadata.json").read_text(encoding="utf-8"))
    for dialogue_id, utterances in metadata.items():
        if dialogue_id not in train_dialogues:
            continue
        # The authors sort the utterance ids as strings ("10" before "2"), which misorders
        # dialogues of 11+ turns; here in numeric order (the ids are plain decimals).
        order = sorted(utterances, key=lambda u: (len(u), u))
        turns = [_turn(source_dir, dialogue_id, u, utterances[u], clean_text) for u in order]
        for wav_id, chunk in enumerate(turn_chunks(turns, MAX_SECONDS)):
            yield turn_item(dialogue_id, wav_id, chunk)


def _turn(
    source_dir: Path,
    dialogue_id: str,
    utterance_id: str,
    info: dict[str, Any],
    clean: dict[str, str],
) -> Turn:
    speaker = str(info.get("speaker"))
    file_id = f"{utterance_id}_{speaker}_d{dialogue_id}"
    wav = source_dir / "dailytalk" / "data" / dialogue_id / f"{file_id}.wav"
    emotion, act = info.get("emotion"), info.get("act")
    if emotion == "no emotion":
        emotion = "neutral"
    text = clean.get(file_id)  # missing: a KeyError in the authors' script
    return Turn(
        utterance_id=utterance_id,
        speaker=speaker,
        label=f", emotion: {emotion}, speech act: {act}" if emotion and act else None,
        text=text.strip() if text is not None else None,
        path=wav,
        seconds=seconds_at_16k(wav),
    )
