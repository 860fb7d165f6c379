import torch

from alarm.generation.backend import Request, Sampling
from alarm.generation.budget import FORCED_CLOSE, generate_with_budget

# pass-1 completions by request seed: finished, cut in the reasoning, cut in the answer
PASS1 = {
    0: ("Short thought.\n</think>\n\nDone.", "stop"),
    1: ("I keep thinking and thinking", "length"),
    2: ("Thought.\n</think>\n\nThe answer is lo", "length"),
}


def _ids(tokenizer, text):
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def test_finished_items_are_not_rerun_and_truncated_ones_continue(tokenizer, scripted):
    backend = scripted(lambda r, call: PASS1[r.seed] if call == 0 else ("XYZ", "stop"))
    requests = [Request([10 + seed], 64, seed, Sampling()) for seed in PASS1]
    finished, thinking, answer = generate_with_budget(backend, requests, budget=8, max_tokens=64)
    assert [r.max_tokens for r in backend.calls[0]] == [8, 8, 8]  # pass 1 capped at the budget
    assert (finished.passes, finished.text, finished.forced_close) == (1, PASS1[0][0], False)
    assert [r.prompt_ids[0] for r in backend.calls[1]] == [11, 12]  # only the cut ones rerun
    assert thinking.text == PASS1[1][0] + FORCED_CLOSE + "XYZ"
    assert thinking.forced_close and thinking.passes == 2 and thinking.finish_reason == "stop"
    assert answer.text == PASS1[2][0] + "XYZ" and not answer.forced_close
    cut_in_thinking, cut_in_answer = backend.calls[1]
    assert cut_in_thinking.max_tokens == cut_in_answer.max_tokens == 64  # the full limit
    closing = _ids(tokenizer, FORCED_CLOSE)
    assert cut_in_thinking.prompt_ids == [11, *_ids(tokenizer, PASS1[1][0]), *closing]
    assert cut_in_answer.prompt_ids == [12, *_ids(tokenizer, PASS1[2][0])]
    assert cut_in_thinking.seed != requests[1].seed  # pass 2 draws fresh samples


def test_negative_budget_is_one_pass(scripted):
    backend = scripted(lambda r, c: ("cut", "length"))
    (result,) = generate_with_budget(
        backend, [Request([5], 7, 0, Sampling())], budget=-1, max_tokens=7
    )
    assert result.passes == 1 and backend.calls[0][0].max_tokens == 7 and len(backend.calls) == 1


def test_embedding_prompts_are_extended_with_embeddings(tokenizer, scripted):
    backend = scripted(lambda r, c: ("thinking", "length") if c == 0 else ("ok", "stop"))
    prompt = torch.randn(5, 4)
    request = Request(None, 50, 3, Sampling(), prompt_embeds=prompt)
    (result,) = generate_with_budget(backend, [request], budget=2, max_tokens=50)
    second = backend.calls[1][0]
    extra = _ids(tokenizer, "thinking") + _ids(tokenizer, FORCED_CLOSE)
    assert second.prompt_ids is None and second.prompt_embeds.shape == (5 + len(extra), 4)
    assert torch.equal(second.prompt_embeds[:5], prompt)
    assert torch.equal(second.prompt_embeds[5:], backend.embed(extra))
    assert result.text == "thinking" + FORCED_CLOSE + "ok"


def test_a_prompt_that_fills_the_context_is_answered_without_being_sent(scripted):
    # vLLM refuses a whole batch for one prompt of max_model_len positions or more.
    backend = scripted(lambda r, c: ("ok", "stop"), max_model_len=10)
    short, full, edge = (Request(list(range(n)), 5, n, Sampling()) for n in (3, 10, 8))
    results = backend.generate([short, full, edge])
    assert [r.finish_reason for r in results] == ["stop", "prompt_too_long", "stop"]
    assert results[1].text == "" and results[1].token_ids == []
    (sent,) = backend.calls
    # The others go out; one near the limit may only fill the context.
    assert [(r.seed, r.max_tokens) for r in sent] == [(3, 5), (8, 2)]


def test_an_item_whose_second_pass_would_not_fit_keeps_its_first_pass(scripted):
    backend = scripted(lambda r, c: ("I keep thinking", "length"), max_model_len=12)
    (result,) = generate_with_budget(backend, [Request([1] * 5, 50, 0)], budget=4, max_tokens=50)
    assert len(backend.calls) == 1  # pass 2 (pass 1 + the closing) was never sent
    assert (result.text, result.finish_reason) == ("I keep thinking", "prompt_too_long")
    assert (result.passes, result.forced_close) == (1, False)
