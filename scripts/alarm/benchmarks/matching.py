"""The official MMAU/MMAR answer match (``string_match`` of their evaluation.py).

Both the scorers and the clean extractor use it, so it lives apart from both.
Its quirks are kept on purpose, for parity with the published numbers: word
order is ignored, extra words pass unless another option uses them, "year" is
not "years", CJK text without spaces is one token, and an option with the same
token set as the answer (e.g. "From far to near" vs "From near to far") is
credited as correct.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_WORD = re.compile(r"\b\w+\b")


def tokens(text: str) -> list[str]:
    """Lowercased word tokens in order (Unicode ``\\w``, so ``_`` joins words)."""
    return _WORD.findall(text.lower())


def string_match(answer: str, prediction: str, choices: Sequence[str]) -> bool:
    """Whether ``prediction`` names ``answer`` and no token of another option."""
    predicted = set(tokens(prediction))
    if not predicted:
        return False
    wanted = set(tokens(answer))
    incorrect: set[str] = set()
    for choice in choices:
        choice_tokens = set(tokens(choice))
        if choice_tokens != wanted:
            incorrect |= choice_tokens - wanted
    return wanted <= predicted and predicted.isdisjoint(incorrect)
