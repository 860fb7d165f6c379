"""The backbone's tokenizer, from a pretrained directory (hub snapshot or tiny model).

Below the data layer: the answer-length filter and the corpus index count tokens.
"""

from __future__ import annotations

from pathlib import Path


def load_tokenizer(path: str | Path):
    from transformers import AutoTokenizer

    # transformers 4.57.3+ mistakes every local tokenizer for a Mistral one and warns
    # about its regex; saying "no fix" explicitly keeps Qwen's pre-tokenizer untouched.
    return AutoTokenizer.from_pretrained(str(path), fix_mistral_regex=False)
