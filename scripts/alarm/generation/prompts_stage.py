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

import pyarrow as pa

from alarm.generation.backend import Backend, Request, Sampling, chat_ids, item_seed
from alarm.generation.parse import ParseError, json_string_list, last_answer
from alarm.ledger import Drop
from alarm.stage import StageOutput

CATEGORY_NOTES = {
    "speech": "clips of one person speaking, sometimes with noise or recording artefacts",
    "multi_speaker": "conversations and mixtures of several speakers",
    "sound": "environmental sounds and sound events",
    "music": "music: notes, instruments, songs and their qualities",
}

DESCRIPTION_FORMAT = (
    "You never hear the clip. You receive its description instead: a time span "
    "[MM:SS-MM:SS] (with the speaker for conversations), then what is said (a transcript) "
    "or, between vertical bars |like this|, a caption or label of the sound, and finally, in "
    "parentheses, the facts known about the clip: its duration and properties such as the "
    "speakers, the language, the recording conditions, or the qualities of the sound or music."
)

PROMPT_RULES = """You write instructions and questions that a user could give an audio-understanding assistant about one audio clip. {description_format}

This corpus holds {category_note}.

Write exactly {n} different prompts for the clip, following these rules:
1. Every prompt must be answerable from the described facts alone. Never ask about anything the description does not state (for example the recording place, the noise level or a speaker's age when they are not given).
2. Refer to the clip only as sound: "the audio", "the recording", "the speaker", "what you hear". Never mention a description, metadata, labels, captions, tags, fields, a transcript or any text, and never quote the facts in a way that gives the answer away.
3. Vary the task: direct questions, yes/no questions, multiple-choice questions with their options, requests to describe or summarise, transcription or translation of the speech when a transcript is given, counting, comparisons, step-by-step reasoning about the content, and creative tasks grounded in what is heard.
4. Vary wording and length; no two prompts may ask the same thing in the same way.
5. Write about a quarter of the prompts in languages other than English (for example Chinese, Spanish, French, German, Russian or Japanese) and the rest in English.
6. Each prompt stands alone: no numbering, no answers, no explanations.

Return the prompts as a JSON list of strings between <answer> and </answer>, with nothing after </answer>."""

CHECKER_RULES = """You check prompts written for an audio-understanding assistant. {description_format}

For one clip you receive its description and a numbered list of prompts. For every prompt decide:
- answerable: can it be answered correctly from the described facts alone? A prompt about anything the description does not state is not answerable.
- exposes text: does it reveal that the clip comes with a written description, for example by mentioning a description, metadata, labels, tags, captions, a transcript or "provided information", or by quoting the facts so that the answer is given away?

Answer with one line per prompt, in order, between <answer> and </answer>, exactly like this:
<answer>
1. answerable: yes; exposes text: no
2. answerable: no; exposes text: no
</answer>"""

VERDICT_LINE = re.compile(
    r"^\s*(\d+)\s*[.)]\s*answerable\s*:\s*(yes|no)\s*;\s*exposes text\s*:\s*(yes|no)\s*$",
    re.IGNORECASE,
)

PROMPTS_SCHEMA = pa.schema(
    [
        ("uid", pa.string()),
        ("dataset", pa.string()),
        ("audio_description", pa.string()),
        ("prompt_candidates", pa.list_(pa.string())),
        ("candidate_answerable", pa.list_(pa.bool_())),
        ("candidate_exposes_text", pa.list_(pa.bool_())),
        ("prompt", pa.string()),
    ]
)


def prompt_messages(a_text: str, category: str, n: int) -> list[dict[str, str]]:
    system = PROMPT_RULES.format(
        description_format=DESCRIPTION_FORMAT, category_note=CATEGORY_NOTES[category], n=n
    )
    return [{"role": "system", "content": system},
            {"role": "user", "content": f"Audio description:\n{a_text}"}]  # fmt: skip


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


def choose_prompt(candidates: list[str], answerable: list[bool], exposes: list[bool],
                  seed: int) -> str | None:  # fmt: skip
    """A uniform draw among candidates that are answerable and do not expose text."""
    valid = [
        c for c, ok, leak in zip(candidates, answerable, exposes, strict=True) if ok and not leak
    ]
    return random.Random(seed).choice(valid) if valid else None


def generate_prompts(
    rows: list[dict[str, Any]], backend: Backend, settings: dict[str, Any]
) -> StageOutput:
    n = settings["n_candidates"]
    sampling = Sampling.from_settings(settings["sampling"])
    seed = settings["seed"]
    requests = [
        Request(
            chat_ids(backend.tokenizer, prompt_messages(r["audio_description"], r["category"], n)),
            settings["max_tokens"], item_seed(seed, r["uid"], "prompts"), sampling,
        )
        for r in rows
    ]  # fmt: skip
    drops, pending = [], []
    for row, result in zip(rows, backend.generate(requests), strict=True):
        try:
            pending.append((row, json_string_list(last_answer(result.text), expected=n)))
        except ParseError as err:
            reason = "candidates_unparseable" if err.reason == "no_answer_tag" else err.reason
            drops.append(Drop(row["uid"], reason, err.detail))
    checks = [
        Request(
            chat_ids(backend.tokenizer, checker_messages(row["audio_description"], candidates)),
            settings["checker_max_tokens"], item_seed(seed, row["uid"], "checker"), sampling,
        )
        for row, candidates in pending
    ]  # fmt: skip
    kept = []
    for (row, candidates), result in zip(pending, backend.generate(checks), strict=True):
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
        kept.append({
            "uid": row["uid"], "dataset": row["dataset"],
            "audio_description": row["audio_description"], "prompt_candidates": candidates,
            "candidate_answerable": answerable, "candidate_exposes_text": exposes,
            "prompt": prompt,
        })  # fmt: skip
    stats = {"candidates_requests": len(requests), "checker_requests": len(checks)}
    return StageOutput(kept, drops, stats)
