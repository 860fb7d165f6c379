"""NISQA Corpus (TU Berlin depositonce 11303/13012.5): speech quality, TRAIN_LIVE and TRAIN_SIM.

A_text: ``|Speech| (duration, mos, noise level, coloration level, discontinuity, loudness,
degradation type, degradation explanation)``; uid = (filename_deg, db).
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from alarm.data.items import SourceItem
from alarm.data.sources._speech_common import described, downloaded, unpack

log = logging.getLogger(__name__)

TRAIN_DBS = ("NISQA_TRAIN_LIVE", "NISQA_TRAIN_SIM")  # the authors' order
# The authors' text, https://github.com/gabrielmittag/NISQA/issues/21 ("too quit" kept).
DEGRADATION_EXPLANATION = (
    "[Noisiness (the smaller the level the better): the presence of the background, "
    "circuit, or coding noise; Coloration (the smaller the level the better): "
    "frequency response distortions, low-bitrate codecs, or packet-loss "
    "concealment; Discontinuity (the smaller the level the better): "
    "isolated or non-stationary distortions, e.g. introduced by packet-loss "
    "or clipping; "
    "Loudness (the higher the better): if small, the loudness is not ideal, "
    "either too loud or too quit signals or loudness variation]"
)


def prepare(source_dir: Path, source: dict[str, Any]) -> None:
    # NISQA_Corpus.zip at the authors' URL; DepositOnce's newer URLs end in ".../download".
    unpack(downloaded(source_dir, source["urls"][0]), Path(source_dir))


def _np_round(value: str) -> float:
    # The authors round pandas' numpy floats (numpy's rounding) for mos and loudness, and
    # Python floats (Python's rounding) for the inverted levels; both are kept.
    return float(np.round(float(value), 3))


def _describe(row: dict[str, str]) -> tuple[str, dict[str, Any]]:
    if not row["con_description"]:
        raise KeyError("con_description")  # an empty cell
    # noi/col/dis: 5 = most degraded in the corpus; the authors invert them so that a
    # smaller level is better. Loudness is not inverted.
    return "Speech", {
        "mos": _np_round(row["mos"]),
        "noise level": f"{round(5 - float(row['noi']), 3)}/5",
        "coloration level": f"{round(5 - float(row['col']), 3)}/5",
        "discontinuity": f"{round(5 - float(row['dis']), 3)}/5",
        "loudness": f"{_np_round(row['loud'])}/5",
        "degradation type": row["con_description"],
        "degradation explanation": DEGRADATION_EXPLANATION,
    }


def items(source_dir: Path, source: dict[str, Any]) -> Iterator[SourceItem]:
    root = Path(source_dir) / "NISQA_Corpus"
    with open(root / "NISQA_corpus_file.csv", newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    for db in TRAIN_DBS:
        for row in rows:
            if row.get("db") != db:
                continue
            if not row.get("filename_deg"):
                log.warning("nisqa: %s row without filename_deg skipped: %s", db, row)
                continue
            text, metadata = described(_describe, row)
            yield SourceItem(
                unique_id_1=row["filename_deg"],
                unique_id_2=db,
                load_audio=(root / db / "deg" / row["filename_deg"]).read_bytes,
                text=text,
                text_type="caption",
                metadata=metadata,
            )
