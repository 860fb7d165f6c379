"""The vLLM backend: offline ``LLM`` on one GPU, batched, prefix caching, per-request seeds.

Prompts go in as token ids (``TokensPrompt``) or, for the audio model, as input
embeddings (``EmbedsPrompt``; the unmodified Qwen3 backbone receives the audio
through ``enable_prompt_embeds``). Each vLLM stage runs in its own process (one
Snakemake job), which frees the GPU when the stage ends.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch

from alarm.generation.backend import Request, Result, prefix_order

log = logging.getLogger(__name__)


def load_embedding_table(model_path: str | Path, device: str = "cuda") -> torch.nn.Embedding:
    """Only the input embedding matrix of a checkpoint, read from its safetensors shards."""
    from safetensors import safe_open

    for file in sorted(Path(model_path).glob("*.safetensors")):
        with safe_open(str(file), "pt") as weights:
            if "model.embed_tokens.weight" in set(weights.keys()):
                table = weights.get_tensor("model.embed_tokens.weight")
                return torch.nn.Embedding.from_pretrained(table.to(device), freeze=True)
    raise FileNotFoundError(f"no model.embed_tokens.weight in {model_path}/*.safetensors")


class VLLMBackend:
    def __init__(
        self,
        model_path: str,
        engine: dict,
        seed: int = 0,
        prompt_embeds: bool = False,
        embedding_table: torch.nn.Embedding | None = None,
    ):
        from vllm import LLM

        from alarm.tokenizer import load_tokenizer

        self.tokenizer = load_tokenizer(model_path)
        self.llm = LLM(
            model=str(model_path),
            seed=seed,
            enable_prompt_embeds=prompt_embeds,
            **{k: v for k, v in engine.items() if v is not None},
        )
        self.embedding_table = embedding_table
        if prompt_embeds and embedding_table is None:
            self.embedding_table = load_embedding_table(model_path)

    def embed(self, ids: list[int]) -> torch.Tensor:
        if self.embedding_table is None:
            raise RuntimeError("this backend was built without prompt embeddings")
        device = self.embedding_table.weight.device
        return self.embedding_table(torch.tensor(ids, dtype=torch.long, device=device))

    def generate(self, requests: list[Request]) -> list[Result]:
        from vllm import SamplingParams
        from vllm.inputs import EmbedsPrompt, TokensPrompt

        order = prefix_order(requests)
        prompts, params = [], []
        for i in order:
            r = requests[i]
            if r.prompt_embeds is not None:
                # vLLM casts to the model dtype; handing bf16 over halves the IPC payload.
                prompts.append(EmbedsPrompt(prompt_embeds=r.prompt_embeds.to(torch.bfloat16).cpu()))
            else:
                prompts.append(TokensPrompt(prompt_token_ids=r.prompt_ids))
            params.append(
                SamplingParams(
                    n=1,
                    max_tokens=r.max_tokens,
                    seed=r.seed,
                    temperature=r.sampling.temperature,
                    top_p=r.sampling.top_p,
                    top_k=r.sampling.top_k,
                    skip_special_tokens=True,
                )
            )
        outputs = self.llm.generate(prompts, params, use_tqdm=False)
        results: list[Result | None] = [None] * len(requests)
        for i, output in zip(order, outputs, strict=True):
            completion = output.outputs[0]
            reason = "length" if completion.finish_reason == "length" else "stop"
            results[i] = Result(completion.text, list(completion.token_ids), reason)
        return results  # type: ignore[return-value]


def make_backend(settings: dict, knobs: dict, model_path: str | Path):
    """The backend a generation stage's settings ask for (``backend``: transformers or vllm).

    ``settings`` give the backend, the seed and the engine's ``max_model_len``; ``knobs`` the
    transformers batch size and vLLM's other engine arguments (memory, batch limits).
    """
    if settings["backend"] == "vllm":
        engine = knobs.get("engine", {}) | {"max_model_len": settings.get("max_model_len")}
        return VLLMBackend(str(model_path), engine, settings["seed"])
    from alarm.generation.hf_backend import TransformersBackend

    return TransformersBackend(str(model_path), knobs["batch_size"])
