"""``alarm model-summary``: parameters per module and audio token rate, without any weights.

The model is built on the meta device from the architectures' configs, so the
paper-scale summary needs neither downloads nor memory. Modules that create
tensors when first imported (torchaudio's Kaldi features, MuQ) are imported
above, outside the meta device, or those tensors would be meta tensors forever.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import muq  # noqa: F401
import torch
import torchaudio.compliance.kaldi  # noqa: F401

from alarm.model.alarm_model import build_frontend
from alarm.model.loading import architecture_config, load_llm
from alarm.specs import ModelSpec


def _module_of(name: str) -> str:
    parts = name.split(".")
    if parts[0] in ("audio_start_emb", "audio_end_emb"):
        return "separators"
    if parts[0] == "audio_encoder":
        return f"encoder.{parts[2]}"
    if parts[0] == "audio_adapter":
        return f"adapter.{parts[2]}"
    return "fusion"


def model_summary(members: list[ModelSpec]) -> dict[str, Any]:
    """Summary of a model (one spec) or an ensemble (one per member)."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"trainable": 0, "frozen": 0})
    rate, fixed = 0.0, 0
    with torch.device("meta"):
        llm = load_llm(
            members[0].llm_path,
            torch.float32,
            config=architecture_config(members[0].llm_path, members[0].llm_hub),
        )
        for spec in members:
            configs = {
                name: architecture_config(enc.path, enc.hub) for name, enc in spec.encoders.items()
            }
            frontend = build_frontend(spec, llm.config.hidden_size, configs=configs)
            prefix = f"{spec.name}." if len(members) > 1 else ""
            for name, p in frontend.named_parameters():
                counts[prefix + _module_of(name)]["trainable" if p.requires_grad else "frozen"] += (
                    p.numel()
                )
            member_rate, member_fixed = frontend.token_rate()
            rate, fixed = rate + member_rate, fixed + member_fixed
    # Tied input/output embeddings are one tensor; named_parameters counts it once.
    counts["llm"]["frozen"] = sum(p.numel() for p in llm.parameters())
    modules = dict(sorted(counts.items()))
    return {
        "model": "+".join(m.name for m in members),
        "trainable": sum(c["trainable"] for c in modules.values()),
        "frozen": sum(c["frozen"] for c in modules.values()),
        "modules": modules,
        "audio_tokens_per_second": rate,
        "fixed_audio_tokens": fixed,
    }


def format_summary(summary: dict[str, Any]) -> str:
    def m(n: int) -> str:
        return f"{n / 1e6:10.2f}M"

    width = max(len(name) for name in summary["modules"]) + 2
    lines = [summary["model"], f"{'module':<{width}}{'trainable':>12}{'frozen':>12}"]
    for name, c in summary["modules"].items():
        lines.append(f"{name:<{width}}{m(c['trainable']):>12}{m(c['frozen']):>12}")
    lines.append(f"{'total':<{width}}{m(summary['trainable']):>12}{m(summary['frozen']):>12}")
    lines.append(
        f"audio tokens: {summary['audio_tokens_per_second']:g} per second "
        f"+ {summary['fixed_audio_tokens']} per clip (separators and fixed prefixes)"
    )
    return "\n".join(lines)
