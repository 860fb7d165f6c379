"""Fixtures for the generation tests: the Qwen3 tokenizer and a scripted backend."""

from __future__ import annotations

import pytest
import torch

from alarm.generation.backend import Request, Result, within_context
from alarm.tiny.tokenizers import qwen3_tokenizer


class ScriptedBackend:
    """A test double of the backend protocol: prepared completions, every request recorded.

    ``script(request, call_index) -> (text, finish_reason)``; token ids are the
    tokenizer's ids of the text.
    """

    def __init__(self, tokenizer, script, hidden: int = 4, max_model_len: int = 1 << 20):
        self.tokenizer = tokenizer
        self.script = script
        self.calls: list[list[Request]] = []
        self.table = torch.nn.Embedding(len(tokenizer), hidden)
        self.max_model_len = max_model_len

    def generate(self, requests: list[Request]) -> list[Result]:
        # The real backends' context rule: only the requests that fit are sent (and recorded).
        return within_context(requests, self.max_model_len, self._generate)

    def _generate(self, requests: list[Request]) -> list[Result]:
        self.calls.append(list(requests))
        out = []
        for request in requests:
            text, reason = self.script(request, len(self.calls) - 1)
            ids = self.tokenizer(text, add_special_tokens=False)["input_ids"]
            out.append(Result(text, ids, reason))
        return out

    def embed(self, ids: list[int]) -> torch.Tensor:
        return self.table(torch.tensor(ids, dtype=torch.long))


@pytest.fixture(scope="session")
def tokenizer():
    return qwen3_tokenizer("qwen3_thinking")


@pytest.fixture
def scripted(tokenizer):
    """Make a scripted backend: ``scripted(script, max_model_len=...)``."""
    return lambda script, **options: ScriptedBackend(tokenizer, script, **options)
