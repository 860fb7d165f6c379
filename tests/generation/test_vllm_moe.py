"""A mixture-of-experts LM on vLLM's CPU build, on every CPU of this kind.

vLLM 0.23 runs an MoE layer on the CPU either through its grouped GEMM or through a torch
fallback, chosen by the CPU (AMX) and the expert sizes; the fallback fails as shipped and
our vLLM plugin (alarm.generation.vllm_plugin) mends it. An expert width whose
``2 * moe_intermediate_size`` is no multiple of 32 takes the fallback on any CPU, so the
slow test runs it here whatever this machine's CPU has. An engine that does not start
names the first error of its processes in one log line.
"""

from __future__ import annotations

import os

import pytest

from alarm.generation.backend import Request
from alarm.generation.hf_backend import TransformersBackend
from alarm.generation.vllm_backend import EngineStartError, first_error, start_engine
from alarm.specs import Sampling
from alarm.tiny.models import make_tiny_model

# 2 * 40 = 80 is no multiple of 32: vLLM's check_grouped_gemm sends it to the torch fallback.
FALLBACK_MOE = {"architecture": "qwen3_moe", "hidden_size": 64, "intermediate_size": 40,
                "num_layers": 1, "num_heads": 4, "num_key_value_heads": 2, "head_dim": 32,
                "num_experts": 4, "num_experts_per_tok": 2}  # fmt: skip
ENGINE = {"dtype": "float32", "gpu_memory_utilization": 0.1, "max_model_len": 256,
          "enable_chunked_prefill": False}  # fmt: skip
GREEDY = Sampling(temperature=0.0, top_p=1.0, top_k=-1)

# What vLLM 0.23's processes print when a worker fails while the engine starts (shape of
# the real output: per-process prefixes, tracebacks, the engine core's own summary last).
WORKER_FAILED = """\
INFO 12-06 22:17:12 [model.py:611] Resolved architecture: Qwen3MoeForCausalLM
INFO 12-06 22:17:12 [importing.py:46] Disabling Triton to prevent runtime errors.
(Worker pid=7) ERROR 12-06 22:19:17 [multiproc_executor.py:987] Traceback (most recent call last):
(Worker pid=7) ERROR 12-06 22:19:17 [multiproc_executor.py:987]     raise AssertionError(
(Worker pid=7) ERROR 12-06 22:19:17 [multiproc_executor.py:987] AssertionError: Current vLLM \
config is not set.
(EngineCore pid=5) ERROR 12-06 22:19:17 [core.py:1195] RuntimeError: Worker failed with error \
'Current vLLM config is not set.'
RuntimeError: Engine core initialization failed. See root cause above. Failed core proc(s): {}
"""


def test_the_first_error_of_vllm_s_processes_is_their_root_cause():
    assert first_error(WORKER_FAILED) == "AssertionError: Current vLLM config is not set."
    assert first_error("INFO 12-06 [x.py:1] all well\nW1206 a warning\n") is None


def test_an_engine_that_does_not_start_names_its_cause_in_one_line(tmp_path, monkeypatch):
    """As in a rule (``> {log} 2>&1``): the engine's processes write to the stage's log."""
    import vllm

    def failing_engine(**kwargs):
        os.write(2, WORKER_FAILED.encode())  # as the engine core and its worker do
        raise RuntimeError("Engine core initialization failed. See root cause above.")

    monkeypatch.setattr(vllm, "LLM", failing_engine)
    log = tmp_path / "stage.log"
    saved = os.dup(2)
    try:
        with log.open("w") as f:
            os.dup2(f.fileno(), 2)
            with pytest.raises(EngineStartError) as raised:
                start_engine({"model": "results/pretrained/tiny/prompt_llm"})
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    assert str(raised.value) == (
        "vLLM's engine for results/pretrained/tiny/prompt_llm did not start: "
        "AssertionError: Current vLLM config is not set."
    )


@pytest.mark.slow
def test_an_moe_lm_on_the_torch_fallback_answers_as_by_transformers(tmp_path):
    from alarm.generation.vllm_backend import VLLMBackend

    model = tmp_path / "moe"
    make_tiny_model(FALLBACK_MOE, model, seed=0, n_candidates=1)
    prompts = [[151644, 872, 198, 9707, 0], [151644, 872, 198, 3838, 374, 419, 30]]
    requests = [Request(ids, 12, seed=i, sampling=GREEDY) for i, ids in enumerate(prompts)]
    expected = TransformersBackend(str(model), batch_size=2).generate(requests)
    engine = VLLMBackend(str(model), ENGINE, seed=0)
    try:
        got = engine.generate(requests)
    finally:
        engine.close()
    assert [r.token_ids for r in got] == [r.token_ids for r in expected]
    assert all(len(r.token_ids) == 12 for r in got)
