"""Reading structured parts out of LLM output, shared by every stage."""

from __future__ import annotations

import json

ANSWER_OPEN, ANSWER_CLOSE = "<answer>", "</answer>"
THINK_END = "</think>"


class ParseError(ValueError):
    """LLM output without the expected structure; ``reason`` is the ledger drop code."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def after_reasoning(text: str) -> str:
    """The answer region of a thinking model's output: what follows its first ``</think>``.

    The model's own reasoning ends at its first ``</think>`` (generated, or closed by the
    thinking budget), so drafts inside the reasoning are never read, and a ``</think>``
    later on belongs to the answer, where the stages treat it as a leak.
    """
    return text.split(THINK_END, 1)[-1]


def answer_region(text: str) -> tuple[str, str | None]:
    """What follows the last ``<answer>`` up to the next ``</answer>``, unstripped, and
    which tag was missing: ``None``, ``"no_answer_tag"`` or ``"unclosed_answer_tag"``.

    Without an ``<answer>`` the region starts at the beginning, without the closing tag
    it runs to the end: the authors' rephrasing parser keeps exactly this.
    """
    opening = text.rfind(ANSWER_OPEN)
    start = 0 if opening < 0 else opening + len(ANSWER_OPEN)
    end = text.find(ANSWER_CLOSE, start)
    body = text[start:] if end < 0 else text[start:end]
    if opening < 0:
        return body, "no_answer_tag"
    return body, "unclosed_answer_tag" if end < 0 else None


def last_answer(text: str) -> str:
    """The content of the last complete ``<answer>...</answer>`` pair, stripped."""
    body, missing = answer_region(text)
    if missing == "no_answer_tag":
        raise ParseError("no_answer_tag", "the output has no <answer>")
    if missing is not None:
        raise ParseError("no_answer_tag", "the last <answer> is never closed")
    return body.strip()


def json_string_list(text: str) -> list[str]:
    """A non-empty JSON list of non-empty strings (the prompt candidates)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise ParseError("candidates_unparseable", f"not JSON: {err}") from err
    if not isinstance(value, list) or not value:
        raise ParseError("candidates_unparseable", "not a non-empty JSON list")
    if not all(isinstance(v, str) and v.strip() for v in value):
        raise ParseError("candidates_unparseable", "a candidate is not a non-empty string")
    return [v.strip() for v in value]
