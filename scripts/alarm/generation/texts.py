"""The instruction texts the generation stages send, kept as files in ``prompt_texts/``.

They are prose the LLMs read (our own rules, written from the paper), so they
live as documents rather than as string literals; placeholders are filled
with ``str.format``.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any


@cache
def text(name: str) -> str:
    return (files("alarm.generation") / "prompt_texts" / f"{name}.txt").read_text().rstrip("\n")


@cache
def data(name: str) -> Any:
    return json.loads((files("alarm.generation") / "prompt_texts" / f"{name}.json").read_text())
