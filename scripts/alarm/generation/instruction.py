"""Spoken-instruction subsets (HeySQuAD, InstructS2S): answers from the text, no rephrasing.

The question is a transcript of the audio, so the reasoning LM answers the
text directly and the answer is the target (R_text = R0): no system prompt,
no budget, 512 tokens. The with-context variant sees ``context\\nquestion``,
the no-context variant the question alone.
"""

from __future__ import annotations

from typing import Any

from alarm.data.items import VARIANTS, instruction_text
from alarm.generation.backend import (
    Backend,
    Request,
    Sampling,
    chat_ids,
    context_drop,
    item_seed,
)
from alarm.ledger import Drop
from alarm.stage import StageOutput


def instruction_responses(
    rows: list[dict[str, Any]], backend: Backend, settings: dict[str, Any]
) -> StageOutput:
    sampling = Sampling.from_dict(settings["sampling"])
    variants = [v for v in VARIANTS if v in settings["variants"]]
    requests = [
        Request(
            chat_ids(
                backend.tokenizer,
                [{"role": "user", "content": instruction_text(r["question"], r["context"], v)}],
            ),
            settings["max_tokens"],
            item_seed(settings["seed"], r["uid"], v),
            sampling,
        )
        for r in rows
        for v in variants
    ]
    generated = backend.generate(requests)
    results = iter(generated)
    kept, drops = [], []
    for row in rows:
        got = {v: next(results) for v in variants}
        if drop := next(filter(None, (context_drop(row["uid"], r) for r in got.values())), None):
            drops.append(drop)
            continue
        answers = {v: r.text for v, r in got.items()}
        empty = [v for v, text in answers.items() if not text.strip()]
        if empty:
            drops.append(Drop(row["uid"], "empty_response", f"variants {empty}"))
            continue
        kept.append(
            {
                "uid": row["uid"],
                "dataset": row["dataset"],
                "question": row["question"],
                "context": row["context"],
                "response_with_context": answers.get("with_context"),
                "response_no_context": answers.get("no_context"),
            }
        )
    tokens = sum(len(r.token_ids) for r in generated)
    return StageOutput(kept, drops, {"requests": len(requests), "generated_tokens": tokens})
