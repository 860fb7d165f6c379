"""The engine settings, checked by vLLM (its CPU build, the vllm image's release) before any
engine starts: the paper's are accepted; what this vLLM or this machine cannot run stops a
stage with one line naming the setting, before its shard is written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from alarm.config import load_config
from alarm.generation.vllm_backend import (
    EngineSettingError,
    check_engine,
    validate_engine,
)
from alarm.registry import STAGES, inference_knobs, inference_settings
from alarm.specs import InferenceSettings, join_engine
from alarm.tiny.models import make_tiny_model

REPO = Path(__file__).resolve().parents[2]
PAPER = load_config([REPO / "config" / "paper.yaml"])
TINY_LM = {"architecture": "qwen3", "hidden_size": 64, "intermediate_size": 64, "num_layers": 1,
           "num_heads": 2, "num_key_value_heads": 1}  # fmt: skip


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory):
    out = tmp_path_factory.mktemp("lm") / "rlm"
    make_tiny_model(TINY_LM, out, seed=0, n_candidates=1)  # head size 32
    return out


GENERATION = {
    "generate_prompts": ("prompts", {}),
    "generate_r0": ("r0", {}),
    "self_rephrase": ("rephrase", {}),
    "instruction_responses": ("instruction", {"dataset": "heysquad_human"}),
}


@pytest.mark.parametrize("stage", GENERATION)
def test_the_paper_generation_engines_are_accepted(stage, tiny_lm):
    block, keys = GENERATION[stage]
    settings = STAGES[stage].settings_of(PAPER, **keys)
    engine = join_engine(STAGES[stage].knobs_of(PAPER, **keys)["engine"], settings)
    config = validate_engine(tiny_lm, engine, settings["seed"])
    wanted = PAPER["generation"][block]["engine"]
    assert config.model_config.max_model_len == wanted["max_model_len"]
    assert config.scheduler_config.max_num_seqs == wanted["max_num_seqs"]
    assert config.scheduler_config.max_num_batched_tokens == wanted["max_num_batched_tokens"]
    assert config.cache_config.gpu_memory_utilization == wanted["gpu_memory_utilization"]
    assert config.cache_config.enable_prefix_caching


def test_the_paper_inference_engine_is_accepted_with_prompt_embeddings(tiny_lm):
    inference = InferenceSettings.from_dict(inference_settings(PAPER) | inference_knobs(PAPER))
    config = validate_engine(tiny_lm, inference.engine_arguments(), 0, prompt_embeds=True)
    assert config.model_config.enable_prompt_embeds
    assert config.model_config.max_model_len == PAPER["inference"]["engine"]["max_model_len"]
    assert config.cache_config.enable_prefix_caching


def test_a_model_length_beyond_the_models_is_refused(tiny_lm):
    with pytest.raises(EngineSettingError, match=r"rejects the engine settings.*max_model_len"):
        validate_engine(tiny_lm, {"max_model_len": 10**6})


CPU = {"gpu_memory_utilization": 0.05, "enable_chunked_prefill": False}


def test_chunked_prefill_is_refused_on_the_cpu(tiny_lm):
    with pytest.raises(EngineSettingError, match="enable_chunked_prefill to false"):
        check_engine(tiny_lm, CPU | {"enable_chunked_prefill": True})
    check_engine(tiny_lm, CPU)


def test_a_head_size_the_cpu_attention_cannot_run_is_refused(tmp_path):
    make_tiny_model(TINY_LM | {"hidden_size": 48}, tmp_path / "lm", seed=0, n_candidates=1)
    with pytest.raises(EngineSettingError, match=r"attention head size 24.*head_dim"):
        check_engine(tmp_path / "lm", CPU)


def test_a_memory_share_beyond_the_free_ram_stops_the_stage_before_its_shard(tiny_lm, tmp_path):
    overlay = tmp_path / "vllm.yaml"
    overlay.write_text(
        "generation: {backend: vllm, r0: {engine: {gpu_memory_utilization: 0.999,"
        " enable_chunked_prefill: false}}}\n"
    )
    output = tmp_path / "r0.parquet"
    result = subprocess.run(
        [sys.executable, "-m", "alarm.cli", "generate-r0", "--llm", str(tiny_lm),
         "--input", str(tmp_path / "prompts.parquet"), "--output", str(output),
         "--configfile", str(REPO / "config" / "config.yaml"), str(overlay)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "gpu_memory_utilization=0.999" in result.stderr.splitlines()[-1]
    assert "Traceback" not in result.stderr
    assert not output.exists()
