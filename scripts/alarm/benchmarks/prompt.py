"""The authors' MCQA prompts (generate_vllm_mcqa.py), character for character.

Option ids are 0-based numbers, never letters, and the braces in
``{option_ID}`` are literal text the model sees, not format fields.
"""

from __future__ import annotations

from collections.abc import Sequence

# 760 characters; tests pin its sha256 so that an edit shows up as a failure.
MCQA_SYSTEM_PROMPT = (
    "You are an audio-understanding model. You will be given an audio signal, a question about "
    "it, and a list of possible answer options in the following format: "
    "'(Option_{option_ID}) {option_value}'.\n\n"
    "Analyze the audio and choose the correct option that answers the question. Put your final "
    "answer between <answer> and </answer> tags. Your answer must be a single number: the "
    "{option_ID} that corresponds to the correct option. You must always return a valid "
    "{option_ID}, even if you are not sure about the correct choice.\n\n"
    "Good response format example:\n<answer>{option_id}</answer>\n\n"
    "Bad response format example:\n{some text}<answer>{option_id}<answer>\n\n"
    "The bad response is bad because it returns additional text apart from the answer. "
    "Generate only good responses."
)

# The system prompt of free-form audio queries (training targets, descriptions).
INFERENCE_SYSTEM_PROMPT = (
    "You are an audio-understanding model. Listen to the audio and respond to the query."
)

MCQA_INSTRUCTION = (
    "Instruction: Answer the question defined in the <question> tag. The options are given "
    "inside <options> tag. You must return only your final answer and put it between <answer> "
    "and </answer> tags. Your answer must be a single number corresponding to the correct "
    "{option_ID}.\n\n"
)


def mcqa_prompt(question: str, choices: Sequence[str]) -> str:
    """The user prompt of one MCQA item; the audio goes before it in the user turn."""
    options = "".join(f"(Option_{i}) {choice}\n" for i, choice in enumerate(choices))
    return (
        MCQA_INSTRUCTION
        + f"<question>\n{question}\n</question>\n\n"
        + f"<options>\n{options}</options>\n\n"
    )
