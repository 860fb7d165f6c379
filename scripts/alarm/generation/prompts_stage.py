"""Prompt generation (paper §2.1, challenge 1): candidates from A_text, a checker, one draw.

The authors' module for this stage is missing from their repository; the
instruction rules here are ours, written from the paper: every prompt must be
answerable from the audio description alone, the set must be diverse in task
and language, and no prompt may expose that the input was text. One request
returns the whole list of candidates; a second request with the checker rules
marks each one; one prompt is drawn uniformly (seeded by the uid) from those
that pass. Candidates and verdicts stay in the output for auditing.
"""

from __future__ import annotations

import random
import re
from typing import Any

from alarm.generation.backend import (
    Backend,
    Request,
    Sampling,
    chat_ids,
    context_drop,
    item_seed,
)
from alarm.generation.parse import ParseError, json_string_list, last_answer
from alarm.ledger import Drop
from alarm.stage import StageOutput
from alarm.texts import own

CATEGORY_NOTES = {
    "speech": "clips of one person speaking, sometimes with noise or recording artefacts",
    "multi_speaker": "conversations and mixtures of several speakers",
    "sound": "environmental sounds and sound events",
    "music": "music: notes, instruments, songs and their qualities",
}

DESCRIPTION_FORMAT = own("description_format")
PROMPT_RULES = own("prompt_rules")
CHECKER_RULES = own("checker_rules")

VERDICT_LINE = re.compile(
    r"^\s*(\d+)\s*[.)]\s*answerable\s*:\s*(yes|no)\s*;\s*exposes text\s*:\s*(yes|no)\s*$",
    re.IGNORECASE,
)


def prompt_messages(a_text: str, category: str, n: int) -> list[dict[str, str]]:
    system = PROMPT_RULES.format(
        description_format=DESCRIPTION_FORMAT, category_note=CATEGORY_NOTES[category], n=n
    )
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": f"Audio description:\n{a_text}"},
    ]


def checker_messages(a_text: str, candidates: list[str]) -> list[dict[str, str]]:
    numbered = "\n".join(f"{i}. {c}" for i, c in enumerate(candidates, 1))
    return [
        {"role": "system", "content": CHECKER_RULES.format(description_format=DESCRIPTION_FORMAT)},
        {"role": "user", "content": f"Audio description:\n{a_text}\n\nPrompts:\n{numbered}"},
    ]


def parse_verdicts(text: str, n: int) -> tuple[list[bool], list[bool]]:
    """(answerable, exposes_text) per candidate from the checker's numbered lines."""
    try:
        body = last_answer(text)
    except ParseError as err:
        raise ParseError("checker_unparseable", err.detail) from err
    verdicts: dict[int, tuple[bool, bool]] = {}
    for line in body.splitlines():
        if not line.strip():
            continue
        match = VERDICT_LINE.match(line)
        if match is None:
            raise ParseError("checker_unparseable", f"unexpected line {line.strip()[:80]!r}")
        verdicts[int(match[1])] = (match[2].lower() == "yes", match[3].lower() == "yes")
    if sorted(verdicts) != list(range(1, n + 1)):
        raise ParseError("checker_unparseable", f"verdicts for {sorted(verdicts)[:25]} of 1..{n}")
    return [verdicts[i][0] for i in range(1, n + 1)], [verdicts[i][1] for i in range(1, n + 1)]


def choose_prompt(
    candidates: list[str], answerable: list[bool], exposes: list[bool], seed: int
) -> str | None:
    """A uniform draw among candidates that are answerable and do not expose text."""
    valid = [
        c for c, ok, leak in zip(candidates, answerable, exposes, strict=True) if ok and not leak
    ]
    return random.Random(seed).choice(valid) if valid else None


def generate_prompts(
    rows: list[dict[str, Any]], backend: Backend, settings: dict[str, Any]
) -> StageOutput:
    n = settings["n_candidates"]
    sampling = Sampling.from_dict(settings["sampling"])
    seed = settings["seed"]
    requests = [
        Request(
            chat_ids(backend.tokenizer, prompt_messages(r["audio_description"], r["category"], n)),
            settings["max_tokens"],
            item_seed(seed, r["uid"], "prompts"),
            sampling,
        )
        for r in rows
    ]
    drops, pending, miscounted, tokens = [], [], 0, 0
    for row, result in zip(rows, backend.generate(requests), strict=True):
        tokens += len(result.token_ids)
        if drop := context_drop(row["uid"], result):
            drops.append(drop)
            continue
        try:
            candidates = json_string_list(last_answer(result.text))
            # A list of another length still holds usable candidates; extras are cut.
            miscounted += len(candidates) != n
            pending.append((row, candidates[:n]))
        except ParseError as err:
            reason = "candidates_unparseable" if err.reason == "no_answer_tag" else err.reason
            drops.append(Drop(row["uid"], reason, err.detail))
    checks = [
        Request(
            chat_ids(backend.tokenizer, checker_messages(row["audio_description"], candidates)),
            settings["checker_max_tokens"],
            item_seed(seed, row["uid"], "checker"),
            sampling,
        )
        for row, candidates in pending
    ]
    kept = []
    for (row, candidates), result in zip(pending, backend.generate(checks), strict=True):
        tokens += len(result.token_ids)
        if drop := context_drop(row["uid"], result):
            drops.append(drop)
            continue
        try:
            answerable, exposes = parse_verdicts(result.text, len(candidates))
        except ParseError as err:
            drops.append(Drop(row["uid"], err.reason, err.detail))
            continue
        prompt = choose_prompt(
            candidates, answerable, exposes, item_seed(seed, row["uid"], "choice")
        )
        if prompt is None:
            drops.append(Drop(row["uid"], "no_valid_prompt", "every candidate failed the checker"))
            continue
        kept.append(
            {
                "uid": row["uid"],
                "dataset": row["dataset"],
                "audio_description": row["audio_description"],
                "prompt_candidates": candidates,
                "candidate_answerable": answerable,
                "candidate_exposes_text": exposes,
                "prompt": prompt,
            }
        )
    stats = {
        "candidates_requests": len(requests),
        "checker_requests": len(checks),
        "candidate_lists_of_other_length": miscounted,
        "generated_tokens": tokens,
    }
    return StageOutput(kept, drops, stats)
