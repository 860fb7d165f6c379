"""Fusion of several encoders' adapted streams into one audio token sequence (paper §2.2).

- identity: a single encoder's stream as it is (the AL-*-R models);
- cross_attention (ALARM-CA): the Whisper stream is the query of one pre-LN
  decoder layer per conditional encoder, in the order W2V-BERT -> MuQ -> SSLAM;
- perceiver (ALARM-P): one Perceiver per conditional encoder compresses it to
  20 latents; the 60 latents, framed by two trainable vectors, are prepended to
  the Whisper tokens.

Names follow the authors' checkpoints (``in_proj.<enc>``,
``condition_modules.<enc>.<i>``, ``perceiver.<enc>.latent_provider._query``,
``cross_attn_1``, ``self_attn_1``, ``cond_start_emb``) so released fusion
weights load as they are.
"""

from __future__ import annotations

import torch
from torch import nn

from alarm.specs import FusionSpec

Streams = dict[str, tuple[torch.Tensor, torch.Tensor]]  # name -> ((B, T, D), lengths (B,))


def padding_mask(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """(B, max_len) bool, True where a position is padding."""
    return torch.arange(max_len, device=lengths.device)[None, :] >= lengths[:, None]


def pad_to(x: torch.Tensor, length: int) -> torch.Tensor:
    return nn.functional.pad(x, (0, 0, 0, length - x.shape[1]))


class IdentityFusion(nn.Module):
    fixed_tokens = 0

    def forward(self, streams: Streams) -> tuple[torch.Tensor, torch.Tensor]:
        (stream,) = streams.values()
        return stream


class CrossAttentionFusion(nn.Module):
    """ALARM-CA: h_0 = Whisper; h_m = DecoderLayer(h_{m-1}, x_m) for m in order; out_proj(h_3)."""

    fixed_tokens = 0

    def __init__(self, spec: FusionSpec, in_dims: dict[str, int], llm_dim: int):
        super().__init__()
        self.primary, self.order = spec.primary, list(spec.order)
        self.own_lengths = spec.lengths == "own"
        width = spec.width
        self.in_proj = nn.ModuleDict({name: nn.Linear(in_dims[name], width) for name in in_dims})
        self.condition_modules = nn.ModuleDict(
            {
                name: nn.ModuleList(
                    nn.TransformerDecoderLayer(
                        width,
                        spec.heads,
                        spec.ffn,
                        # Unstated: the authors' (and PyTorch's) 0.1.
                        dropout=0.1 if spec.dropout is None else spec.dropout,
                        activation=nn.functional.gelu,
                        batch_first=True,
                        norm_first=True,
                    )
                    for _ in range(spec.layers_per_encoder)
                )
                for name in self.order
            }
        )
        self.out_proj = nn.Linear(width, llm_dim)

    def forward(self, streams: Streams) -> tuple[torch.Tensor, torch.Tensor]:
        T = max(x.shape[1] for x, _ in streams.values())
        query, query_lengths = streams[self.primary]
        h = self.in_proj[self.primary](pad_to(query, T))  # (B, T, width)
        query_mask = padding_mask(query_lengths, T)
        # The authors' code masks every memory with the primary's (Whisper) lengths and
        # gives the output the largest encoder length of each item, which can keep a padded
        # query position or two; lengths "own" masks each memory by its own lengths and
        # keeps the primary's, so only real positions are attended to and passed on.
        for name in self.order:
            memory, lengths = streams[name]
            memory = self.in_proj[name](pad_to(memory, T))
            memory_mask = padding_mask(lengths, T) if self.own_lengths else query_mask
            for layer in self.condition_modules[name]:
                h = layer(
                    h, memory, tgt_key_padding_mask=query_mask, memory_key_padding_mask=memory_mask
                )
        if self.own_lengths:
            return self.out_proj(h), query_lengths
        longest = torch.stack([lengths for _, lengths in streams.values()]).amax(0)
        return self.out_proj(h), longest


class PerceiverAttention(nn.Module):
    """Multi-head attention with separate q/k/v/o projections (q and kv widths may differ)."""

    def __init__(self, q_dim: int, kv_dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.q_proj = nn.Linear(q_dim, q_dim)
        self.k_proj = nn.Linear(kv_dim, q_dim)
        self.v_proj = nn.Linear(kv_dim, q_dim)
        self.o_proj = nn.Linear(q_dim, q_dim)

    def forward(self, q: torch.Tensor, kv: torch.Tensor, pad: torch.Tensor | None) -> torch.Tensor:
        B, N, C = q.shape[0], q.shape[1], self.q_proj.out_features

        def heads(x: torch.Tensor) -> torch.Tensor:  # (B, n, C) -> (B, heads, n, C/heads)
            return x.reshape(x.shape[0], x.shape[1], self.heads, -1).transpose(1, 2)

        mask = None if pad is None else ~pad[:, None, None, :]  # True = attend
        out = nn.functional.scaled_dot_product_attention(
            heads(self.q_proj(q)).expand(B, -1, -1, -1),
            heads(self.k_proj(kv)),
            heads(self.v_proj(kv)),
            attn_mask=mask,
        )
        return self.o_proj(out.transpose(1, 2).reshape(B, N, C))


class CrossAttention(nn.Module):
    def __init__(self, q_dim: int, kv_dim: int, heads: int):
        super().__init__()
        self.q_norm = nn.LayerNorm(q_dim)
        self.kv_norm = nn.LayerNorm(kv_dim)
        self.attention = PerceiverAttention(q_dim, kv_dim, heads)

    def forward(self, latents: torch.Tensor, x: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
        return self.attention(self.q_norm(latents), self.kv_norm(x), pad)


class SelfAttention(nn.Module):
    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.attention = PerceiverAttention(dim, dim, heads)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm(x)
        return self.attention(x, x, None)


class PerceiverMLP(nn.Sequential):
    """LayerNorm, Linear, GELU, Linear (indices 0..3); widening factor 1, as in ALARM-P."""

    def __init__(self, dim: int):
        super().__init__(nn.LayerNorm(dim), nn.Linear(dim, dim), nn.GELU(), nn.Linear(dim, dim))


class Residual(nn.Module):
    def __init__(self, module: nn.Module):
        super().__init__()
        self.module = module

    def forward(self, x: torch.Tensor, *args) -> torch.Tensor:
        return x + self.module(x, *args)


class LatentProvider(nn.Module):
    def __init__(self, n: int, dim: int):
        super().__init__()
        self._query = nn.Parameter(torch.empty(n, dim).normal_(0.0, 0.02))

    def forward(self) -> torch.Tensor:
        return self._query[None]  # (1, n, dim), broadcast over the batch


class Perceiver(nn.Module):
    """Latents <- one cross-attention to the input, then a self-attention block applied
    ``repeats`` times with shared weights; no positional encoding of the input."""

    def __init__(self, in_dim: int, spec: FusionSpec):
        super().__init__()
        dim, heads = spec.width, spec.heads
        self.repeats = spec.self_attention_repeats
        self.latent_provider = LatentProvider(spec.latents, dim)
        self.cross_attn_1 = nn.Sequential(
            Residual(CrossAttention(dim, in_dim, heads)), Residual(PerceiverMLP(dim))
        )
        self.self_attn_1 = nn.Sequential(
            *(
                nn.Sequential(Residual(SelfAttention(dim, heads)), Residual(PerceiverMLP(dim)))
                for _ in range(spec.self_attention_layers)
            )
        )

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """x: (B, T, in_dim) -> latents (B, n_latents, width)."""
        pad = padding_mask(lengths, x.shape[1])
        cross, mlp = self.cross_attn_1
        latents = cross(self.latent_provider().expand(x.shape[0], -1, -1), x, pad)
        latents = mlp(latents)
        for _ in range(self.repeats):
            latents = self.self_attn_1(latents)
        return latents


class PerceiverFusion(nn.Module):
    """ALARM-P: [cond_start][20 x W2V-BERT][20 x MuQ][20 x SSLAM][cond_end][Whisper tokens]."""

    def __init__(self, spec: FusionSpec, in_dims: dict[str, int], llm_dim: int):
        super().__init__()
        self.primary, self.order = spec.primary, list(spec.order)
        self.perceiver = nn.ModuleDict({n: Perceiver(in_dims[n], spec) for n in self.order})
        self.out_proj = nn.ModuleDict({n: nn.Linear(spec.width, llm_dim) for n in self.order})
        self.cond_start_emb = nn.Parameter(torch.randn(1, llm_dim))
        self.cond_end_emb = nn.Parameter(torch.randn(1, llm_dim))
        self.fixed_tokens = len(self.order) * spec.latents + 2

    def forward(self, streams: Streams) -> tuple[torch.Tensor, torch.Tensor]:
        main, main_lengths = streams[self.primary]  # (B, T, llm_dim), already projected
        B = main.shape[0]
        prefix = [self.cond_start_emb.expand(B, 1, -1).to(main.dtype)]
        for name in self.order:
            x, lengths = streams[name]
            prefix.append(self.out_proj[name](self.perceiver[name](x, lengths)).to(main.dtype))
        prefix.append(self.cond_end_emb.expand(B, 1, -1).to(main.dtype))
        # Returned as a tensor; the authors' forward returns a (tensor, None) tuple that
        # their inference path then mis-indexes.
        return torch.cat([*prefix, main], dim=1), main_lengths + self.fixed_tokens


def build_fusion(spec: FusionSpec, in_dims: dict[str, int], llm_dim: int) -> nn.Module:
    if spec.type == "identity":
        return IdentityFusion()
    if spec.type == "cross_attention":
        return CrossAttentionFusion(spec, in_dims, llm_dim)
    if spec.type == "perceiver":
        return PerceiverFusion(spec, in_dims, llm_dim)
    raise ValueError(f"unknown fusion type {spec.type!r}")
