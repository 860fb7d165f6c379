"""The generation backend protocol, shared by vLLM and transformers.

A request is a prompt (token ids, or input embeddings for the audio model),
a token limit, sampling settings and a seed. Seeds are derived from the item's
uid, so a shard rerun on the same backend reproduces its outputs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal, Protocol

import torch

from alarm.ledger import Drop
from alarm.sharding import stable_hash
from alarm.specs import Sampling

log = logging.getLogger(__name__)

# prompt_too_long: the request was not sent, its prompt fills the context (max_model_len).
FinishReason = Literal["stop", "length", "prompt_too_long"]
PROMPT_TOO_LONG = "prompt_too_long"


@dataclass
class Request:
    prompt_ids: list[int] | None
    max_tokens: int
    seed: int
    sampling: Sampling = field(default_factory=Sampling)
    prompt_embeds: torch.Tensor | None = None  # (T, D): the audio model's input

    def with_tokens(self, max_tokens: int) -> Request:
        return replace(self, max_tokens=max_tokens)

    def prompt_length(self) -> int:
        """In positions: tokens, or rows of the embeddings."""
        if self.prompt_embeds is not None:
            return len(self.prompt_embeds)
        return len(self.prompt_ids or [])


@dataclass
class Result:
    text: str
    token_ids: list[int]  # the generated tokens, end-of-sequence tokens left out
    finish_reason: FinishReason


class Backend(Protocol):
    tokenizer: object
    max_model_len: int  # prompt + output positions: longer prompts are not sent

    def generate(self, requests: list[Request]) -> list[Result]:
        """Results in request order."""

    def embed(self, ids: list[int]) -> torch.Tensor:
        """Input embeddings (len(ids), D) of token ids, to extend embedding prompts."""


def within_context(
    requests: list[Request], max_model_len: int, generate: Callable[[list[Request]], list[Result]]
) -> list[Result]:
    """vLLM's context rule, for every backend: a prompt of ``max_model_len`` positions or
    more is answered ``prompt_too_long`` without being sent (vLLM would refuse the whole
    batch, and one long item would fail its shard on every rerun), and a generation stops
    where prompt and output fill the context (finish ``length``)."""
    fits = [i for i, r in enumerate(requests) if r.prompt_length() < max_model_len]
    if len(fits) < len(requests):
        longest = max(r.prompt_length() for r in requests)
        log.warning(
            "%d of %d prompts do not fit max_model_len %d (the longest has %d positions): "
            "not sent, answered %s",
            len(requests) - len(fits), len(requests), max_model_len, longest, PROMPT_TOO_LONG,
        )  # fmt: skip
    results = [Result("", [], PROMPT_TOO_LONG) for _ in requests]
    room = {i: max_model_len - requests[i].prompt_length() for i in fits}
    sent = [requests[i].with_tokens(min(requests[i].max_tokens, room[i])) for i in fits]
    for i, result in zip(fits, generate(sent) if sent else [], strict=True):
        results[i] = result
    return results


def context_drop(uid: str, result: Result) -> Drop | None:
    """The drop of an item whose prompt did not fit the context (see ``within_context``)."""
    if result.finish_reason != PROMPT_TOO_LONG:
        return None
    return Drop(uid, PROMPT_TOO_LONG, "the prompt (with pass 1, if any) fills max_model_len")


def item_seed(base_seed: int, uid: str, purpose: str) -> int:
    """A per-item, per-purpose sampling seed in [0, 2^31)."""
    return stable_hash(f"{base_seed}/{purpose}/{uid}") % (2**31)


def chat_ids(tokenizer, messages: list[dict[str, str]]) -> list[int]:
    """Token ids of a chat prompt, generation prompt included, through the model's template."""
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def shared_prefix_fraction(prompts: list[list[int]]) -> float:
    """Share of prompt tokens equal to the previous prompt's prefix (prefix-cache hits, roughly)."""
    shared = total = 0
    previous: list[int] = []
    for ids in prompts:
        n = 0
        for a, b in zip(previous, ids, strict=False):
            if a != b:
                break
            n += 1
        shared, total, previous = shared + n, total + len(ids), ids
    return shared / total if total else 0.0


def prefix_order(requests: list[Request]) -> list[int]:
    """Indices ordering requests so that prompts sharing a prefix are adjacent.

    vLLM's prefix cache reuses blocks of a prefix while it is resident; sorting
    token-id prompts lexicographically puts every common system prompt and every
    repeated A_text next to each other.
    """
    return sorted(
        range(len(requests)),
        key=lambda i: (requests[i].prompt_ids is None, requests[i].prompt_ids or []),
    )
