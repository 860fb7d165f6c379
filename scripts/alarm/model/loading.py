"""Loading the pretrained networks every stage uses, from results/pretrained/{role}/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from alarm.model.reference_configs import REFERENCE_CONFIGS


def architecture_config(path: str | Path | None, hub_repo: str | None = None) -> dict[str, Any]:
    """A network's config.json: from its local directory, else the reference for its hub repo."""
    local = Path(path or ".") / "config.json"
    if path is not None and local.exists():
        return json.loads(local.read_text())
    if hub_repo in REFERENCE_CONFIGS:
        return REFERENCE_CONFIGS[hub_repo]
    raise FileNotFoundError(
        f"{local} does not exist and {hub_repo!r} has no reference config; "
        "build or download the pretrained network first"
    )


def load_llm(path: str | Path, dtype: torch.dtype, config: dict | None = None) -> nn.Module:
    """The frozen backbone from a local directory, or (given ``config``) its bare architecture."""
    from transformers import AutoConfig, AutoModelForCausalLM

    if config is not None:
        fields = {k: v for k, v in config.items() if k != "model_type"}
        llm = AutoModelForCausalLM.from_config(AutoConfig.for_model(config["model_type"], **fields))
    else:
        llm = AutoModelForCausalLM.from_pretrained(str(path), dtype=dtype)
    llm.requires_grad_(False)
    return llm.eval()
