"""The audio description A_text, built exactly as the ALARM authors build it.

Facts (reference/datasets.md §1): durations go through Python's ``round``
(ties to even, so 2.5 s prints as ``2s``); captions are wrapped in ``|...|``;
metadata keys are lowercased in insertion order after ``duration``; values
are printed as ``str(value)``, unrounded; a multi-segment clip prints the
rounded end of its *last* segment as its duration, not the maximum.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

TextType = Literal["speech", "caption"]


def _clock(seconds: int) -> str:
    # Minutes are not capped at 59: 6001 s prints as "100:01".
    return f"{seconds // 60:02}:{seconds % 60:02}"


def _wrap(text: str, text_type: TextType) -> str:
    if text_type == "caption":
        return f"|{text}|"
    if text_type == "speech":
        return text
    raise ValueError(f"text_type must be 'speech' or 'caption', got {text_type!r}")


def audio_description(
    duration: float | Sequence[tuple[float, float, str]],
    text: str | Sequence[str],
    text_type: TextType = "speech",
    **metadata: Any,
) -> str:
    """A_text for one clip.

    One segment: ``duration`` is the clip length in seconds and ``text`` a str,
    giving ``[00:00-MM:SS] text (duration: Ns, key: value, ...)``.

    Several segments: ``text`` is a list of str and ``duration`` a list of
    ``(start, end, speaker_label)`` of the same length, giving
    ``[MM:SS-MM:SS, speaker_label] text [...] text (duration: Ns, ...)``.
    """
    if isinstance(text, str):
        if not isinstance(duration, int | float):
            raise TypeError("a single-segment description needs a numeric duration")
        total = round(duration)
        body = f"[00:00-{_clock(total)}] {_wrap(text, text_type)}"
    else:
        if isinstance(duration, int | float) or len(duration) != len(text):
            raise ValueError(
                "a multi-segment description needs one (start, end, speaker) per text segment"
            )
        if not text:
            raise ValueError("a multi-segment description needs at least one segment")
        body = " ".join(
            f"[{_clock(round(start))}-{_clock(round(end))}, {speaker}] {_wrap(t, text_type)}"
            for (start, end, speaker), t in zip(duration, text, strict=True)
        )
        total = round(duration[-1][1])
    fields = [f"duration: {total}s"] + [
        f"{key.lower()}: {value}" for key, value in metadata.items()
    ]
    return f"{body} ({', '.join(fields)})"
