"""One module per benchmark: where its files come from and how its records read.

Each module reads the downloaded files with the layout the authors' dataset
scripts see, and turns every metadata record, in file order, into a
:class:`SourceRecord`. The records keep the original fields verbatim: the
scorers' breakdowns and the official prediction files are built from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHOICE_KEYS = ("choice_a", "choice_b", "choice_c", "choice_d")


@dataclass(frozen=True)
class SourceRecord:
    id: str
    question: str
    choices: list[str]
    answer: str
    category: str
    audio_path: Path
    record: dict[str, Any]


def lettered_choices(record: dict[str, Any]) -> list[str]:
    """The options of a choice_a..choice_d record, as the authors build them.

    Only keys present count, and ``str()`` turns a null option into "None".
    """
    return [str(record[key]) for key in CHOICE_KEYS if key in record]
