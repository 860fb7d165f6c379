import hashlib

from alarm.benchmarks.prompt import INFERENCE_SYSTEM_PROMPT, MCQA_SYSTEM_PROMPT, mcqa_prompt


def test_system_prompt_is_the_authors_exact_text():
    assert len(MCQA_SYSTEM_PROMPT) == 760
    digest = hashlib.sha256(MCQA_SYSTEM_PROMPT.encode("utf-8")).hexdigest()
    assert digest == "796cb38e1623e9b6e840058f4b813e1a4df8aaa920844ae185c9c7621f3cef31"
    # The braces are literal text the model sees.
    assert "'(Option_{option_ID}) {option_value}'" in MCQA_SYSTEM_PROMPT
    assert MCQA_SYSTEM_PROMPT.endswith("Generate only good responses.")


def test_user_prompt_exact_text_with_zero_based_ids():
    prompt = mcqa_prompt("What do you hear?", ["Dog barking", "Car horn"])
    assert prompt == (
        "Instruction: Answer the question defined in the <question> tag. The options are given "
        "inside <options> tag. You must return only your final answer and put it between "
        "<answer> and </answer> tags. Your answer must be a single number corresponding to the "
        "correct {option_ID}.\n\n"
        "<question>\nWhat do you hear?\n</question>\n\n"
        "<options>\n(Option_0) Dog barking\n(Option_1) Car horn\n</options>\n\n"
    )


def test_user_prompt_keeps_duplicate_and_many_options():
    choices = ["a", "b", "a", "d", "e", "f", "g", "h"]
    prompt = mcqa_prompt("Q", choices)
    assert "(Option_2) a\n" in prompt and "(Option_7) h\n</options>\n\n" in prompt


def test_inference_system_prompt():
    assert INFERENCE_SYSTEM_PROMPT == (
        "You are an audio-understanding model. Listen to the audio and respond to the query."
    )
