"""Self-rephrasing (paper §2.1, stage 2): R0 rewritten in audio-grounded wording.

The same frozen reasoning LM rewrites R0 under rules ``I_reph`` (the run's texts,
:mod:`alarm.texts`: ours, written from the paper, or the authors'): light edits only, text-oriented
words replaced by auditory ones, the same structure, length and meaning, and
a truncated response left truncated. R0's reasoning tags are renamed so the
rephraser does not take that reasoning for its own. The rephraser's own
reasoning is capped by the thinking budget (B = 1536); its answer, inside
``<answer>``, holds the rewritten reasoning and answer.

The target is ``reasoning\\n</think>\\n\\nanswer`` with no opening tag (the
training prompt ends in ``<think>\\n``) and no EOS, all of it from the rephraser
(R0 only says whether its reasoning was complete); a truncated R0 gives a
reasoning-only target. How the output is read is the setting ``parse``:

- ``authors`` (their ``generate_responses.py``): every output is kept. The text after
  the last ``<answer>`` (up to ``</answer>``, else to the end; the whole output when
  there is no ``<answer>``, the rephraser's own reasoning and ``</think>`` included)
  with the reasoning tags renamed back; the stage's ``kept_flagged`` statistics count
  the outputs without an ``<answer>`` or with an unclosed one;
- ``strict``: outputs that lose the structure, come back empty or leak the budget
  sentence, the rephraser's reasoning or the rephrasing tags are dropped with their
  reason, since a target without an answer, or with the rephraser's thinking, teaches
  the model to emit just that.

An optional LLM leak checker (off in the paper's run) regenerates items it rejects,
a bounded number of times, in either mode.
"""

from __future__ import annotations

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
from alarm.generation.budget import FORCED_CLOSE, generate_with_budget
from alarm.generation.parse import (
    THINK_END,
    ParseError,
    after_reasoning,
    answer_region,
    last_answer,
)
from alarm.ledger import FLAGGED, Drop
from alarm.stage import StageOutput
from alarm.texts import Texts

REASONING_OPEN, REASONING_CLOSE = "<text_llm_reasoning>", "</text_llm_reasoning>"
THINK_START = "<think>"

LEAK_VERDICT = re.compile(r"ANSWER:\s*(YES|NO)\s*$", re.IGNORECASE)
# Pieces of the rephrasing machinery that must never reach a target.
LEAK_MARKERS = (
    REASONING_OPEN,
    REASONING_CLOSE,
    "<answer>",
    "</answer>",
    "TEXT_LLM_RESPONSE",
    "MODIFIED_RESPONSE",
    "<think>",
)
BUDGET_SENTENCE = FORCED_CLOSE.strip().splitlines()[0]


def prepare_r0(r0: str) -> tuple[str, bool]:
    """R0 with its reasoning tags renamed, and whether its reasoning was complete.

    R0 never holds ``<think>`` (the template opens it), so the opening tag is added;
    a missing ``</think>`` means the 512-token cap cut the reasoning.
    """
    complete = THINK_END in r0
    text = r0 if opens_reasoning(r0) else THINK_START + "\n" + r0
    if not complete:
        text += "\n</think>"
    return text.replace("<think>", REASONING_OPEN).replace(THINK_END, REASONING_CLOSE), complete


def opens_reasoning(r0: str) -> bool:
    """R0 holds its own ``<think>``: never under a template that opens the reasoning.

    The authors decide this once per batch, on its first item; here each item decides.
    """
    return r0.lstrip().startswith(THINK_START)


def rephrase_messages(texts: Texts, prepared: str, row: dict[str, Any]) -> list[dict[str, str]]:
    """The rephraser's messages for a prepared R0 of ``row`` (its description and prompt)."""
    return [
        {"role": "system", "content": texts.rephrase_system()},
        {
            "role": "user",
            "content": texts.rephrase_user(prepared, row["audio_description"], row["prompt"]),
        },
    ]


def reassemble(output: str, complete: bool) -> str:
    """The training target from the rephraser's output.

    Complete R0: ``reasoning\\n</think>\\n\\nanswer``; truncated R0: the reasoning alone.
    The opening tag is always removed (the authors would restore ``<think>`` when R0
    held one, which would double the ``<think>`` the training prompt ends with).
    """
    body = last_answer(after_reasoning(output))
    if body.count(REASONING_OPEN) > 1 or body.count(REASONING_CLOSE) > 1:
        raise ParseError("structure_lost", "reasoning tags repeated")
    body = body.replace(REASONING_OPEN, "", 1).lstrip()
    if complete:
        reasoning, closed, answer = body.partition(REASONING_CLOSE)
        if not closed or not reasoning.strip() or not answer.strip():
            raise ParseError("structure_lost", "the reasoning or the answer is missing")
        target = f"{reasoning.rstrip()}\n{THINK_END}\n\n{answer.strip()}"
    else:
        target = body.replace(REASONING_CLOSE, "").rstrip()
    if not target.strip():
        raise ParseError("empty_rephrasing")
    if BUDGET_SENTENCE in target:
        raise ParseError("leaked_budget_sentence", "the budget sentence is in the target")
    leaked = [m for m in LEAK_MARKERS if m in target]
    if target.count(THINK_END) != int(complete):
        leaked.append(THINK_END)
    if leaked:
        raise ParseError("leaked_rephraser_thinking", f"{leaked} in the target")
    return target


