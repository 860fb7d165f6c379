"""Teaching a random tiny LM the output formats of the generation stages (default config only).

A randomly initialised tiny Qwen3 would answer every stage with noise, so the
laptop-scale run would drop every item at its first parse. Before the
pipeline runs, the tiny prompt LM and reasoning LM are trained for a few
hundred steps on completions a deterministic teacher writes for the stages'
real prompts (the very messages the stages build, in the run's texts: ours, or
the authors' with ``texts: authors``) about synthetic clips:
candidate lists in ``<answer>`` tags, numbered checker verdicts, reasoning
closed by ``</think>``, rephrasings in the tagged layout, leak verdicts.
The tiny models then produce parseable output often enough to carry items
through every stage, and malformed output often enough to exercise every
drop. The paper's models need none of this; at paper scale it never runs.

Only the logits of tokens the teacher uses are trained (a sampled softmax
over that subset), which keeps a 151,936-token vocabulary cheap on a CPU.
"""

from __future__ import annotations

import json
import logging
import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from alarm.data import synthetic
from alarm.data.describe import audio_description
from alarm.data.items import instruction_text
from alarm.generation.backend import chat_ids
from alarm.generation.prompts_stage import checker_messages, prompt_messages
from alarm.generation.r0 import r0_messages
from alarm.generation.rephrase import leak_checker_messages, prepare_r0, rephrase_messages
from alarm.texts import OURS, Texts, load_texts

log = logging.getLogger(__name__)

QUESTIONS = {
    "gender": [
        "Is the speaker male or female?",
        "What is the gender of the speaker?",
        "Le locuteur est-il un homme ou une femme ?",
        "说话人是男性还是女性？",
    ],
    "language": [
        "Which language is spoken?",
        "In what language does the person speak?",
        "¿En qué idioma habla la persona?",
    ],
    "speaking rate": [
        "How fast does the speaker talk?",
        "Is the speech slow, normal or fast?",
        "Spricht die Person schnell oder langsam?",
    ],
    "noise": ["Is there background noise in the recording?", "Describe the noise you hear."],
    "snr": ["How strong is the noise compared with the voice?"],
    "the number of speakers": ["How many people speak?", "How many speakers take part?"],
    "the first speaker's gender": ["Is the first speaker a man or a woman?"],
    "sound category": [
        "What sound do you hear?",
        "Which sound event occurs?",
        "¿Qué sonido se escucha?",
    ],
    "number of events": ["How many times does the sound occur?", "Count the sound events."],
    "note name": ["Which note is played?", "Name the pitch of the note."],
    "timbre": ["Describe the timbre of the instrument.", "What does the instrument sound like?"],
    "chord": ["Is the chord major or minor?", "Which chord is played?"],
    "transcript": [
        "Transcribe what the speaker says.",
        "What does the speaker say?",
        "Translate the speech into English.",
    ],
}
GENERIC = [
    "Describe the audio in one sentence.",
    "What can you hear?",
    "Summarise the recording.",
    "Décrivez ce que vous entendez.",
    "请描述这段音频。",
    "Give a short caption of the audio.",
]
UNANSWERABLE = [
    "How old is the speaker?",
    "Where was this recorded?",
    "What is the speaker's name?",
]
LEAKY = [
    "According to the description, what do you hear?",
    "What does the metadata say?",
    "Read the caption of the audio.",
]
TEXT_WORDS = [
    ("From the description", "From the audio"),
    ("the description", "the audio"),
    ("The metadata says", "I hear that"),
    ("metadata", "audio"),
    ("mentioned", "heard"),
    ("provided", "heard"),
]


@dataclass
class Clip:
    category: str
    a_text: str
    facts: dict[str, Any]


