"""R0: the reasoning LM answers the prompt from A_text (paper §2.1, stage 1 of self-rephrasing).

The system and user messages come from the run's texts (:mod:`alarm.texts`: ours,
or the authors' for the paper run); 512 tokens cover thinking and answer together,
so many R0 stop mid-reasoning (no ``</think>``). The chat template opens the
reasoning, so R0 holds only the closing tag. An empty R0 is kept, as the authors kept
it, or dropped (``empty: drop``, config/improved.yaml).
"""

from __future__ import annotations

from typing import Any

from alarm.generation.backend import (
    Backend,
    Request,
    Sampling,
    chat_ids,
    context_drop,
    item_seed,
)
from alarm.generation.parse import THINK_END
from alarm.ledger import FLAGGED, Drop
from alarm.stage import StageOutput
from alarm.texts import Texts


def r0_messages(texts: Texts, a_text: str, prompt: str) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": texts.r0_system()},
        {"role": "user", "content": texts.r0_user(a_text, prompt)},
    ]


def generate_r0(
    rows: list[dict[str, Any]], backend: Backend, settings: dict[str, Any], texts: Texts
) -> StageOutput:
    sampling = Sampling.from_dict(settings["sampling"])
    requests = [
        Request(
            chat_ids(backend.tokenizer, r0_messages(texts, r["audio_description"], r["prompt"])),
            settings["max_tokens"],
            item_seed(settings["seed"], r["uid"], "r0"),
            sampling,
        )
        for r in rows
    ]
    kept, drops, tokens, empty = [], [], 0, 0
    for row, result in zip(rows, backend.generate(requests), strict=True):
        tokens += len(result.token_ids)
        if drop := context_drop(row["uid"], result):
            drops.append(drop)
            continue
        if not result.text.strip():
            empty += 1
            if settings["empty"] == "drop":
                drops.append(Drop(row["uid"], "empty_response", f"finish: {result.finish_reason}"))
                continue
        kept.append(
            {
                "uid": row["uid"],
                "dataset": row["dataset"],
                "audio_description": row["audio_description"],
                "prompt": row["prompt"],
                "r0": result.text,
                "r0_finish_reason": result.finish_reason,
                "r0_complete": THINK_END in result.text,
                "r0_tokens": len(result.token_ids),
            }
        )
    truncated = sum(not r["r0_complete"] for r in kept)
    stats = {"r0_without_think_end": truncated, "generated_tokens": tokens}
    if settings["empty"] == "keep":
        stats[FLAGGED] = {"empty_response": empty}
    return StageOutput(kept, drops, stats)