def reassemble_as_authors(output: str, complete: bool, opened: bool) -> tuple[str, str | None]:
    """The authors' target from the rephraser's output, and which ``<answer>`` tag it lacked.

    Nothing is refused: with no ``<answer>`` the whole output, the rephraser's reasoning
    and its ``</think>`` included, becomes the target. The opening reasoning tag becomes
    ``<think>`` again when R0 held one (``opened``), else it goes; the closing one becomes
    ``</think>`` when R0 was complete, else it goes.
    """
    body, missing = answer_region(output)
    body = body.strip()
    if opened:
        body = body.replace(REASONING_OPEN, THINK_START)
    else:
        body = body.replace(REASONING_OPEN, "").lstrip()
    if complete:
        body = body.replace(REASONING_CLOSE, THINK_END)
    else:
        body = body.replace(REASONING_CLOSE, "").rstrip()
    return body, missing


def parse_rephrasing(output: str, r0: str, complete: bool, mode: str) -> tuple[str, str | None]:
    """The target under ``parse`` mode ``mode``, and the missing ``<answer>`` tag it was kept
    without (``authors`` only); ``strict`` raises :class:`ParseError` instead."""
    if mode == "authors":
        return reassemble_as_authors(output, complete, opens_reasoning(r0))
    if mode == "strict":
        return reassemble(output, complete), None
    raise ValueError(f"unknown rephrasing parse mode {mode!r}")


def leak_checker_messages(texts: Texts, target: str, row: dict[str, Any]) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": texts.checker_system()},
        {
            "role": "user",
            "content": texts.checker_user(target, row["audio_description"], row["prompt"]),
        },
    ]


def leak_rejected(text: str) -> bool:
    """True unless the checker's last line says ``ANSWER: NO`` (unparseable counts as rejected)."""
    lines = after_reasoning(text).strip().splitlines()
    match = LEAK_VERDICT.search(lines[-1]) if lines else None
    return match is None or match[1].upper() == "YES"


def rephrase(
    rows: list[dict[str, Any]],
    backend: Backend,
    settings: dict[str, Any],
    texts: Texts,
    checker: Backend | None = None,
) -> StageOutput:
    sampling = Sampling.from_dict(settings["sampling"])
    prepared = {r["uid"]: prepare_r0(r["r0"]) for r in rows}
    budget, limit = settings["thinking_budget"], settings["max_tokens"]
    check = settings["leak_checker"]
    tries = check["max_tries"] if checker is not None else 1
    by_uid = {r["uid"]: r for r in rows}
    todo, kept, drops = list(by_uid), [], []
    last_failure: dict[str, Drop] = {}
    stats = {"pass2": 0, "forced_close": 0, "generated_tokens": 0, "leak_rejections": 0}
    flagged = stats[FLAGGED] = {"no_answer_tag": 0, "unclosed_answer_tag": 0}
    for attempt in range(tries):
        requests = [
            Request(
                chat_ids(
                    backend.tokenizer, rephrase_messages(texts, prepared[uid][0], by_uid[uid])
                ),
                limit,
                item_seed(settings["seed"], uid, f"rephrase/{attempt}"),
                sampling,
            )
            for uid in todo
        ]
        candidates = {}
        for uid, result in zip(
            todo, generate_with_budget(backend, requests, budget, limit), strict=True
        ):
            stats["pass2"] += result.passes == 2
            stats["forced_close"] += result.forced_close
            stats["generated_tokens"] += result.tokens
            if drop := context_drop(uid, result):
                last_failure[uid] = drop
                continue
            try:
                target, missing = parse_rephrasing(
                    result.text, by_uid[uid]["r0"], prepared[uid][1], settings["parse"]
                )
                candidates[uid] = (target, result, missing)
            except ParseError as err:
                last_failure[uid] = Drop(uid, err.reason, err.detail)
        accepted = set(candidates)
        if checker is not None and candidates:
            verdicts = checker.generate(
                [
                    Request(
                        chat_ids(
                            checker.tokenizer, leak_checker_messages(texts, target, by_uid[uid])
                        ),
                        check["max_tokens"],
                        item_seed(settings["seed"], uid, f"leak/{attempt}"),
                        sampling,
                    )
                    for uid, (target, _, _) in candidates.items()
                ]
            )
            for uid, verdict in zip(list(candidates), verdicts, strict=True):
                if drop := context_drop(uid, verdict):  # unchecked is not accepted
                    accepted.discard(uid)
                    last_failure[uid] = drop
                elif leak_rejected(verdict.text):
                    accepted.discard(uid)
                    stats["leak_rejections"] += 1
                    last_failure[uid] = Drop(uid, "leak_checker_rejected", f"attempt {attempt + 1}")
        for uid in accepted:
            target, result, missing = candidates[uid]
            if missing is not None:
                flagged[missing] += 1
            row = by_uid[uid]
            kept.append(
                {
                    "uid": uid,
                    "dataset": row["dataset"],
                    "prompt": row["prompt"],
                    "r0": row["r0"],
                    "r0_complete": prepared[uid][1],
                    "target": target,
                    "rephrase_passes": result.passes,
                    "rephrase_forced_close": result.forced_close,
                    "rephrase_tokens": result.tokens,
                    "rephrase_attempts": attempt + 1,
                }
            )
            last_failure.pop(uid, None)
        todo = [uid for uid in todo if uid not in accepted]
        if not todo:
            break
    drops.extend(last_failure[uid] for uid in todo)
    stats["items"] = len(rows)
    return StageOutput(kept, drops, stats)
