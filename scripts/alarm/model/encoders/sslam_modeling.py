"""SSLAM (ta012/SSLAM_AS2M_Finetuned): an EAT-style ViT-B over 128-bin Kaldi fbank "images".

Our own implementation; the published checkpoint ships remote code that we never
execute (no ``trust_remote_code``). Parameter names and shapes follow the
checkpoint exactly (``model.local_encoder.proj``, ``model.blocks.{i}.attn.qkv``,
...), so its state dict loads with no missing or unexpected keys.

Facts (reference/model-training.md §1, checked against the checkpoint layout):
16x16 patches over (1024 frames x 128 mel) give a 64 x 8 grid flattened
time-major (8 frequency patches per 160 ms); a fixed 2-D sin-cos position
table is added to the patch tokens only, then the CLS token is prepended and
``pre_norm`` applied; blocks are post-LN. ALARM keeps each block's output
minus CLS, so there is no embedding entry among the 12 hidden states.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn


@dataclass
class SSLAMConfig:
    embed_dim: int = 768
    depth: int = 12
    num_heads: int = 12
    mlp_ratio: float = 4.0
    patch_size: int = 16
    mel_bins: int = 128
    max_length: int = 768  # time patches the position table covers
    num_classes: int = 527  # AudioSet classes of the fine-tuned head (unused by ALARM)
    norm_eps: float = 1e-6

    @classmethod
    def from_pretrained(cls, path: str | Path) -> SSLAMConfig:
        raw = json.loads((Path(path) / "config.json").read_text())
        return cls(**{k: raw[k] for k in cls.__dataclass_fields__ if k in raw})

    def save(self, path: str | Path) -> None:
        (Path(path) / "config.json").write_text(
            json.dumps({"model_type": "sslam", **asdict(self)}, indent=2)
        )


def sincos_positions(dim: int, time_steps: int, freq_steps: int) -> torch.Tensor:
    """The fixed 2-D sin-cos table, ``(time_steps * freq_steps, dim)``, row ``t * freq_steps + f``.

    The first half of the channels encodes the frequency index and the second
    half the time index (each half: sines then cosines), as in the checkpoint.
    """
    half, quarter = dim // 2, dim // 4
    omega = 1.0 / 10000 ** (np.arange(quarter, dtype=np.float64) / quarter)

    def encode(pos: np.ndarray) -> np.ndarray:  # (N,) -> (N, half)
        angles = np.outer(pos, omega)
        return np.concatenate([np.sin(angles), np.cos(angles)], axis=1)

    t = np.repeat(np.arange(time_steps), freq_steps)
    f = np.tile(np.arange(freq_steps), time_steps)
    table = np.concatenate([encode(f), encode(t)], axis=1)[:, : 2 * half]
    return torch.from_numpy(table).float()


class SSLAMPatchEmbed(nn.Module):
    def __init__(self, config: SSLAMConfig):
        super().__init__()
        p = config.patch_size
        self.proj = nn.Conv2d(1, config.embed_dim, kernel_size=(p, p), stride=(p, p))

    def forward(self, fbank: torch.Tensor) -> torch.Tensor:
        # (B, 1, T, F) -> (B, D, T/16, F/16) -> (B, T/16 * F/16, D), time-major
        return self.proj(fbank).flatten(2).transpose(1, 2)


class SSLAMFixedPositions(nn.Module):
    def __init__(self, config: SSLAMConfig):
        super().__init__()
        freq_steps = config.mel_bins // config.patch_size
        table = sincos_positions(config.embed_dim, config.max_length, freq_steps)
        # A frozen parameter (not a buffer) because the checkpoint stores it under this name.
        self.positions = nn.Parameter(table.unsqueeze(0), requires_grad=False)

    def forward(self, n_tokens: int) -> torch.Tensor:
        return self.positions[:, :n_tokens]


class SSLAMAttention(nn.Module):
    def __init__(self, config: SSLAMConfig):
        super().__init__()
        self.num_heads = config.num_heads
        self.qkv = nn.Linear(config.embed_dim, 3 * config.embed_dim, bias=True)
        self.proj = nn.Linear(config.embed_dim, config.embed_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, C // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)  # each (B, heads, N, head_dim)
        out = nn.functional.scaled_dot_product_attention(q, k, v)
        return self.proj(out.transpose(1, 2).reshape(B, N, C))


class SSLAMMlp(nn.Module):
    def __init__(self, config: SSLAMConfig):
        super().__init__()
        hidden = int(config.embed_dim * config.mlp_ratio)
        self.fc1 = nn.Linear(config.embed_dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, config.embed_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class SSLAMBlock(nn.Module):
    """Post-LN transformer block: x + attn(x) -> norm1 -> r + mlp(r) -> norm2."""

    def __init__(self, config: SSLAMConfig):
        super().__init__()
        self.norm1 = nn.LayerNorm(config.embed_dim, eps=config.norm_eps)
        self.attn = SSLAMAttention(config)
        self.norm2 = nn.LayerNorm(config.embed_dim, eps=config.norm_eps)
        self.mlp = SSLAMMlp(config)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(x)
        r = self.norm1(x)
        return self.norm2(r + self.mlp(r))


class SSLAMBackbone(nn.Module):
    def __init__(self, config: SSLAMConfig):
        super().__init__()
        self.extra_tokens = nn.Parameter(torch.zeros(1, 1, config.embed_dim))  # the CLS token
        self.local_encoder = SSLAMPatchEmbed(config)
        self.fixed_positional_encoder = SSLAMFixedPositions(config)
        self.blocks = nn.ModuleList(SSLAMBlock(config) for _ in range(config.depth))
        self.pre_norm = nn.LayerNorm(config.embed_dim, eps=config.norm_eps)
        # The AudioSet classifier of the fine-tuned checkpoint; kept so the state dict matches.
        self.fc_norm = nn.LayerNorm(config.embed_dim)
        self.head = nn.Linear(config.embed_dim, config.num_classes)

    def block_outputs(self, fbank: torch.Tensor) -> list[torch.Tensor]:
        """Every block's output without the CLS token.

        fbank: (B, frames, mel_bins) normalised fbank of one 1024-frame chunk.
        Returns ``depth`` tensors of shape (B, frames/16 * mel_bins/16, embed_dim).
        """
        x = self.local_encoder(fbank.unsqueeze(1))  # (B, N, D)
        x = x + self.fixed_positional_encoder(x.shape[1])
        x = torch.cat([self.extra_tokens.expand(x.shape[0], -1, -1), x], dim=1)  # (B, 1 + N, D)
        x = self.pre_norm(x)
        states = []
        for block in self.blocks:
            x = block(x)
            states.append(x[:, 1:])
        return states


class SSLAMModel(nn.Module):
    """Top-level module; its ``model.`` prefix matches the checkpoint's keys."""

    def __init__(self, config: SSLAMConfig):
        super().__init__()
        self.config = config
        self.model = SSLAMBackbone(config)

    @classmethod
    def from_pretrained(cls, path: str | Path) -> SSLAMModel:
        from safetensors.torch import load_file

        path = Path(path)
        module = cls(SSLAMConfig.from_pretrained(path))
        state = load_file(path / "model.safetensors")
        missing, unexpected = module.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise ValueError(
                f"{path}: not an SSLAM checkpoint "
                f"(missing {missing[:5]}, unexpected {unexpected[:5]})"
            )
        return module

    def save_pretrained(self, path: str | Path) -> None:
        from safetensors.torch import save_file

        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        self.config.save(path)
        save_file(
            {k: v.contiguous() for k, v in self.state_dict().items()}, path / "model.safetensors"
        )
