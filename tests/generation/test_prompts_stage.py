import json

import pytest

from alarm.generation.parse import ParseError, json_string_list, last_answer
from alarm.generation.prompts_stage import (
    choose_prompt,
    generate_prompts,
    parse_verdicts,
    prompt_messages,
)

SETTINGS = {
    "n_candidates": 3,
    "max_tokens": 50,
    "checker_max_tokens": 40,
    "seed": 0,
    "sampling": {"temperature": 0.7, "top_p": 0.8, "top_k": 20},
}
A_TEXT = "[00:00-00:02] hello (duration: 2s, gender: Female)"


def _rows(n):
    return [
        {"uid": f"d/{i}/x", "dataset": "d", "category": "speech", "audio_description": A_TEXT}
        for i in range(n)
    ]


def _candidates(*items):
    return f"<answer>{json.dumps(list(items))}</answer>"


def _verdicts(*pairs):
    lines = [f"{i}. answerable: {a}; exposes text: {e}" for i, (a, e) in enumerate(pairs, 1)]
    return "<answer>\n" + "\n".join(lines) + "\n</answer>"


def test_rules_ask_for_n_prompts_and_forbid_exposing_text():
    system, user = prompt_messages(A_TEXT, "music", 20)
    assert "exactly 20 different prompts" in system["content"]
    assert "answerable from the described facts alone" in system["content"]
    assert "languages other than English" in system["content"]
    assert "Never mention a description, metadata" in system["content"]
    assert "music" in system["content"] and user["content"].endswith(A_TEXT)


def test_answer_tags_and_candidate_lists():
    assert last_answer("draft <answer>a</answer> final <answer> b </answer>") == "b"
    for bad in ("no tags", "<answer>unclosed"):
        with pytest.raises(ParseError, match="no_answer_tag"):
            last_answer(bad)
    assert json_string_list('["a", " b "]') == ["a", "b"]
    for bad in ("[1, 2]", "{}", "[]", "not json", '["ok", ""]'):
        with pytest.raises(ParseError, match="candidates_unparseable"):
            json_string_list(bad)


def test_verdicts_parse_and_fail():
    assert parse_verdicts(_verdicts(("yes", "no"), ("no", "no")), 2) == (
        [True, False],
        [False, False],
    )
    with pytest.raises(ParseError, match="checker_unparseable"):
        parse_verdicts(_verdicts(("yes", "no")), 2)  # a verdict missing
    with pytest.raises(ParseError, match="checker_unparseable"):
        parse_verdicts("<answer>1. looks fine</answer>", 1)
    with pytest.raises(ParseError, match="checker_unparseable"):
        parse_verdicts("1. answerable: yes; exposes text: no", 1)  # no tags


def test_choice_is_uniform_among_valid_and_seeded():
    candidates = ["a", "b", "c", "d"]
    answerable, exposes = [True, True, False, True], [False, True, False, False]
    picks = {choose_prompt(candidates, answerable, exposes, seed) for seed in range(200)}
    assert picks == {"a", "d"}
    assert choose_prompt(candidates, answerable, exposes, 7) == choose_prompt(
        candidates, answerable, exposes, 7
    )
    assert choose_prompt(["a"], [False], [False], 0) is None


def test_stage_keeps_candidates_and_verdicts_and_records_each_failure(scripted):
    candidates = {
        0: _candidates("Q1?", "Q2?", "Q3?"),
        1: "no tags at all",
        2: _candidates("Q1?", "Q2?"),
        3: _candidates("Q1?"),
        4: "<answer>[1, 2]</answer>",
    }
    verdicts = {
        0: _verdicts(("yes", "no"), ("no", "no"), ("yes", "yes")),
        2: "<answer>garbage</answer>",
        3: _verdicts(("no", "no")),
    }

    def script(request, call):
        index = int(request_uid(request).split("/")[1])
        return (candidates if call == 0 else verdicts)[index], "stop"

    uids = {}

    def request_uid(request):
        return uids[request.seed]

    from alarm.generation.backend import item_seed

    rows = _rows(5)
    for r in rows:
        uids[item_seed(0, r["uid"], "prompts")] = r["uid"]
        uids[item_seed(0, r["uid"], "checker")] = r["uid"]
    result = generate_prompts(rows, scripted(script), SETTINGS)
    assert [r["uid"] for r in result.rows] == ["d/0/x"]
    kept = result.rows[0]
    assert kept["prompt"] == "Q1?"  # the only answerable, non-exposing candidate
    assert kept["prompt_candidates"] == ["Q1?", "Q2?", "Q3?"]
    assert kept["candidate_answerable"] == [True, False, True]
    assert kept["candidate_exposes_text"] == [False, False, True]
    assert {d.uid: d.reason for d in result.drops} == {
        "d/1/x": "candidates_unparseable",
        "d/2/x": "checker_unparseable",
        "d/3/x": "no_valid_prompt",
        "d/4/x": "candidates_unparseable",
    }
    assert result.stats["candidate_lists_of_other_length"] == 2


def test_a_prompt_that_fills_the_context_is_a_recorded_drop(scripted):
    backend = scripted(lambda r, c: ("never sent", "stop"), max_model_len=8)
    result = generate_prompts(_rows(2), backend, SETTINGS)
    assert {d.uid: d.reason for d in result.drops} == {
        "d/0/x": "prompt_too_long",
        "d/1/x": "prompt_too_long",
    }
    assert backend.calls == [] and result.rows == []
