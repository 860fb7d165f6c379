"""The transformers backend: batched generation on any device, with per-request seeds.

``generate()`` of transformers draws from one global random stream, so a
request's output would depend on its batch neighbours. This backend runs its
own decoding loop (KV cache, left padding, explicit positions) and samples
each row with its own ``torch.Generator``, seeded per request.
"""

from __future__ import annotations

import logging

import torch
from torch import nn

from alarm.generation.backend import Request, Result, Sampling, within_context

log = logging.getLogger(__name__)


def sample_tokens(
    logits: torch.Tensor, sampling: Sampling, generators: list[torch.Generator]
) -> torch.Tensor:
    """One token per row of (B, V) logits: temperature, then top-k, then top-p, as vLLM does.

    Top-k runs first (batched) so that the nucleus is computed over k candidates
    rather than by sorting the 151,936-token vocabulary; each row then draws with
    its own generator, so its sample does not depend on its batch neighbours.
    """
    if sampling.temperature <= 0:
        return logits.argmax(-1)
    k = sampling.top_k if 0 < sampling.top_k < logits.shape[-1] else logits.shape[-1]
    values, indices = torch.topk(logits.float() / sampling.temperature, k)  # sorted, descending
    probs = torch.softmax(values, -1).cpu()
    if sampling.top_p < 1.0:
        # Keep the smallest prefix whose mass reaches top_p (the first token always).
        probs = torch.where(probs.cumsum(-1) - probs < sampling.top_p, probs, 0.0)
    choice = torch.stack(
        [
            torch.multinomial(row, 1, generator=g)[0]
            for row, g in zip(probs, generators, strict=True)
        ]
    )
    return indices.gather(1, choice.to(indices.device)[:, None])[:, 0]


class TransformersBackend:
    def __init__(
        self,
        model_path: str,
        batch_size: int = 16,
        device: str | None = None,
        model: nn.Module | None = None,
        tokenizer=None,
        max_model_len: int | None = None,
    ):
        from alarm.model.loading import load_llm
        from alarm.tokenizer import load_tokenizer

        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        dtype = torch.bfloat16 if self.device.type == "cuda" else torch.float32
        self.model = (model or load_llm(model_path, dtype)).to(self.device).eval()
        self.tokenizer = tokenizer or load_tokenizer(model_path)
        self.batch_size = batch_size
        # As vLLM's: the configured length, else the model's.
        self.max_model_len = max_model_len or self.model.config.max_position_embeddings
        eos = self.model.generation_config.eos_token_id
        self.eos_ids = set(eos if isinstance(eos, list) else [eos])

    def embed(self, ids: list[int]) -> torch.Tensor:
        table = self.model.get_input_embeddings()
        return table(torch.tensor(ids, dtype=torch.long, device=table.weight.device))

    def _prompt_embeds(self, request: Request) -> torch.Tensor:
        if request.prompt_embeds is not None:
            return request.prompt_embeds.to(self.device, self.model.dtype)
        return self.embed(request.prompt_ids)

    @torch.no_grad()
    def _generate_batch(self, requests: list[Request]) -> list[Result]:
        prompts = [self._prompt_embeds(r) for r in requests]
        B, T = len(prompts), max(len(p) for p in prompts)
        D = prompts[0].shape[-1]
        inputs = prompts[0].new_zeros(B, T, D)
        mask = torch.zeros(B, T, dtype=torch.long, device=self.device)
        for b, p in enumerate(prompts):  # left padding
            inputs[b, T - len(p) :] = p
            mask[b, T - len(p) :] = 1
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        generators = [torch.Generator().manual_seed(r.seed) for r in requests]
        # Logits of the last position only: the full (B, T, 151936) prefill logits would
        # dwarf everything else in memory and time.
        out = self.model(
            inputs_embeds=inputs,
            attention_mask=mask,
            position_ids=positions,
            use_cache=True,
            logits_to_keep=1,
        )
        cache, logits = out.past_key_values, out.logits[:, -1]
        tokens: list[list[int]] = [[] for _ in requests]
        done = [False] * B
        reasons = ["length"] * B
        next_pos = positions[:, -1:] + 1
        groups: dict[Sampling, list[int]] = {}
        for b, request in enumerate(requests):
            groups.setdefault(request.sampling, []).append(b)
        for _ in range(max(r.max_tokens for r in requests)):
            step_tokens = torch.full((B,), self.tokenizer.pad_token_id, device=self.device)
            for sampling, rows in groups.items():
                live = [b for b in rows if not done[b]]
                if live:
                    step_tokens[live] = sample_tokens(
                        logits[live], sampling, [generators[b] for b in live]
                    )
            for b in range(B):
                if done[b]:
                    continue
                token = int(step_tokens[b])
                tokens[b].append(token)
                if token in self.eos_ids:
                    done[b], reasons[b] = True, "stop"
                elif len(tokens[b]) >= requests[b].max_tokens:
                    done[b] = True
            if all(done):
                break
            mask = torch.cat([mask, (~torch.tensor(done, device=self.device)).long()[:, None]], 1)
            out = self.model(
                input_ids=step_tokens[:, None],
                attention_mask=mask,
                position_ids=next_pos,
                past_key_values=cache,
                use_cache=True,
                logits_to_keep=1,
            )
            cache, logits, next_pos = out.past_key_values, out.logits[:, -1], next_pos + 1
        results = []
        for ids, reason in zip(tokens, reasons, strict=True):
            text_ids = [t for t in ids if t not in self.eos_ids]  # as the protocol's
            text = self.tokenizer.decode(text_ids, skip_special_tokens=True)
            results.append(Result(text, text_ids, reason))  # type: ignore[arg-type]
        return results

    def generate(self, requests: list[Request]) -> list[Result]:
        return within_context(requests, self.max_model_len, self._generate)

    def _generate(self, requests: list[Request]) -> list[Result]:
        results: list[Result | None] = [None] * len(requests)
        # Similar lengths together keep padding (and wasted compute) low.
        order = sorted(range(len(requests)), key=lambda i: requests[i].prompt_length())
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            for i, result in zip(
                batch, self._generate_batch([requests[i] for i in batch]), strict=True
            ):
                results[i] = result
        return results  # type: ignore[return-value]
