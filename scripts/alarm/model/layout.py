"""Where audio goes in the LLM input, for training, inference and the ALARM-E ensemble.

A layout is a list of pieces: text (a tuple of strings, each tokenised on its
own and concatenated, exactly as the authors build their ids) or the audio of
segment ``i`` (framed by that front end's start/end vectors).

- training (no system prompt): ``<|im_start|>user\\n`` [audio] ``{prompt}<|im_end|>\\n
  <|im_start|>assistant\\n<think>\\n`` + target (no EOS; loss on the target only);
- inference: the same after ``<|im_start|>system\\n{system}<|im_end|>\\n``;
- ALARM-E: the ensemble instruction and one line per pass before each model's
  audio segment (the run's texts, :mod:`alarm.texts`); the system prompt only in
  segment 0.
"""

from __future__ import annotations

from dataclasses import dataclass

from alarm.texts import Texts, load_texts


@dataclass(frozen=True)
class Text:
    parts: tuple[str, ...]
    is_target: bool = False


@dataclass(frozen=True)
class AudioSegment:
    index: int


Piece = Text | AudioSegment


def _user_turn(tokenizer, prompt: str) -> tuple[str, str]:
    """Split the templated user turn after ``<|im_start|>user\\n``: audio goes in between."""
    text = tokenizer.apply_chat_template(
        [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
    )
    head, _, rest = text.partition("\n")
    return head + "\n", rest


def training_layout(tokenizer, prompt: str, target: str) -> list[Piece]:
    start, main = _user_turn(tokenizer, prompt)
    return [Text((start,)), AudioSegment(0), Text((main,)), Text((target,), is_target=True)]


def inference_layout(
    tokenizer, prompt: str, system: str, n_segments: int = 1, texts: Texts | None = None
) -> list[Piece]:
    """The inference input; ALARM-E's joining texts from ``texts`` (default: ours)."""
    texts = texts or load_texts()
    system_turn = tokenizer.apply_chat_template(
        [{"role": "system", "content": system}], tokenize=False, add_generation_prompt=False
    )
    start, main = _user_turn(tokenizer, prompt)
    if n_segments == 1:
        return [Text((system_turn,)), Text((start,)), AudioSegment(0), Text((main,))]
    pieces: list[Piece] = [
        Text((system_turn,)),
        Text(
            (
                start,
                texts.ensemble_instruction(n_segments),
                texts.ensemble_pass(1, n_segments),
            )
        ),
    ]
    for i in range(n_segments):
        if i:
            pieces.append(Text((texts.ensemble_pass(i + 1, n_segments),)))
        pieces.append(AudioSegment(i))
        pieces.append(Text(("\n", main) if i == n_segments - 1 else ("\n",)))
    return pieces


def piece_ids(tokenizer, piece: Text) -> list[int]:
    return [
        token
        for part in piece.parts
        for token in tokenizer(part, add_special_tokens=False)["input_ids"]
    ]
