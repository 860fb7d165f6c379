"""The transformers backend on a tiny random Qwen3: seeds, stops, batching, embeddings."""

import pytest
import torch

from alarm.generation.backend import Request, Sampling, prefix_order, shared_prefix_fraction
from alarm.generation.hf_backend import TransformersBackend, sample_tokens


@pytest.fixture(scope="module")
def backend(tiny_models):
    return TransformersBackend(str(tiny_models / "rlm"), batch_size=3, device="cpu")


def _req(backend, text, seed, n=12):
    return Request(
        backend.tokenizer(text, add_special_tokens=False)["input_ids"], n, seed, Sampling()
    )


def test_same_seed_same_text_different_seed_different_text(backend):
    a = backend.generate(
        [
            _req(backend, "Hello there", 1),
            _req(backend, "Hello there", 1),
            _req(backend, "Hello there", 2),
        ]
    )
    assert a[0].token_ids == a[1].token_ids
    assert a[0].token_ids != a[2].token_ids
    again = backend.generate([_req(backend, "Hello there", 1)])
    assert again[0].token_ids == a[0].token_ids  # rerun reproduces, whatever the batch


def test_limits_and_finish_reasons(backend):
    results = backend.generate([_req(backend, "a", s, n=5) for s in range(4)])
    for r in results:
        assert len(r.token_ids) <= 5
        assert r.finish_reason == (
            "length" if len(r.token_ids) == 5 and r.token_ids[-1] not in backend.eos_ids else "stop"
        )


def test_embedding_prompts_equal_token_prompts(backend):
    ids = backend.tokenizer("Tell me", add_special_tokens=False)["input_ids"]
    by_ids = backend.generate([Request(ids, 6, 5, Sampling())])[0]
    by_embeds = backend.generate(
        [Request(None, 6, 5, Sampling(), prompt_embeds=backend.embed(ids))]
    )[0]
    assert by_ids.token_ids == by_embeds.token_ids


def test_sampling_respects_top_k_and_greedy():
    logits = torch.tensor([[0.0, 5.0, 4.0, -1.0], [3.0, 0.0, 0.0, 0.0]])
    gens = [torch.Generator().manual_seed(i) for i in range(2)]
    assert sample_tokens(logits, Sampling(temperature=0.0), gens).tolist() == [1, 0]
    draws = {
        int(
            sample_tokens(
                logits[:1],
                Sampling(temperature=5.0, top_p=1.0, top_k=2),
                [torch.Generator().manual_seed(s)],
            )[0]
        )
        for s in range(50)
    }
    assert draws == {1, 2}
    nucleus = {
        int(
            sample_tokens(
                logits[:1],
                Sampling(temperature=1.0, top_p=0.5, top_k=4),
                [torch.Generator().manual_seed(s)],
            )[0]
        )
        for s in range(50)
    }
    assert nucleus == {1}


def test_prefix_order_groups_shared_prefixes():
    requests = [Request(p, 1, 0) for p in ([1, 2, 9], [3, 4], [1, 2, 8], [3, 5])]
    order = prefix_order(requests)
    assert [requests[i].prompt_ids for i in order] == [[1, 2, 8], [1, 2, 9], [3, 4], [3, 5]]
    before = shared_prefix_fraction([r.prompt_ids for r in requests])
    after = shared_prefix_fraction([requests[i].prompt_ids for i in order])
    assert before == 0.0 and after == pytest.approx(3 / 10)


def test_the_context_caps_the_prompt_and_the_generation(tiny_models):
    backend = TransformersBackend(str(tiny_models / "rlm"), 3, device="cpu", max_model_len=16)
    ids = backend.tokenizer("one two three four five six", add_special_tokens=False)["input_ids"]
    greedy = Sampling(temperature=0.0)
    fits, full = Request(ids[:4], 40, 0, greedy), Request((ids * 4)[:16], 40, 1, greedy)
    near, too_long = backend.generate([fits, full])
    assert too_long.finish_reason == "prompt_too_long" and too_long.token_ids == []
    # As vLLM: the output stops where prompt and output fill the context.
    assert len(near.token_ids) <= 12
    assert near.finish_reason == "stop" or len(near.token_ids) == 12
