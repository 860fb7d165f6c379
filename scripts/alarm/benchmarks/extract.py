"""From a model's raw output to the option it chose.

Two rules:

- ``clean`` (the default): read only the final answer, never a draft inside
  unfinished reasoning, accept the forms models actually write (0-based ids,
  letters, option text) and give ``None`` rather than guess when the answer
  is missing, hedged or ambiguous. ``None`` is scored as wrong and counted.
- ``alarm-parity``: the authors' rule, kept to reproduce their numbers. It
  parses ``int()`` after the last ``<answer>`` of the whole output, reasoning
  included, and falls back to option 0, which inflates scores where the
  answer is often the first option (39.5 % of MMAU test-mini).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from alarm.benchmarks.matching import string_match, tokens

EXTRACTION_MODES = ("clean", "alarm-parity")

THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
ANSWER_OPEN, ANSWER_CLOSE = "<answer>", "</answer>"

_CUE = re.compile(r"answer\s+is|answer\s*:|correct\s+option\s+is", re.IGNORECASE)
_ID = re.compile(r"\(?(?:option[_\s]*)?(\d+)\)?[.:]?", re.IGNORECASE)
_LETTER = re.compile(r"\(?([A-H])\)?[.:]?")
# A label that ends in ".", ":" or ")" and is followed by prose: "B. The dog barks."
_LEAD = re.compile(r"(\(?(?:[Oo]ption[_\s]*)?\d+\)?|\(?[A-H]\)?)(?:[.:]|(?<=\)))\s+\S")
_MARKUP = " \t\r\n*`'\""
# Spans that decline to answer; an option that reads "None" is never what they mean.
_NO_ANSWER = {"none", "null", "n/a", "unknown", "no answer"}


def final_text(response: str, reasoning_opened: bool = False) -> str | None:
    """The text after the reasoning, or ``None`` while a reasoning block is still open.

    ``reasoning_opened``: the chat template opened ``<think>`` before the response began
    (Qwen3-Thinking's does), so a response without ``</think>`` is all reasoning.
    """
    if THINK_CLOSE in response:
        tail = response.rsplit(THINK_CLOSE, 1)[1]
        return None if THINK_OPEN in tail else tail
    return None if reasoning_opened or THINK_OPEN in response else response


def answer_span(text: str) -> str:
    """The last non-empty ``<answer>`` content, else what follows the last answer cue.

    Without either, the whole final text is the span.
    """
    if ANSWER_OPEN in text:
        # A tag's content ends at the next closing *or* opening tag: models often
        # write "<answer>2<answer>", as the system prompt's bad example warns.
        contents = [piece.split(ANSWER_CLOSE)[0] for piece in text.split(ANSWER_OPEN)[1:]]
        filled = [c for c in contents if _clean(c)]
        if filled:
            return filled[-1]
    cues = list(_CUE.finditer(text))
    if not cues:
        return text
    # "The answer is:\n\nB" puts the answer on the next non-empty line.
    after = text[cues[-1].end() :]
    return next((line for line in after.splitlines() if _clean(line)), "")


def _clean(span: str) -> str:
    for tag in (ANSWER_OPEN, ANSWER_CLOSE):
        span = span.replace(tag, " ")
    return span.strip(_MARKUP).lstrip(":").strip(_MARKUP)


def _only(indices: list[int], choices: Sequence[str]) -> int | None:
    """The option if all ``indices`` name the same text (duplicate options are one answer)."""
    return indices[0] if indices and len({choices[i] for i in indices}) == 1 else None


def _is_label(text: str, choices: Sequence[str]) -> bool:
    """A bare option id ("2", "Option_2", "(2)") or letter ("B", "(B)", "B.").

    Letters count only where no option is itself a letter (note names "A", "C", "E").
    """
    if _ID.fullmatch(text):
        return True
    return bool(_LETTER.fullmatch(text)) and not any(_LETTER.fullmatch(c.strip()) for c in choices)


def _label(text: str, choices: Sequence[str]) -> int | None:
    if m := _ID.fullmatch(text):
        k = int(m.group(1))
        if k < len(choices):
            return k
        # The model may have written the value of a numeric option instead of its id.
        return next((i for i, c in enumerate(choices) if c.strip() in (m.group(1), str(k))), None)
    letter = _LETTER.fullmatch(text)
    if letter is None:
        return None
    k = ord(letter.group(1)) - ord("A")
    return k if k < len(choices) else None


def map_to_option(span: str, choices: Sequence[str]) -> int | None:
    """The 0-based option ``span`` names, or ``None`` if it names none or several."""
    text = _clean(span)
    if not text or text.lower().rstrip(".") in _NO_ANSWER:
        return None
    if _is_label(text, choices):
        return _label(text, choices)
    words = tokens(text)
    exact = _only([i for i, c in enumerate(choices) if words and tokens(c) == words], choices)
    if exact is not None:
        return exact
    # "B. The dog barks twice": a label followed by prose; the label is the answer.
    lead = _LEAD.match(text)
    if lead and _is_label(lead.group(1), choices):
        return _label(lead.group(1), choices)
    return _only([i for i, c in enumerate(choices) if string_match(c, text, choices)], choices)


def extract_index(
    response: str, choices: Sequence[str], reasoning_opened: bool = False
) -> int | None:
    """The clean rule, as an option index."""
    text = final_text(response, reasoning_opened)
    return None if text is None else map_to_option(answer_span(text), choices)


def extract_choice(
    response: str, choices: Sequence[str], reasoning_opened: bool = False
) -> str | None:
    """The text of the option ``response`` chose under the clean rule, or ``None``."""
    k = extract_index(response, choices, reasoning_opened)
    return None if k is None else choices[k]


def parity_index(response: str) -> int | None:
    """``int()`` of the last ``<answer>`` piece, as the authors' rule reads it; ``None``
    where ``int()`` fails and their rule falls back to option 0."""
    span = response.split(ANSWER_OPEN)[-1].split(ANSWER_CLOSE)[0].strip()
    try:
        return int(span)
    except ValueError:
        return None


def extract_choice_parity(response: str, choices: Sequence[str]) -> str:
    """The authors' rule: ``int()`` of the last ``<answer>`` piece, option 0 on failure.

    An index out of range gives ``str(index)`` (which can still match a numeric
    answer), and a negative one counts from the end, as Python indexing does.
    """
    k = parity_index(response)
    k = 0 if k is None else k
    try:
        return choices[k]
    except IndexError:
        return str(k)


def extract(
    response: str | None, choices: Sequence[str], mode: str, reasoning_opened: bool = True
) -> str | None:
    """The chosen option's text under ``mode``; ``None`` for no response or no answer.

    The workflow's responses come from the reasoning model's template, which opens
    ``<think>`` before the response begins: a response without ``</think>`` is an
    unfinished reasoning, whose drafts the clean rule never reads.
    """
    if mode not in EXTRACTION_MODES:
        raise ValueError(f"unknown extraction mode {mode!r}; expected one of {EXTRACTION_MODES}")
    if response is None:
        return None
    if mode == "clean":
        return extract_choice(response, choices, reasoning_opened)
    return extract_choice_parity(response, choices)
