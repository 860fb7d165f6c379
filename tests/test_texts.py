"""The instruction texts: ours for the default run, the authors' fetched and extracted for the
paper run. No GitHub here: a stand-in of the authors' three files (functions of the same
names and parameters, other prose) is served from disk, with its own pins."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import textwrap

import pytest

from alarm.texts import ARGUMENTS, load_texts
from alarm.texts.authors import (
    INFERENCE,
    MCQA,
    PINS,
    RESPONSES,
    TextsError,
    extract,
    fetch_author_texts,
    load_bundle,
)

# Importing any of these files would fail: the texts must come from them without that.
GUARD = 'raise SystemExit("the authors\' files must never be imported")\n\n'
STAND_IN = {
    RESPONSES: GUARD
    + textwrap.dedent(
        """
        def get_system_prompt():
            return "R0 system."

        def get_main_prompt(audio_description, prompt):
            return f"<a>{audio_description}</a> {prompt}"

        def get_rephrased_system_prompt():
            pairs = [("x", "y")]
            out = "Rephrase."
            for id, (a, b) in enumerate(pairs):
                out += f" {id}:{a}->{b}"
            return out

        def get_rephrased_main_prompt(response, audio_description, prompt):
            response = response.replace("<think>", "<r>")
            return f"Edit: {response}"

        def get_checker_system_prompt():
            return "Check."

        def get_checker_main_prompt(response, description, prompt):
            return f"Judge: {response}"
        """
    ),
    MCQA: GUARD
    + textwrap.dedent(
        """
        def get_system_prompt():
            return "MCQA system."

        def get_main_prompt(question, choices):
            options = ""
            for i, option in enumerate(choices):
                options += f"[{i}] {option}\\n"
            return f"{question}\\n{options}"
        """
    ),
    INFERENCE: GUARD
    + textwrap.dedent(
        """
        def get_system_prompt():
            return "Listen."

        def generate(feature_extractor):
            for i in range(len(feature_extractor)):
                input_start_str = f"pass ({i+1}/{len(feature_extractor)})\\n"
                if i == 0:
                    extra_input_str = (
                        f"{len(feature_extractor)} views. "
                        "Decide.\\n\\n"
                    )
        """
    ),
}


@pytest.fixture
def authors(tmp_path):
    """(base URL, pins) of the stand-in repository on disk."""
    root = tmp_path / "repo"
    pins = {}
    for path, text in STAND_IN.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
        pins[path] = hashlib.sha256(text.encode()).hexdigest()
    return f"file://{root}", pins


def test_ours_cover_every_text_and_keep_the_answer_format():
    ours = load_texts()
    assert all(callable(getattr(ours, name)) for name in ARGUMENTS)
    prompt = ours.mcqa_user("What do you hear?", ["a", "b", "a"])
    assert "(Option_2) a\n" in prompt and "What do you hear?" in prompt
    assert "<answer>" in ours.mcqa_system() and "number" in ours.mcqa_system()
    assert ours.ensemble_pass(2, 3).endswith("\n") and "3" in ours.ensemble_instruction(3)
    assert ours.r0_user("D", "P") == "<start_audio>D<end_audio>\n\nP"
    assert ours.rephrase_system().count("<MODIFIED_RESPONSE_") == 4


def test_the_authors_texts_are_fetched_checked_and_built_without_importing(tmp_path, authors):
    base_url, pins = authors
    bundle = tmp_path / "texts" / "authors.json"
    fetch_author_texts(bundle, pins=pins, base_url=base_url)
    theirs = load_texts(str(bundle))
    assert theirs.r0_system() == "R0 system."
    assert theirs.r0_user("desc", "Q?") == "<a>desc</a> Q?"
    assert theirs.rephrase_system() == "Rephrase. 0:x->y"
    assert theirs.rephrase_user("<think>x", "d", "p") == "Edit: <r>x"  # their replace runs
    assert theirs.checker_user("resp", "d", "p") == "Judge: resp"
    assert theirs.mcqa_user("Q", ["a", "b"]) == "Q\n[0] a\n[1] b\n"
    assert theirs.inference_system() == "Listen."
    # ALARM-E's inline lines: their loop counts from 0, ours from 1
    assert theirs.ensemble_instruction(2) == "2 views. Decide.\n\n"
    assert theirs.ensemble_pass(2, 3) == "pass (2/3)\n"
    recorded = json.loads(bundle.read_text())
    assert recorded["files"] == pins and recorded["commit"].startswith("67c6776")
    # the downloaded files are kept beside the bundle, with their manifest
    assert (bundle.parent / "authors" / MCQA).read_text() == STAND_IN[MCQA]


def test_a_file_that_differs_from_its_pin_stops_the_run_naming_file_and_commit(tmp_path, authors):
    base_url, _ = authors  # the stand-in's bytes are not the authors'
    with pytest.raises(TextsError, match=r"Blinorot/ALARM@67c6776:scripts/alarm/generate_resp"):
        fetch_author_texts(tmp_path / "authors.json", pins=PINS, base_url=base_url)
    assert not (tmp_path / "authors.json").exists()


def test_the_cli_reports_a_changed_file_in_one_line(tmp_path, authors):
    base_url, _ = authors
    run = subprocess.run(
        [sys.executable, "-m", "alarm.cli", "fetch-author-texts", "--output",
         str(tmp_path / "authors.json")],
        capture_output=True, text=True,
        env={"ALARM_AUTHOR_TEXTS_URL": base_url, "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert run.returncode == 2, run.stderr
    assert "is not the file this workflow was written against" in run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("def get_checker_system_prompt():", "def get_judge_prompt():"), "no function"),
        (
            ("def get_main_prompt(audio_description, prompt):", "def get_main_prompt(prompt):"),
            r"takes \(prompt\), this workflow knows \(audio_description, prompt\)",
        ),
    ],
)
def test_a_missing_or_changed_function_is_named(edit, message):
    sources = dict(STAND_IN)
    sources[RESPONSES] = sources[RESPONSES].replace(*edit)
    with pytest.raises(TextsError, match=message):
        extract(sources)


def test_an_inline_text_reading_an_unknown_name_is_named():
    sources = dict(STAND_IN)
    sources[INFERENCE] = sources[INFERENCE].replace("pass ({i+1}", "pass ({j+1}")
    with pytest.raises(TextsError, match=r"input_start_str reads \['feature_extractor', 'j'\]"):
        extract(sources)


def test_extracted_code_gets_no_builtins_beyond_the_few_it_needs(tmp_path):
    sources = dict(STAND_IN)
    sources[MCQA] = sources[MCQA].replace(
        'return "MCQA system."', 'return open("/etc/hostname").read()'
    )
    texts = extract(sources)
    bundle = tmp_path / "authors.json"
    bundle.write_text(json.dumps({"texts": texts}))
    with pytest.raises(TextsError, match="mcqa_system fails"):
        load_bundle(bundle)


def test_an_unreachable_repository_is_named(tmp_path):
    with pytest.raises(TextsError, match="could not fetch Blinorot/ALARM@67c6776"):
        fetch_author_texts(tmp_path / "authors.json", base_url=f"file://{tmp_path}/nothing")