def sample_clips(n: int, seed: int) -> list[Clip]:
    """Synthetic clip descriptions like the synthetic corpus's, without rendering audio."""
    rng = random.Random(seed)
    clips = []
    for i in range(n):
        kind = i % 4
        duration = rng.uniform(1.0, 9.0)
        if kind == 0:
            p = synthetic._speech_params(seed, "fit", i)
            facts = {
                "gender": p["gender"],
                "language": p["language"],
                "speaking rate": p["rate"],
                "noise": p["noise"] or synthetic.CLEAN,
                "snr": p["snr"] if p["noise"] else 100,
            }
            text = audio_description(duration, p["text"], "speech", **facts)
            clips.append(Clip("speech", text, facts | {"transcript": p["text"]}))
        elif kind == 1:
            facts = {
                "the first speaker's gender": rng.choice(["Male", "Female"]),
                "the second speaker's gender": rng.choice(["Male", "Female"]),
                "the number of speakers": 2,
            }
            lines = rng.sample(synthetic.SENTENCES["English"], 2)
            cut = duration / 2
            segments = [(0.0, cut, "the first speaker"), (cut, duration, "the second speaker")]
            clips.append(
                Clip(
                    "multi_speaker",
                    audio_description(segments, lines, "speech", **facts),
                    facts | {"transcript": " ".join(lines)},
                )
            )
        elif kind == 2:
            event = rng.choice(synthetic.SOUND_EVENTS)
            facts = {"sound category": event, "number of events": rng.randint(1, 5)}
            clips.append(
                Clip(
                    "sound",
                    audio_description(duration, event.capitalize(), "caption", **facts),
                    facts,
                )
            )
        else:
            root = rng.randint(48, 72)
            if rng.random() < 0.5:
                facts = {
                    "midi pitch": f"{root} out of 127",
                    "note name": synthetic.note_name(root),
                    "timbre": rng.choice(synthetic.TIMBRES),
                }
                caption = "Musical note"
            else:
                facts = {
                    "chord": f"{synthetic.NOTE_NAMES[root % 12]} {rng.choice(['major', 'minor'])}",
                    "root note": synthetic.note_name(root),
                    "timbre": rng.choice(synthetic.TIMBRES),
                }
                caption = "Chord"
            clips.append(
                Clip("music", audio_description(duration, caption, "caption", **facts), facts)
            )
    return clips


