"""The instruction texts the LLMs read: ours, or the authors' for the paper run.

One place serves every stage and inference: R0's messages, the self-rephrasing
instruction and request, the leak checker's rules and request, the MCQA
prompts, the free-form inference system prompt and ALARM-E's joining
instructions. ``texts: ours`` (the default run) uses the project's own prose in
``ours/``; ``texts: authors`` (config/paper.yaml) uses the authors' strings,
which this repository does not carry: the rule ``fetch_author_texts`` downloads
their source files at a pinned commit and :mod:`alarm.texts.authors` extracts
the functions that build them. The prompt-generation texts exist only as ours
(the authors' module is not published), for both runs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

# Each text's arguments, in the order both sources take them.
ARGUMENTS: dict[str, tuple[str, ...]] = {
    "r0_system": (),
    "r0_user": ("description", "prompt"),
    "rephrase_system": (),
    "rephrase_user": ("response", "description", "prompt"),
    "checker_system": (),
    "checker_user": ("response", "description", "prompt"),
    "mcqa_system": (),
    "mcqa_user": ("question", "choices"),
    "inference_system": (),
    "ensemble_instruction": ("n",),
    "ensemble_pass": ("i", "n"),
}
OURS = "ours"


@cache
def own(name: str) -> str:
    """One of our text files (``ours/<name>.txt``), without its final newlines."""
    return (files("alarm.texts") / "ours" / f"{name}.txt").read_text().rstrip("\n")


@cache
def own_data(name: str) -> Any:
    return json.loads((files("alarm.texts") / "ours" / f"{name}.json").read_text())


def _own_rephrase_system() -> str:
    examples = "\n\n".join(
        f"<TEXT_LLM_RESPONSE_{i}>\n{e['text_llm_response']}\n</TEXT_LLM_RESPONSE_{i}>\n"
        f"<MODIFIED_RESPONSE_{i}>\n<answer>\n{e['modified_response']}\n</answer>\n"
        f"</MODIFIED_RESPONSE_{i}>"
        for i, e in enumerate(own_data("rephrase_examples"), 1)
    )
    return own("rephrase_rules").format(examples=examples)


def _own_mcqa_user(question: str, choices: Sequence[str]) -> str:
    options = "".join(f"(Option_{i}) {choice}\n" for i, choice in enumerate(choices))
    return own("mcqa_user").format(question=question, options=options)


# The rephrasing request and the leak check read the response alone: the description and
# prompt it answered must not tempt the rewriter or the checker back to the text.
_OURS: dict[str, Callable[..., str]] = {
    "r0_system": lambda: own("r0_system"),
    "r0_user": lambda description, prompt: own("r0_user").format(
        description=description, prompt=prompt
    ),
    "rephrase_system": _own_rephrase_system,
    "rephrase_user": lambda response, description, prompt: own("rephrase_request").format(
        response=response
    ),
    "checker_system": lambda: own("leak_checker_rules"),
    "checker_user": lambda response, description, prompt: f"Response:\n{response}",
    "mcqa_system": lambda: own("mcqa_system"),
    "mcqa_user": _own_mcqa_user,
    "inference_system": lambda: own("inference_system"),
    "ensemble_instruction": lambda n: own("ensemble_instruction").format(n=n) + "\n\n",
    "ensemble_pass": lambda i, n: own("ensemble_pass").format(i=i, n=n) + "\n",
}


class Texts:
    """The texts of one source: ``texts.r0_user(description, prompt)`` and so on."""

    def __init__(self, source: str, builders: dict[str, Callable[..., str]]):
        missing = sorted(set(ARGUMENTS) - set(builders))
        if missing:
            raise ValueError(f"texts {source!r} lack {', '.join(missing)}")
        self.source, self._builders = source, builders

    def __getattr__(self, name: str) -> Callable[..., str]:
        if name.startswith("_") or name not in ARGUMENTS:
            raise AttributeError(name)
        return self._builders[name]


@cache
def load_texts(source: str = OURS) -> Texts:
    """``ours``, or the path of the authors' texts that ``fetch_author_texts`` wrote."""
    if source == OURS:
        return Texts(OURS, _OURS)
    from alarm.texts.authors import load_bundle

    return Texts(str(source), load_bundle(Path(source)))
