import pytest

from alarm.tiny.tokenizers import qwen3_tokenizer, whisper_tokenizer


@pytest.fixture(scope="module")
def thinking():
    return qwen3_tokenizer("qwen3_thinking")


@pytest.fixture(scope="module")
def instruct():
    return qwen3_tokenizer("qwen3_instruct")


def test_known_ids(thinking):
    assert thinking.encode("Hello world") == [9707, 1879]
    assert thinking.encode(" Hello world") == [21927, 1879]
    assert thinking.encode("Hello, world!") == [9707, 11, 1879, 0]
    assert thinking.encode("333") == [18, 18, 18]  # one digit per token
    assert thinking.encode("\n\n") == [271]
    assert len(thinking) == 151669


def test_special_tokens_at_their_real_ids(thinking):
    ids = thinking.convert_tokens_to_ids
    assert ids(["<|endoftext|>", "<|im_start|>", "<|im_end|>"]) == [151643, 151644, 151645]
    assert ids(["<think>", "</think>", "<tool_call>"]) == [151667, 151668, 151657]
    assert thinking.encode("<think>\n") == [151667, 198]
    assert thinking.eos_token_id == 151645 and thinking.pad_token_id == 151643
    # <think> is not special: decoding with skip_special_tokens keeps it
    assert thinking.decode([151667, 9707, 151645], skip_special_tokens=True) == "<think>Hello"


def test_thinking_template_opens_the_reasoning(thinking):
    messages = [
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": "Hi"},
    ]
    assert thinking.apply_chat_template(messages, tokenize=False, add_generation_prompt=True) == (
        "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
        "<|im_start|>assistant\n<think>\n"
    )
    ids = thinking.apply_chat_template(
        [{"role": "user", "content": "Hi"}], add_generation_prompt=True
    )
    assert ids == [151644, 872, 198, 13048, 151645, 198, 151644, 77091, 198, 151667, 198]


def test_thinking_template_history(thinking):
    def render(m, g=False):
        return thinking.apply_chat_template(m, tokenize=False, add_generation_prompt=g)

    user, reply = (
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "reasoning\n</think>\n\nanswer"},
    )
    assert render([user, reply]) == (
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\nreasoning\n</think>\n\nanswer<|im_end|>\n"
    )
    # reasoning of turns before the last user message is dropped
    assert render([user, reply, {"role": "user", "content": "More"}], True) == (
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nanswer<|im_end|>\n"
        "<|im_start|>user\nMore<|im_end|>\n<|im_start|>assistant\n<think>\n"
    )
    assert render([user, {"role": "assistant", "content": "answer"}]) == (
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nanswer<|im_end|>\n"
    )


def test_instruct_template_has_no_reasoning(instruct):
    assert instruct.apply_chat_template(
        [{"role": "user", "content": "Hi"}], tokenize=False, add_generation_prompt=True
    ) == ("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")


def test_whisper_tokenizer():
    tok = whisper_tokenizer()
    assert len(tok) == 51866
    assert tok.convert_tokens_to_ids(
        ["<|endoftext|>", "<|startoftranscript|>", "<|en|>", "<|transcribe|>", "<|notimestamps|>"]
    ) == [50257, 50258, 50259, 50360, 50364]
    assert tok.decode(tok.encode(" hello world", add_special_tokens=False)) == " hello world"
