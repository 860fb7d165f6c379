"""Running the generation stages on one shard: load the backend, process, write with a ledger."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alarm.generation.instruction import INSTRUCTION_SCHEMA, instruction_responses
from alarm.generation.prompts_stage import PROMPTS_SCHEMA, generate_prompts
from alarm.generation.r0 import R0_SCHEMA, generate_r0
from alarm.generation.rephrase import REPHRASED_SCHEMA, rephrase
from alarm.generation.vllm_backend import make_backend
from alarm.ledger import Ledger
from alarm.stage import run_shard_stage


def run_generate_prompts(settings: dict[str, Any], input: Path, output: Path) -> Ledger:
    backend = make_backend(settings)
    return run_shard_stage(
        stage="generate_prompts",
        input=input,
        output=output,
        schema=PROMPTS_SCHEMA,
        process=lambda rows: generate_prompts(rows, backend, settings),
    )


def run_generate_r0(settings: dict[str, Any], input: Path, output: Path) -> Ledger:
    backend = make_backend(settings)
    return run_shard_stage(
        stage="generate_r0",
        input=input,
        output=output,
        schema=R0_SCHEMA,
        process=lambda rows: generate_r0(rows, backend, settings),
    )


def run_self_rephrase(settings: dict[str, Any], input: Path, output: Path) -> Ledger:
    backend = make_backend(settings)
    check = settings["leak_checker"]
    checker = None
    if check["enabled"]:
        checker = (
            backend
            if check["path"] == settings["model_path"]
            else make_backend(settings | {"model_path": check["path"]})
        )
    return run_shard_stage(
        stage="self_rephrase",
        input=input,
        output=output,
        schema=REPHRASED_SCHEMA,
        process=lambda rows: rephrase(rows, backend, settings, checker),
    )


def run_instruction_responses(settings: dict[str, Any], input: Path, output: Path) -> Ledger:
    backend = make_backend(settings)
    return run_shard_stage(
        stage="instruction_responses",
        input=input,
        output=output,
        schema=INSTRUCTION_SCHEMA,
        process=lambda rows: instruction_responses(rows, backend, settings),
    )
