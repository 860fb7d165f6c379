import pytest

from alarm.generation.budget import FORCED_CLOSE
from alarm.generation.parse import ParseError
from alarm.generation.rephrase import (
    leak_rejected,
    parse_rephrasing,
    prepare_r0,
    reassemble,
    reassemble_as_authors,
    rephrase,
    rephrase_messages,
)
from alarm.ledger import FLAGGED
from alarm.texts import load_texts

OURS = load_texts()

SETTINGS = {
    "thinking_budget": 16,
    "max_tokens": 64,
    "seed": 0,
    "sampling": {"temperature": 0.6, "top_p": 0.95, "top_k": 20},
    "leak_checker": {"enabled": True, "max_tries": 3, "max_tokens": 32},
    "parse": "strict",
}


def test_r0_tags_are_renamed_and_truncation_flagged():
    assert prepare_r0("reasoning\n</think>\n\nanswer") == (
        "<text_llm_reasoning>\nreasoning\n</text_llm_reasoning>\n\nanswer",
        True,
    )
    assert prepare_r0("cut mid") == ("<text_llm_reasoning>\ncut mid\n</text_llm_reasoning>", False)
    assert prepare_r0("<think>\nr\n</think>\n\na")[0].startswith("<text_llm_reasoning>\nr")


def test_messages_hide_a_text_and_show_the_tagged_response():
    row = {"audio_description": "[00:00-00:02] rain |rain|", "prompt": "What falls?"}
    prepared = "<text_llm_reasoning>\nX\n</text_llm_reasoning>\n\nY"
    system, user = rephrase_messages(OURS, prepared, row)
    assert system["content"].count("<MODIFIED_RESPONSE_") == 4  # four worked examples
    assert "|rain|" not in user["content"] and "What falls?" not in user["content"]
    assert "never complete it" in system["content"]
    assert "<NEW_TEXT_LLM_RESPONSE>\n<text_llm_reasoning>\nX" in user["content"]
    assert "do not try to complete it" in user["content"]


def _output(body, thinking="I will edit a few words."):
    return f"{thinking}\n</think>\n\n<answer>\n{body}\n</answer>"


def test_complete_targets_are_reasoning_think_answer_without_opening_tag():
    body = "<text_llm_reasoning>\nI hear a dog.\n</text_llm_reasoning>\n\nA dog barks."
    assert reassemble(_output(body), complete=True) == "I hear a dog.\n</think>\n\nA dog barks."


def test_truncated_targets_keep_only_the_reasoning():
    body = "<text_llm_reasoning>\nI hear a dog and\n</text_llm_reasoning>"
    assert reassemble(_output(body), complete=False) == "I hear a dog and"
    assert (
        reassemble(_output("<text_llm_reasoning>\nI hear a dog and"), complete=False)
        == "I hear a dog and"
    )


def test_the_last_answer_after_the_rephrasers_reasoning_is_used():
    draft = "<answer>\n<text_llm_reasoning>\ndraft\n</text_llm_reasoning>\n\nno\n</answer>"
    final = "<text_llm_reasoning>\nfinal\n</text_llm_reasoning>\n\nyes"
    assert reassemble(_output(final, thinking=draft), complete=True) == "final\n</think>\n\nyes"
    forced = "drafting" + FORCED_CLOSE + "<answer>\n" + final + "\n</answer>"
    assert reassemble(forced, complete=True) == "final\n</think>\n\nyes"