def teacher_prompts(clip: Clip, n: int, rng: random.Random) -> list[str]:
    pool = [q for key in clip.facts if key in QUESTIONS for q in QUESTIONS[key]] + GENERIC
    bad = max(1, n // 5)  # some candidates the checker must reject
    prompts = rng.sample(pool, min(len(pool), n - bad)) + rng.sample(UNANSWERABLE + LEAKY, bad)
    while len(prompts) < n:
        prompts.append(rng.choice(GENERIC) + f" ({len(prompts)})")
    rng.shuffle(prompts)
    return prompts[:n]


def teacher_verdicts(candidates: list[str]) -> str:
    lines = [
        f"{i}. answerable: {'no' if c in UNANSWERABLE else 'yes'}; "
        f"exposes text: {'yes' if c in LEAKY else 'no'}"
        for i, c in enumerate(candidates, 1)
    ]
    return "<answer>\n" + "\n".join(lines) + "\n</answer>"


def teacher_r0(clip: Clip, prompt: str, rng: random.Random) -> str:
    facts = [f"the {k} is {v}" for k, v in clip.facts.items() if k != "transcript"]
    facts = rng.sample(facts, min(len(facts), 3))
    reasoning = (
        f'Okay, the user asks: "{prompt}". From the description, {"; ".join(facts)}. '
        + " ".join(
            rng.sample(
                [
                    "Let me check each detail carefully.",
                    "The metadata mentioned is clear.",
                    "I should answer directly and briefly.",
                    "The duration is short.",
                    "There is nothing else to consider.",
                    "Let me make sure the answer fits the question.",
                ],
                rng.randint(0, 2),
            )
        )
    )
    key, value = rng.choice([(k, v) for k, v in clip.facts.items()])
    return f"{reasoning}\n</think>\n\nThe {key} is {value}."


def teacher_rephrase(r0_prepared: str, rng: random.Random) -> str:
    body = r0_prepared
    for text_word, audio_word in TEXT_WORDS:
        body = body.replace(text_word, audio_word)
    thinking = " ".join(
        rng.sample(
            [
                "I need to replace the words that refer to text.",
                "The structure must stay the same.",
                "I keep the answer and change only a few words.",
                "Now I write the modified response.",
                "The response mentions the description, so I change that.",
            ],
            rng.randint(1, 5),
        )
    )
    return f"{thinking}\n</think>\n\n<answer>\n{body}\n</answer>"


def teacher_leak_verdict(target: str) -> str:
    leaks = any(word in target for word in ("description", "metadata", "caption"))
    return (
        f"The response {'mentions' if leaks else 'does not mention'} a description.\n"
        f"ANSWER: {'YES' if leaks else 'NO'}"
    )


def teacher_examples(
    roles: list[str], tokenizer, n: int, seed: int, n_candidates: int, texts: Texts
) -> list[tuple[list[int], list[int]]]:
    """(prompt ids, completion ids) pairs for the given roles, the stages' messages built from
    ``texts``; completions end with <|im_end|>."""
    rng = random.Random(seed)
    end = [tokenizer.convert_tokens_to_ids("<|im_end|>")]
    pairs: list[tuple[list[dict[str, str]], str]] = []
    for clip in sample_clips(n, seed):
        candidates = teacher_prompts(clip, n_candidates, rng)
        prompt = rng.choice([c for c in candidates if c not in UNANSWERABLE + LEAKY])
        row = {"audio_description": clip.a_text, "prompt": prompt}
        r0 = teacher_r0(clip, prompt, rng)
        if rng.random() < 0.3:  # a response cut by the 512-token cap
            r0 = r0.split("\n</think>")[0][: rng.randint(40, 200)]
        if "prompter" in roles:
            pairs.append(
                (
                    prompt_messages(clip.a_text, clip.category, n_candidates),
                    f"<answer>{json.dumps(candidates, ensure_ascii=False)}</answer>",
                )
            )
        if "checker" in roles:
            pairs.append((checker_messages(clip.a_text, candidates), teacher_verdicts(candidates)))
            pairs.append((leak_checker_messages(texts, r0, row), teacher_leak_verdict(r0)))
        if "reasoner" in roles:
            pairs.append((r0_messages(texts, clip.a_text, prompt), teacher_r0(clip, prompt, rng)))
            question = rng.choice(synthetic.PASSAGES)
            text = instruction_text(
                question[1][0][0], question[0], rng.choice(["with_context", "no_context"])
            )
            pairs.append(
                (
                    [{"role": "user", "content": text}],
                    f"The question asks about a short passage. Let me answer.\n</think>\n\n"
                    f"{question[0].split('.')[0]}.",
                )
            )
        if "answerer" in roles:  # the benchmarks' multiple-choice layout (no A_text there)
            question = rng.choice(QUESTIONS[rng.choice(list(QUESTIONS))])
            choices = rng.sample(["yes", "no", "a dog", "music", "English", "two", "fast"], 4)
            pick = rng.randrange(len(choices))
            pairs.append(
                (
                    [
                        {"role": "system", "content": texts.mcqa_system()},
                        {"role": "user", "content": texts.mcqa_user(question, choices)},
                    ],
                    f"The question asks: {question} Option {pick} fits what I hear.\n</think>\n\n"
                    f"<answer>{pick}</answer>",
                )
            )
        if "rephraser" in roles:
            # The longest copy task: seen twice as often as the others.
            for response in (r0, teacher_r0(clip, prompt, rng)):
                prepared, _ = prepare_r0(response)
                pairs.append(
                    (rephrase_messages(texts, prepared, row), teacher_rephrase(prepared, rng))
                )
    return [
        (
            chat_ids(tokenizer, messages),
            tokenizer(completion, add_special_tokens=False)["input_ids"] + end,
        )
        for messages, completion in pairs
    ]


def format_fit(
    model_dir: str | Path, spec: dict[str, Any], seed: int, n_candidates: int, texts: str = OURS
) -> dict[str, float]:
    """Fit the tiny LM in ``model_dir`` to the teacher's completions of the stages' messages
    in the run's ``texts`` (ours, or the authors' bundle), and save it in place."""
    from transformers import AutoModelForCausalLM

    from alarm.tokenizer import load_tokenizer

    torch.manual_seed(seed)
    tokenizer = load_tokenizer(model_dir)
    model = AutoModelForCausalLM.from_pretrained(str(model_dir)).train()
    examples = teacher_examples(
        spec["roles"],
        tokenizer,
        n=max(64, spec["steps"] // 2),
        seed=seed,
        n_candidates=n_candidates,
        texts=load_texts(texts),
    )

    # Only the embedding rows of tokens the examples hold, and the head rows of tokens the
    # teacher writes, ever get a gradient; with no weight decay AdamW leaves every other row
    # as it is. Those rows are trained as small matrices and written back at the end: the
    # same fit, without a 151,936-row gradient and optimizer update every step.
    def rows_of(tokens: list[int]) -> torch.Tensor:
        """token id -> its row among ``tokens`` (-1 for the others)."""
        rows = torch.full((model.config.vocab_size,), -1, dtype=torch.long)
        rows[torch.tensor(tokens)] = torch.arange(len(tokens))
        return rows

    used = sorted({t for prompt, completion in examples for t in prompt + completion})
    vocab = sorted({t for _, completion in examples for t in completion})
    row_of, remap = rows_of(used), rows_of(vocab)
    embedding = model.get_input_embeddings().weight
    head = model.get_output_embeddings().weight
    tied = head is embedding
    embedding_rows = torch.nn.Parameter(embedding.detach()[used].clone())
    head_rows = None if tied else torch.nn.Parameter(head.detach()[vocab].clone())
    embedding.requires_grad_(False)
    head.requires_grad_(False)
    trained = [embedding_rows, *([] if tied else [head_rows])]
    trained += [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trained, lr=spec["lr"], weight_decay=0.0, fused=True)
    rng = random.Random(seed)
    losses = []
    for step in range(spec["steps"]):
        lr = (
            spec["lr"]
            * min(1.0, (step + 1) / 20)
            * 0.5
            * (1 + math.cos(math.pi * step / spec["steps"]))
        )
        for group in optimizer.param_groups:
            group["lr"] = lr
        batch = rng.sample(examples, min(spec["batch_size"], len(examples)))
        # One unpadded forward per example: the rephrase prompts are five times longer than
        # the rest, and padding a batch to them made most of a step's attention work
        # padding. The embedding rows are looked up once for the batch and one backward
        # runs. The loss is the batch's token mean, as one padded batch gives.
        lengths = [len(p) + len(c) for p, c in batch]
        flat = torch.tensor([t for p, c in batch for t in p + c])
        embeds = embedding_rows[row_of[flat]].split(lengths)
        teacher_head = embedding_rows[row_of[torch.tensor(vocab)]] if tied else head_rows
        total = 0.0
        for (prompt, completion), embed in zip(batch, embeds, strict=True):
            hidden = model.model(inputs_embeds=embed[None]).last_hidden_state
            logits = hidden[0, len(prompt) - 1 : -1] @ teacher_head.T
            target = remap[torch.tensor(completion)]
            total = total + torch.nn.functional.cross_entropy(logits, target, reduction="sum")
        loss = total / sum(len(c) for _, c in batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trained, 1.0)
        optimizer.step()
        losses.append(loss.item())
        if step % 50 == 0 or step == spec["steps"] - 1:
            log.info("format fit step %d/%d: loss %.3f", step + 1, spec["steps"], losses[-1])
    with torch.no_grad():
        embedding[used] = embedding_rows
        if not tied:
            head[vocab] = head_rows
    model.eval().save_pretrained(str(model_dir))
    summary = {
        "steps": spec["steps"],
        "examples": len(examples),
        "teacher_vocab": len(vocab),
        "first_loss": losses[0],
        "final_loss": sum(losses[-10:]) / len(losses[-10:]),
    }
    (Path(model_dir) / "format_fit.json").write_text(json.dumps(summary, indent=2))
    return summary
