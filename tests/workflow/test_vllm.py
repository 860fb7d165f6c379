"""The vLLM backend on the real engine: vLLM's CPU build, the vllm image's release.

On the default run's tiny LMs (float32, as the transformers backend computes on the CPU):
the two backends give the same greedy tokens, from token ids and from prompt embeddings;
seeded sampling repeats; benchmark inference runs through vLLM with `config/vllm-cpu.yaml`,
the overlay a user without a GPU runs (the generation stages: test_vllm_stages.py).
"""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from workflow_helpers import CONFIG, SPEECH, TINY, VLLM_CPU, R, alarm, shard, tiny

from alarm.files import read_shard
from alarm.generation.backend import Request, chat_ids
from alarm.generation.hf_backend import TransformersBackend
from alarm.generation.r0 import r0_messages
from alarm.generation.rephrase import prepare_r0, rephrase_messages
from alarm.generation.vllm_backend import VLLMBackend
from alarm.specs import Sampling
from alarm.texts import load_texts

pytestmark = pytest.mark.slow

ENGINE = {"dtype": "float32", "gpu_memory_utilization": 0.1, "max_model_len": 2048,
          "enable_chunked_prefill": False}  # fmt: skip
GREEDY = Sampling(temperature=0.0, top_p=1.0, top_k=-1)


@pytest.fixture(scope="module")
def rlm(default_run):
    return str(default_run / TINY / "rlm")


@pytest.fixture(scope="module")
def engine(rlm):
    """One vLLM engine for this module's backend tests, started once."""
    backend = VLLMBackend(rlm, ENGINE, seed=0, prompt_embeds=True)
    yield backend
    backend.close()


@pytest.fixture(scope="module")
def prompts(default_run, engine):
    """The reasoning LM's real inputs: chat prompts of the run's R0 and rephrasing stages."""
    asked = read_shard(default_run / shard("prompts", SPEECH))[:3]
    answered = read_shard(default_run / shard("r0", SPEECH))[:3]
    texts = load_texts()
    messages = [r0_messages(texts, r["audio_description"], r["prompt"]) for r in asked]
    messages += [rephrase_messages(texts, prepare_r0(r["r0"])[0], r) for r in answered]
    return [chat_ids(engine.tokenizer, m) for m in messages]


def test_greedy_tokens_agree_across_backends_from_ids_and_embeddings(rlm, engine, prompts):
    reference = TransformersBackend(rlm, batch_size=4)
    by_ids = [Request(ids, 48, seed=i, sampling=GREEDY) for i, ids in enumerate(prompts)]
    by_embeds = [
        Request(None, 48, seed=i, sampling=GREEDY, prompt_embeds=engine.embed(ids))
        for i, ids in enumerate(prompts)
    ]
    expected = reference.generate(by_ids)
    assert len({tuple(r.token_ids) for r in expected}) > 1  # the prompts lead apart
    for results in (engine.generate(by_ids), engine.generate(by_embeds)):
        assert [r.token_ids for r in results] == [r.token_ids for r in expected]
        assert [r.finish_reason for r in results] == [r.finish_reason for r in expected]
        assert [r.text for r in results] == [r.text for r in expected]


def test_seeded_sampling_repeats(engine, prompts):
    sampling = Sampling(temperature=1.0, top_p=1.0, top_k=-1)
    requests = [Request(prompts[0], 32, seed=s, sampling=sampling) for s in (1, 2, 3)]
    first, second = engine.generate(requests), engine.generate(requests[::-1])[::-1]
    assert [r.token_ids for r in first] == [r.token_ids for r in second]
    assert len({tuple(r.token_ids) for r in first}) == 3  # the seed, not the batch, decides


def test_seeded_requests_beyond_one_steps_token_budget(engine, prompts):
    """More prompt tokens than one engine step takes: requests wait whole for a later step
    (vLLM's CPU build fails on a seeded request whose prompt it splits)."""
    long = [(ids * 20)[:1500] for ids in prompts]  # six different prompts, 9000 tokens
    sampling = Sampling(temperature=1.0, top_p=1.0, top_k=-1)
    requests = [Request(ids, 8, seed=s, sampling=sampling) for s, ids in enumerate(long)]
    assert all(len(r.token_ids) > 0 for r in engine.generate(requests))


def test_a_prompt_that_fills_the_context_leaves_its_batch_answered_as_by_transformers(
    rlm, engine, prompts
):
    # vLLM 0.23 raises for a prompt of max_model_len tokens or more and drops the whole
    # batch: the backend answers it prompt_too_long unsent; one near the limit stops there.
    limit = ENGINE["max_model_len"]
    long = prompts[0] * (limit // len(prompts[0]) + 1)
    requests = [
        Request(prompts[0], 8, seed=0, sampling=GREEDY),
        Request(long[:limit], 8, seed=1, sampling=GREEDY),
        Request(long[: limit - 3], 8, seed=2, sampling=GREEDY),
    ]
    got = engine.generate(requests)
    assert [r.finish_reason for r in got][1:] == ["prompt_too_long", "length"]
    assert len(got[2].token_ids) == 3
    reference = TransformersBackend(rlm, batch_size=4, max_model_len=limit)
    expected = reference.generate(requests)
    assert [(r.finish_reason, r.token_ids) for r in got] == [
        (r.finish_reason, r.token_ids) for r in expected
    ]


@pytest.mark.parametrize("model", ["alarm_ca", "alarm_e"])
def test_benchmark_inference_answers_alike_on_both_backends(default_run, tmp_path, model):
    """A trained ALARM model and the ALARM-E ensemble, greedy, through prompt embeddings."""
    w = default_run
    greedy = tmp_path / "greedy.yaml"
    greedy.write_text("inference: {sampling: {temperature: 0.0, top_p: 1.0, top_k: -1}}\n")
    members = {"alarm_ca": ["alarm_ca"], "alarm_e": ["alarm_ca", "al_whisper_instruct_r"]}[model]
    weights = [f"{m}={R}/models/{m}/adapter.safetensors" for m in members]
    responses = {}
    for backend, overlay in (("transformers", []), ("vllm", [VLLM_CPU])):
        out = tmp_path / f"{backend}.parquet"
        alarm(w, "benchmark-generate", "--model", model,
              "--input", f"{R}/benchmarks/data/synthetic/00000.parquet",
              "--pretrained", *tiny("rlm", "whisper", "w2vbert", "muq", "sslam"),
              "--weights", *weights, "--output", str(out),
              *CONFIG, *overlay, str(greedy))  # fmt: skip
        responses[backend] = pq.read_table(out).column("response").to_pylist()
    assert responses["vllm"] == responses["transformers"]
    assert len(set(responses["vllm"])) > 1  # the audio decides the answer
