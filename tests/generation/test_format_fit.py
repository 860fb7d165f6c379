"""The tiny LMs' format fit learns the stages' messages in the run's texts."""

from alarm.texts import ARGUMENTS, Texts, load_texts
from alarm.tiny.format_fit import teacher_examples

ROLES = ["prompter", "checker", "reasoner", "rephraser", "answerer"]
# The texts whose messages the fitted stages send (prompt generation has only ours).
FITTED = {"r0_system", "r0_user", "rephrase_system", "rephrase_user", "checker_system",
          "checker_user", "mcqa_system", "mcqa_user"}  # fmt: skip


def marked_texts():
    def builder(name):
        return lambda *args: f"[{name}] " + " | ".join(map(str, args))

    return Texts("marked", {name: builder(name) for name in ARGUMENTS})


def prompts(tokenizer, texts):
    examples = teacher_examples(ROLES, tokenizer, n=8, seed=0, n_candidates=3, texts=texts)
    return [tokenizer.decode(prompt) for prompt, _ in examples]


def test_the_fit_uses_the_texts_it_is_given(tokenizer):
    theirs = "\n".join(prompts(tokenizer, marked_texts()))
    assert {name for name in ARGUMENTS if f"[{name}]" in theirs} == FITTED
    ours = "\n".join(prompts(tokenizer, load_texts()))
    assert not any(f"[{name}]" in ours for name in ARGUMENTS)
    assert load_texts().r0_system() in ours