@pytest.mark.parametrize(
    ("output", "complete", "reason"),
    [
        ("I edit\n</think>\n\nno tags here", True, "no_answer_tag"),
        (_output("<text_llm_reasoning>\nonly reasoning"), True, "structure_lost"),
        (_output("<text_llm_reasoning>\nr\n</text_llm_reasoning>\n\n"), True, "structure_lost"),
        (_output(""), False, "empty_rephrasing"),
        (
            _output(
                "<text_llm_reasoning>\n"
                + FORCED_CLOSE.strip().splitlines()[0]
                + "\n</text_llm_reasoning>\n\na"
            ),
            True,
            "leaked_budget_sentence",
        ),
        (
            _output("<text_llm_reasoning>\nr <MODIFIED_RESPONSE_1>\n</text_llm_reasoning>\n\na"),
            True,
            "leaked_rephraser_thinking",
        ),
        (
            _output("<text_llm_reasoning>\nr\n</think>\nmore\n</text_llm_reasoning>\n\na"),
            True,
            "leaked_rephraser_thinking",
        ),
        (
            _output("<text_llm_reasoning>\nr\n<text_llm_reasoning>\n</text_llm_reasoning>\n\na"),
            True,
            "structure_lost",
        ),
        (_output("<text_llm_reasoning>\nr\n</think>"), False, "leaked_rephraser_thinking"),
    ],
)
def test_malformed_rephrasings_are_dropped_with_a_reason(output, complete, reason):
    with pytest.raises(ParseError) as err:
        reassemble(output, complete)
    assert err.value.reason == reason


R0 = "The description says a dog.\n</think>\n\nA dog."
GOOD = _output("<text_llm_reasoning>\nI hear a dog.\n</text_llm_reasoning>\n\nA dog.")
# The rephraser answered without tags: its own reasoning and </think> stay in the target.
TAGGED_R0 = "<text_llm_reasoning>\nI hear a dog.\n</text_llm_reasoning>\n\nA d"
UNTAGGED = f"I edit a word.\n</think>\n\n{TAGGED_R0}og."
UNCLOSED = f"I edit.\n</think>\n\n<answer>\n{TAGGED_R0}"  # cut before </answer>


@pytest.mark.parametrize(
    ("output", "complete", "target", "missing"),
    [
        (GOOD, True, "I hear a dog.\n</think>\n\nA dog.", None),
        # the tag is deleted where it stands: only the target's start is stripped
        (UNTAGGED, True, "I edit a word.\n</think>\n\n\nI hear a dog.\n</think>\n\nA dog.",
         "no_answer_tag"),
        (UNCLOSED, True, "I hear a dog.\n</think>\n\nA d", "unclosed_answer_tag"),
        # a truncated R0: the closing tag goes, whatever the rephraser did with it
        (_output("<text_llm_reasoning>\nI hear a dog and\n</text_llm_reasoning>"), False,
         "I hear a dog and", None),
        # what strict drops as structure_lost or leaked, the authors keep as it came
        (_output("<text_llm_reasoning>\nonly reasoning"), True, "only reasoning", None),
        (_output(""), False, "", None),
        # the last <answer> anywhere, even a draft inside the rephraser's reasoning
        ("<answer>draft</answer> then\n</think>\n\nfinal", True, "draft", None),
    ],
)  # fmt: skip
def test_the_authors_parsing_keeps_every_output(output, complete, target, missing):
    assert parse_rephrasing(output, R0, complete, "authors") == (target, missing)


def test_the_authors_parsing_restores_think_only_when_r0_held_it():
    body = "<text_llm_reasoning>\nI hear a dog.\n</text_llm_reasoning>\n\nA dog."
    assert reassemble_as_authors(_output(body), True, opened=True) == (
        "<think>\nI hear a dog.\n</think>\n\nA dog.",
        None,
    )
    assert parse_rephrasing(_output(body), "<think>\n" + R0, True, "authors")[0].startswith(
        "<think>\nI hear"
    )


@pytest.mark.parametrize("output", [UNTAGGED, UNCLOSED])
def test_strict_parsing_drops_what_the_authors_keep(output):
    with pytest.raises(ParseError) as err:
        parse_rephrasing(output, R0, True, "strict")
    assert err.value.reason == "no_answer_tag"


