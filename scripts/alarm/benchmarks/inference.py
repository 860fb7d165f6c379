"""Audio + prompt -> response, for one trained model or the ALARM-E ensemble.

The trained front ends turn audio into embeddings that are spliced into the
prompt (:mod:`alarm.model.layout`); the unmodified Qwen3 backbone generates
from those embeddings: through vLLM's prompt-embeds API on GPU, or through the
transformers backend anywhere. Generation runs under the thinking budget
(evaluation: 8192 thinking tokens of 16384), seeded per item. An unseeded run
(``inference.seed: null``, as the authors' ``run_eval.sh``) draws its base seed and
records it, so that any run can be repeated.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from alarm.data.audio import AudioError, decode_mono
from alarm.generation.backend import PROMPT_TOO_LONG, Request, item_seed
from alarm.generation.budget import generate_with_budget
from alarm.model.alarm_model import ALARMModel, build_frontend, load_trained_weights
from alarm.model.encoders import feature_extractors
from alarm.model.layout import inference_layout
from alarm.model.loading import load_llm
from alarm.specs import InferenceSettings, ModelSpec
from alarm.texts import Texts, load_texts
from alarm.tokenizer import load_tokenizer

log = logging.getLogger(__name__)

CHUNK = 256  # items whose prompt embeddings are built (and generated) together


class _EmbeddingsOnly(nn.Module):
    """Stands in for the LLM where vLLM holds the weights: only the input embeddings."""

    def __init__(self, table: nn.Embedding, hidden_size: int):
        super().__init__()
        self.table = table
        self.config = type("Config", (), {"hidden_size": hidden_size})()

    def get_input_embeddings(self) -> nn.Embedding:
        return self.table


def inference_backend(
    inference: InferenceSettings, llm_path: str, device: torch.device, tokenizer
) -> tuple[Any, nn.Module]:
    """The backend benchmark inference generates with, and the LLM the front ends feed: on
    vLLM (which holds the weights) only its input embeddings, on transformers the model
    that backend runs."""
    if inference.backend == "vllm":
        from alarm.generation.vllm_backend import VLLMBackend, load_embedding_table

        table = load_embedding_table(llm_path, str(device))
        backend = VLLMBackend(
            llm_path,
            inference.engine_arguments(),
            inference.seed,
            prompt_embeds=True,
            embedding_table=table,
        )
        return backend, _EmbeddingsOnly(table, table.embedding_dim)
    from alarm.generation.hf_backend import TransformersBackend

    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    llm = load_llm(llm_path, dtype).to(device)
    backend = TransformersBackend(
        llm_path,
        inference.batch_size,
        model=llm,
        tokenizer=tokenizer,
        max_model_len=inference.max_model_len,
    )
    return backend, llm


class AudioLM:
    """Trained front ends (one, or several for ALARM-E) in front of the frozen backbone."""

    def __init__(
        self,
        members: list[ModelSpec],
        weights: list[str],
        inference: InferenceSettings,
        load_weights=load_trained_weights,
        texts: Texts | None = None,
    ):
        llm_path = members[0].llm_path
        if inference.seed is None:
            inference = replace(inference, seed=secrets.randbelow(2**31))
            log.info("inference.seed is null: drew %d (set it to repeat this run)", inference.seed)
        self.inference = inference
        self.texts = texts or load_texts()  # the prompts and ALARM-E's joining lines
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self.tokenizer = load_tokenizer(llm_path)
        self.backend, llm = inference_backend(inference, llm_path, self.device, self.tokenizer)
        frontends = []
        for spec, path in zip(members, weights, strict=True):
            # Every adapter comes from the model's own checkpoint, none from init_from.
            frontend = build_frontend(spec.without_init_from(), llm.config.hidden_size)
            load_weights(frontend, path)
            frontends.append(frontend.to(self.device).eval())
        self.model = ALARMModel(frontends, llm, self.tokenizer).eval()
        self.extractors = [feature_extractors(m) for m in members]
        self.decodings = [(m.decoder, m.decode_rate) for m in members]

    def listen(self, audio: bytes) -> list[tuple[np.ndarray, int]]:
        """The clip as each member hears it (mono, rate), decoded once per way of decoding."""
        decoded = {how: decode_mono(audio, *how) for how in dict.fromkeys(self.decodings)}
        return [decoded[how] for how in self.decodings]

    @torch.no_grad()
    def prompt_embeddings(
        self, clips: list[list[tuple[np.ndarray, int]]], prompts: list[str], system: str
    ) -> list[torch.Tensor]:
        """(T_i, D) input embeddings per item (``clips``: :meth:`listen` of each): system,
        user turn with the audio segment(s)."""
        features = [
            {
                name: {
                    k: v.to(self.device)
                    for k, v in fe.collate([fe(*heard[member]) for heard in clips]).items()
                }
                for name, fe in extractors.items()
            }
            for member, extractors in enumerate(self.extractors)
        ]
        audio = self.model.encode_audio(features)
        n = len(self.model.frontends)
        layouts = [
            inference_layout(self.tokenizer, p, system, n_segments=n, texts=self.texts)
            for p in prompts
        ]
        embeds, _ = self.model.assemble(layouts, audio)
        return embeds

    def respond(self, items: list[dict[str, Any]], system: str) -> list[str | None]:
        """Responses to items {uid, audio bytes, prompt}; None where the audio
        fails or the prompt (or its thinking budget's second pass) does not fit the context."""
        inference = self.inference
        responses: list[str | None] = [None] * len(items)
        usable: list[tuple[int, list[tuple[np.ndarray, int]]]] = []
        for i, item in enumerate(items):
            try:
                usable.append((i, self.listen(item["audio"])))
            except AudioError as err:
                log.warning("%s: no response (%s)", item["uid"], err)
        for start in range(0, len(usable), CHUNK):
            chunk = usable[start : start + CHUNK]
            requests = []
            for (i, _), embeds in zip(
                chunk,
                self._embed_in_batches(
                    [w for _, w in chunk], [items[i]["prompt"] for i, _ in chunk], system
                ),
                strict=True,
            ):
                requests.append(
                    Request(
                        None,
                        inference.max_tokens,
                        item_seed(inference.seed, items[i]["uid"], "inference"),
                        inference.sampling,
                        prompt_embeds=embeds,
                    )
                )
            results = generate_with_budget(
                self.backend, requests, inference.thinking_budget, inference.max_tokens
            )
            for (i, _), result in zip(chunk, results, strict=True):
                if result.finish_reason == PROMPT_TOO_LONG:
                    log.warning("%s: no response (its prompt fills the context)", items[i]["uid"])
                    continue
                responses[i] = result.text
        return responses

    def _embed_in_batches(self, clips, prompts, system) -> list[torch.Tensor]:
        size = self.inference.batch_size
        out = []
        for start in range(0, len(clips), size):
            out += [
                e.cpu()
                for e in self.prompt_embeddings(
                    clips[start : start + size], prompts[start : start + size], system
                )
            ]
        return out


def benchmark_generate(model: AudioLM, input: str | Path, output: str | Path):
    """Answer every question of a benchmark shard (the MCQA prompts of the model's texts)."""
    from alarm.benchmarks.schema import RESPONSE_SCHEMA
    from alarm.files import read_shard
    from alarm.stage import StageOutput, finish_stage

    rows = read_shard(input)
    items = [
        {
            "uid": r["uid"],
            "audio": r["audio"],
            "prompt": model.texts.mcqa_user(r["question"], r["choices"]),
        }
        for r in rows
        if not r["audio_error"]
    ]
    answered = dict(
        zip(
            [it["uid"] for it in items],
            model.respond(items, model.texts.mcqa_system()),
            strict=True,
        )
    )
    out = [{**r, "response": answered.get(r["uid"])} for r in rows]
    stats = {"no_response": sum(r["response"] is None for r in out), "seed": model.inference.seed}
    return finish_stage(
        stage="benchmark_generate",
        inputs=[input],
        output=output,
        schema=RESPONSE_SCHEMA,
        uids_in=[r["uid"] for r in rows],
        result=StageOutput(out, [], stats),
    )


def answer_file(model: AudioLM, audio: str | Path, prompt: str, system: str | None) -> int:
    """Print the answer to ``prompt`` about one audio file; 1 if the file does not decode."""
    item = {"uid": f"cli/{Path(audio).name}", "audio": Path(audio).read_bytes(), "prompt": prompt}
    (response,) = model.respond([item], system or model.texts.inference_system())
    if response is None:
        log.error("%s could not be decoded", audio)
        return 1
    print(response)
    return 0
