"""The generation backend protocol, shared by vLLM and transformers.

A request is a prompt (token ids, or input embeddings for the audio model),
a token limit, sampling settings and a seed. Seeds are derived from the item's
uid, so a shard rerun on the same backend reproduces its outputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal, Protocol

import torch

from alarm.sharding import stable_hash
from alarm.specs import Sampling

FinishReason = Literal["stop", "length"]


@dataclass
class Request:
    prompt_ids: list[int] | None
    max_tokens: int
    seed: int
    sampling: Sampling = field(default_factory=Sampling)
    prompt_embeds: torch.Tensor | None = None  # (T, D): the audio model's input

    def with_tokens(self, max_tokens: int) -> Request:
        return replace(self, max_tokens=max_tokens)


@dataclass
class Result:
    text: str
    token_ids: list[int]  # the generated tokens, end-of-sequence tokens left out
    finish_reason: FinishReason


class Backend(Protocol):
    tokenizer: object

    def generate(self, requests: list[Request]) -> list[Result]:
        """Results in request order."""

    def embed(self, ids: list[int]) -> torch.Tensor:
        """Input embeddings (len(ids), D) of token ids, to extend embedding prompts."""


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
