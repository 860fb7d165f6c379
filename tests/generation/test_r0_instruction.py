from alarm.data.items import instruction_text
from alarm.generation.instruction import instruction_responses
from alarm.generation.r0 import generate_r0, r0_messages
from alarm.texts import load_texts

SETTINGS = {
    "max_tokens": 8,
    "seed": 0,
    "sampling": {"temperature": 0.6, "top_p": 0.95, "top_k": 20},
}


def test_r0_messages_put_a_text_between_the_audio_tags_then_the_prompt(tokenizer):
    messages = r0_messages(load_texts(), "[00:00-00:01] hi (duration: 1s)", "Who speaks?")
    assert messages[0]["role"] == "system" and "<start_audio>" in messages[0]["content"]
    assert (
        messages[1]["content"]
        == "<start_audio>[00:00-00:01] hi (duration: 1s)<end_audio>\n\nWho speaks?"
    )
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert text.endswith("Who speaks?<|im_end|>\n<|im_start|>assistant\n<think>\n")


def _r0(scripted, empty):
    rows = [
        {"uid": f"d/{i}", "dataset": "d", "audio_description": "a", "prompt": "p"} for i in range(3)
    ]
    outputs = iter(
        [("reason\n</think>\n\nanswer", "stop"), ("cut in the middle", "length"), ("   ", "stop")]
    )
    backend = scripted(lambda r, c: next(outputs))
    result = generate_r0(rows, backend, SETTINGS | {"empty": empty}, load_texts())
    assert all(r.max_tokens == 8 for r in backend.calls[0])
    return result


def test_r0_marks_truncation_and_drops_empty_answers(scripted):
    result = _r0(scripted, "drop")
    assert [r["r0_complete"] for r in result.rows] == [True, False]
    assert [r["r0_finish_reason"] for r in result.rows] == ["stop", "length"]
    assert [(d.uid, d.reason) for d in result.drops] == [("d/2", "empty_response")]
    assert "kept_flagged" not in result.stats


def test_r0_keeps_and_counts_empty_answers_as_the_authors(scripted):
    result = _r0(scripted, "keep")
    assert [(r["uid"], r["r0"], r["r0_complete"]) for r in result.rows][2] == ("d/2", "   ", False)
    assert result.drops == [] and result.stats["kept_flagged"] == {"empty_response": 1}


def test_instruction_variants():
    assert instruction_text("What is X?", "Passage.", "with_context") == "Passage.\nWhat is X?"
    assert instruction_text("What is X?", "", "with_context") == "What is X?"
    assert instruction_text("What is X?", "Passage.", "no_context") == "What is X?"


def test_instruction_stage_answers_each_variant_without_a_system_prompt(scripted, tokenizer):
    rows = [{"uid": "q/1/False", "dataset": "q", "question": "Q?", "context": "C."}]
    backend = scripted(lambda r, c: (tokenizer.decode(r.prompt_ids), "stop"))
    result = instruction_responses(
        rows, backend, SETTINGS | {"variants": ["with_context", "no_context"]}
    )
    (row,) = result.rows
    assert (
        row["response_with_context"]
        == "<|im_start|>user\nC.\nQ?<|im_end|>\n<|im_start|>assistant\n<think>\n"
    )
    assert (
        row["response_no_context"]
        == "<|im_start|>user\nQ?<|im_end|>\n<|im_start|>assistant\n<think>\n"
    )
    only = instruction_responses(rows, backend, SETTINGS | {"variants": ["with_context"]}).rows[0]
    assert only["response_no_context"] is None


def test_prompts_that_fill_the_context_are_recorded_drops(scripted):
    backend = scripted(lambda r, c: ("never sent", "stop"), max_model_len=8)
    rows = [{"uid": "d/0", "dataset": "d", "audio_description": "a", "prompt": "p"}]
    result = generate_r0(rows, backend, SETTINGS | {"empty": "keep"}, load_texts())
    assert [(d.uid, d.reason) for d in result.drops] == [("d/0", "prompt_too_long")]
    rows = [{"uid": "q/1/False", "dataset": "q", "question": "Q?", "context": "C."}]
    result = instruction_responses(rows, backend, SETTINGS | {"variants": ["with_context"]})
    assert [(d.uid, d.reason) for d in result.drops] == [("q/1/False", "prompt_too_long")]
    assert backend.calls == [] and result.rows == []
