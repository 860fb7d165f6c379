"""FLOPs of one training example, counted from the architectures.

Used by bench_model.py (the paper's mean example) and gpu/bench_gpu.py (the measured batch,
for MFU). A matrix product with P weights costs 2P FLOPs per position. The frozen encoders
run forward on whole padded chunks; the frozen LLM runs forward, and backward to its input
embeddings only (no weight gradients: as much again as the forward); the front end's frozen
adapters run forward at the encoders' 50 frames/s, its trainable modules forward and
backward (3x) at the LLM's audio token rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Positions per chunk and seconds per chunk: fixed by each encoder's front end, not its size.
CHUNKS = {
    "whisper": (1500, 30.0),
    "w2vbert": (1500, 30.0),
    "muq": (750, 30.0),
    "sslam": (513, 10.24),
}
ENCODER_FRAMES_PER_SECOND = 50


@dataclass(frozen=True)
class Network:
    params: float  # weights of the matrix products (no embedding table)
    layers: int
    width: int  # of attention: heads x head size


def transformer_flops(params: float, layers: int, width: int, tokens: int, causal: bool) -> float:
    """Forward FLOPs: 2 per parameter per token, plus attention scores and mixing."""
    attention = 4 * layers * tokens * tokens * width * (0.5 if causal else 1.0)
    return 2 * params * tokens + attention


def example_flops(
    seconds: float,
    prompt_tokens: int,
    target_tokens: int,
    encoders: dict[str, Network],
    llm: Network,
    output_embedding: float,
    frozen_front: float,
    trainable_front: float,
    audio_rate: float,
) -> dict[str, float]:
    """FLOPs of one example, per part. ``output_embedding``: the LM head's weights (logits are
    computed on the target positions only); ``*_front``: the front end's weights outside
    the encoders; ``audio_rate``: the LLM's audio tokens per second."""
    flops = {}
    for name, net in encoders.items():
        positions, chunk = CHUNKS[name]
        chunks = max(1, math.ceil(seconds / chunk))
        flops[name] = chunks * transformer_flops(
            net.params, net.layers, net.width, positions, causal=False
        )
    audio_tokens = seconds * audio_rate
    flops["adapters"] = 2 * frozen_front * seconds * ENCODER_FRAMES_PER_SECOND
    flops["trainable"] = 3 * 2 * trainable_front * audio_tokens
    llm_tokens = int(audio_tokens) + 2 + prompt_tokens + target_tokens
    forward = transformer_flops(llm.params, llm.layers, llm.width, llm_tokens, causal=True)
    forward += 2 * output_embedding * target_tokens
    flops["llm"] = 2 * forward
    return flops