@pytest.mark.parametrize(
    ("mode", "kept", "dropped", "flagged"),
    [
        ("authors", 3, [], {"no_answer_tag": 1, "unclosed_answer_tag": 1}),
        ("strict", 1, ["no_answer_tag", "no_answer_tag"], {"no_answer_tag": 0,
                                                           "unclosed_answer_tag": 0}),
    ],
)  # fmt: skip
def test_the_stage_keeps_and_counts_or_drops_by_mode(scripted, mode, kept, dropped, flagged):
    from alarm.generation.backend import item_seed

    rows = [
        {"uid": f"d/{i}/x", "dataset": "d", "prompt": "p", "audio_description": "a", "r0": R0}
        for i in range(3)
    ]
    outputs = {
        item_seed(0, r["uid"], "rephrase/0"): text
        for r, text in zip(rows, (GOOD, UNTAGGED, UNCLOSED), strict=True)
    }
    settings = SETTINGS | {"parse": mode, "thinking_budget": -1}
    result = rephrase(rows, scripted(lambda r, c: (outputs[r.seed], "stop")), settings, OURS)
    assert len(result.rows) == kept
    assert [d.reason for d in result.drops] == dropped
    assert result.stats[FLAGGED] == flagged


def test_leak_verdicts():
    assert not leak_rejected("It sounds natural.\nANSWER: NO")
    assert leak_rejected("It quotes the metadata.\nANSWER: YES")
    assert leak_rejected("no verdict at all")


@pytest.mark.parametrize("mode", ["authors", "strict"])
def test_leak_checker_regenerates_a_bounded_number_of_times(scripted, mode):
    from alarm.generation.backend import item_seed

    good = _output("<text_llm_reasoning>\nI hear rain.\n</text_llm_reasoning>\n\nRain.")
    rows = [
        {
            "uid": f"d/{i}/x",
            "dataset": "d",
            "prompt": "p",
            "audio_description": "a",
            "r0": "The description says rain.\n</think>\n\nRain.",
        }
        for i in range(2)
    ]
    rephraser = scripted(lambda r, c: (good, "stop"))
    # item 0 is accepted on its second attempt, item 1 never
    accepted = {item_seed(0, "d/0/x", "leak/1")}
    checker = scripted(lambda r, c: ("ANSWER: NO" if r.seed in accepted else "ANSWER: YES", "stop"))
    result = rephrase(rows, rephraser, SETTINGS | {"parse": mode}, OURS, checker)
    assert [r["uid"] for r in result.rows] == ["d/0/x"]
    assert result.rows[0]["rephrase_attempts"] == 2
    assert result.rows[0]["target"] == "I hear rain.\n</think>\n\nRain."
    assert [(d.uid, d.reason) for d in result.drops] == [("d/1/x", "leak_checker_rejected")]
    assert len(checker.calls) == SETTINGS["leak_checker"]["max_tries"]  # bounded
    assert [len(c) for c in checker.calls] == [2, 2, 1]
    assert result.stats["leak_rejections"] == 4


@pytest.mark.parametrize("mode", ["authors", "strict"])
def test_prompts_that_fill_the_context_are_recorded_drops_never_targets(scripted, mode):
    rows = [
        {"uid": "d/0/x", "dataset": "d", "prompt": "p", "audio_description": "a", "r0": R0},
    ]
    settings = SETTINGS | {"parse": mode, "thinking_budget": -1}
    too_long = scripted(lambda r, c: ("never sent", "stop"), max_model_len=8)
    result = rephrase(rows, too_long, settings, OURS)
    assert result.rows == [] and too_long.calls == []
    assert [(d.uid, d.reason) for d in result.drops] == [("d/0/x", "prompt_too_long")]
    # A checker that cannot read the candidate does not pass it.
    checker = scripted(lambda r, c: ("ANSWER: NO", "stop"), max_model_len=8)
    result = rephrase(rows, scripted(lambda r, c: (GOOD, "stop")), settings, OURS, checker)
    assert result.rows == [] and checker.calls == []
    assert [(d.uid, d.reason) for d in result.drops] == [("d/0/x", "prompt_too_long")]
