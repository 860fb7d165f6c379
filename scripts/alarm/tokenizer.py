"""The backbone's tokenizer, from a pretrained directory (hub snapshot or tiny model).

Below the data layer: the answer-length filter and the corpus index count tokens.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path


def load_tokenizer(path: str | Path):
    from transformers import AutoTokenizer

    # transformers 4.57.3+ mistakes every local tokenizer for a Mistral one and warns
    # about its regex; saying "no fix" explicitly keeps Qwen's pre-tokenizer untouched.
    return AutoTokenizer.from_pretrained(str(path), fix_mistral_regex=False)


def token_counter(path: str | Path) -> Callable[[list[str]], list[int]]:
    """How many tokens the backbone's tokenizer makes of each text, special tokens not
    added: the fast tokenizer ``load_tokenizer`` wraps, read from the same
    ``tokenizer.json`` by the ``tokenizers`` library alone. Counting stages skip importing
    transformers, which took most of such a job's time (15 of 17 s, profiled)."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(Path(path) / "tokenizer.json"))

    def count(texts: list[str]) -> list[int]:
        return [len(e.ids) for e in tokenizer.encode_batch(texts, add_special_tokens=False)]

    return count
