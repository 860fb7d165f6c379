"""The two-pass thinking budget, written once above the backend protocol.

Pass 1 runs with ``max_tokens = budget``. An item that stopped on its own is
done. An item cut off by the limit continues in pass 2 with the full token
limit: if it was cut inside its reasoning (no ``</think>`` yet) the fixed
sentence and ``</think>`` are appended first, closing the reasoning; if it was
cut in the answer, it simply continues. The final text is pass 1 + the
appended sentence + pass 2. An item whose pass-2 prompt would not fit the context
keeps pass 1's text and finishes ``prompt_too_long``. Used for self-rephrasing
(B = 1536) and for inference (B = 8192 of 16384).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from alarm.generation.backend import PROMPT_TOO_LONG, Backend, Request, Result

THINK_END = "</think>"
FORCED_CLOSE = (
    "\n\nConsidering the limited time by the user, I have to give the solution based on the "
    "thinking directly now.\n</think>\n\n"
)


@dataclass
class BudgetResult:
    text: str
    finish_reason: str  # of the last pass
    passes: int  # 1, or 2 when the budget cut pass 1
    forced_close: bool  # the closing sentence was appended
    tokens: int  # generated tokens over both passes


def generate_with_budget(
    backend: Backend, requests: list[Request], budget: int, max_tokens: int
) -> list[BudgetResult]:
    """Generate under a thinking budget; ``budget < 0`` means one pass with ``max_tokens``."""
    if budget < 0:
        first = backend.generate([r.with_tokens(max_tokens) for r in requests])
        return [BudgetResult(r.text, r.finish_reason, 1, False, len(r.token_ids)) for r in first]
    first = backend.generate([r.with_tokens(budget) for r in requests])
    results = [BudgetResult(r.text, r.finish_reason, 1, False, len(r.token_ids)) for r in first]
    again = [i for i, r in enumerate(first) if r.finish_reason == "length"]
    closings = ["" if THINK_END in first[i].text else FORCED_CLOSE for i in again]
    continuations = [
        _continue(backend, requests[i], first[i], closing, max_tokens)
        for i, closing in zip(again, closings, strict=True)
    ]
    for i, closing, second in zip(again, closings, backend.generate(continuations), strict=True):
        results[i].finish_reason = second.finish_reason
        if second.finish_reason == PROMPT_TOO_LONG:
            continue  # pass 1 filled the context: the item stays cut, with pass 1's text
        results[i].text += closing + second.text
        results[i].forced_close = bool(closing)
        results[i].passes = 2
        results[i].tokens += len(second.token_ids)
    return results


def _continue(
    backend: Backend, request: Request, first: Result, closing: str, max_tokens: int
) -> Request:
    """The pass-2 request: the prompt, pass 1's tokens and the closing, with the full limit."""
    closing_ids = (
        backend.tokenizer(closing, add_special_tokens=False)["input_ids"] if closing else []
    )
    extra = first.token_ids + closing_ids
    if request.prompt_embeds is not None:
        embeds = torch.cat([request.prompt_embeds, backend.embed(extra).to(request.prompt_embeds)])
        return Request(None, max_tokens, request.seed + 1, request.sampling, embeds)
    return Request(request.prompt_ids + extra, max_tokens, request.seed + 1, request.sampling)
