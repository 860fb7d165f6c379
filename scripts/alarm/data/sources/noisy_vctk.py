"""Noisy speech database (Edinburgh DataShare 10283/2791): 28- and 56-speaker train sets.

Each log line gives two items: the noisy clip and its clean twin.
A_text: ``text (duration, noise description, snr)``; uid = ("<set>_<file>", "<noise>_<snr>")
for the noisy clip and ("<set>_<file>", "clean_<snr>") for the clean one (the noisy snr).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alarm.data.items import SourceItem
from alarm.data.sources._speech_common import read_stripped, text_lines, unpack

log = logging.getLogger(__name__)

TRAIN_SETS = ("trainset_28spk", "trainset_56spk")
ARCHIVES = (
    "logfiles.zip",
    *(f"{kind}_{train_set}_wav.zip" for kind in ("noisy", "clean") for train_set in TRAIN_SETS),
    *(f"{train_set}_txt.zip" for train_set in TRAIN_SETS),
)
# https://www.isca-archive.org/ssw_2016/valentinibotinhao16_ssw.html
SSN = "simulated speech-shaped noise (filtered white noise)"
CLEAN = "there is no noise - the audio is clean"


def prepare(source_dir: Path, source: dict[str, Any]) -> None:
    for archive in ARCHIVES:
        unpack(Path(source_dir) / archive, Path(source_dir) / "raw_data")


def items(source_dir: Path, source: dict[str, Any]) -> Iterator[SourceItem]:
    root = Path(source_dir) / "raw_data"
    for train_set in TRAIN_SETS:
        # log_<set>.txt: "<file id> <noise> <snr>"; every line is kept (the authors'
        # readlines()[:-1] dropped the last one).
        for line in text_lines(root / f"log_{train_set}.txt"):
            fields = line.split()
            if len(fields) != 3:
                log.warning("noisy_vctk: %s log line %r is not 'file noise snr'", train_set, line)
                continue
            file_id, noise, snr = fields
            noise = SSN if noise == "ssn" else noise
            text = read_stripped(root / f"{train_set}_txt" / f"{file_id}.txt")
            yield SourceItem(
                unique_id_1=f"{train_set}_{file_id}",
                unique_id_2=f"{noise}_{snr}",  # after the ssn renaming
                load_audio=(root / f"noisy_{train_set}_wav" / f"{file_id}.wav").read_bytes,
                text=text,
                metadata={"noise description": noise, "snr": snr},
            )
            # The clean twin: its uid keeps the noisy clip's snr, its snr field says "100".
            yield SourceItem(
                unique_id_1=f"{train_set}_{file_id}",
                unique_id_2=f"clean_{snr}",
                load_audio=(root / f"clean_{train_set}_wav" / f"{file_id}.wav").read_bytes,
                text=text,
                metadata={"noise description": CLEAN, "snr": "100"},
            )
