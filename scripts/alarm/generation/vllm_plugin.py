"""Our vLLM general plugin: vLLM calls :func:`register` in every process it starts (the
entry point ``vllm.general_plugins`` in pyproject.toml), its engine core and workers too.

vLLM 0.23's CPU build runs an MoE layer through a torch fallback
(``vllm/model_executor/layers/fused_moe/cpu_fused_moe.py``, ``cpu_fused_moe_torch``)
when its grouped GEMM does not apply: on CPUs with AMX for any dtype but bfloat16, and
on every CPU when an expert's ``2 * moe_intermediate_size`` or ``hidden_size`` is not a
multiple of 32. There the SiLU entry of ``_CPU_MOE_ACT_FN`` builds a ``SiluAndMul`` at
forward time, whose ``CustomOp.__init__`` asks for the current vLLM config, which is not
set then: the engine dies while profiling its memory ("Current vLLM config is not set").
Upstream replaced the entry with the static ``SiluAndMul.forward_native`` (the same
arithmetic without the object; vllm-project/vllm#45961, after 0.23); so do we, until the
images move past that release. CUDA MoE layers (the paper's FP8 prompt LLM) never take
this path.
"""

from __future__ import annotations


def register() -> None:
    from vllm.platforms import current_platform

    if not current_platform.is_cpu():
        return
    from vllm.model_executor.layers.activation import SiluAndMul
    from vllm.model_executor.layers.fused_moe import cpu_fused_moe
    from vllm.model_executor.layers.fused_moe.activation import MoEActivation

    cpu_fused_moe._CPU_MOE_ACT_FN[MoEActivation.SILU] = SiluAndMul.forward_native
