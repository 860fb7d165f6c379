"""The authors' instruction texts, fetched from their repository at a pinned commit.

Their texts are prose, so this repository does not carry them. ``fetch_author_texts``
downloads the three source files that build them (sha256-pinned), finds with ``ast``
the functions (and, for ALARM-E's joining lines, the assignments) that build each
text, checks their parameters, and writes their source into one JSON bundle. A stage
compiles that source in an empty namespace: the files are never imported, so nothing
else in them runs.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from alarm.fetch import ChecksumError, FetchError, url_file
from alarm.files import write_json
from alarm.texts import ARGUMENTS

REPOSITORY = "Blinorot/ALARM"
COMMIT = "67c6776ba152ae130fe1ddd2dd355e863dae3b73"
BASE_URL = f"https://raw.githubusercontent.com/{REPOSITORY}/{COMMIT}"
# Set to fetch from a mirror (a local clone's files, file:///...); the pins still hold.
BASE_URL_VARIABLE = "ALARM_AUTHOR_TEXTS_URL"

RESPONSES, MCQA, INFERENCE = (
    "scripts/alarm/generate_responses.py",
    "generate_vllm_mcqa.py",
    "generate_vllm.py",
)
PINS = {
    RESPONSES: "0b096fa6752f8d6f4040b2adb1e60ae376494508b300e8f83ad25d46f9ed3e99",
    MCQA: "a7bad4ceccc18dbab027f0e3d8816a59233db9109589a4b51f399c3ce49d3994",
    INFERENCE: "b1c989e0d30e5994e0aa98dfbd1c549e17fa6a3c48fcd9b8aac99e04490517d2",
}
# Our text -> (their file, their function, its parameters, in our texts' argument order).
FUNCTIONS = {
    "r0_system": (RESPONSES, "get_system_prompt", ()),
    "r0_user": (RESPONSES, "get_main_prompt", ("audio_description", "prompt")),
    "rephrase_system": (RESPONSES, "get_rephrased_system_prompt", ()),
    "rephrase_user": (
        RESPONSES,
        "get_rephrased_main_prompt",
        ("response", "audio_description", "prompt"),
    ),
    "checker_system": (RESPONSES, "get_checker_system_prompt", ()),
    "checker_user": (RESPONSES, "get_checker_main_prompt", ("response", "description", "prompt")),
    "mcqa_system": (MCQA, "get_system_prompt", ()),
    "mcqa_user": (MCQA, "get_main_prompt", ("question", "choices")),
    "inference_system": (INFERENCE, "get_system_prompt", ()),
}
# ALARM-E's joining lines are built inline: our text -> (file, the variable assigned, the
# names its expression reads). Their loop counts from 0 over the ensemble's extractors.
ASSIGNMENTS = {
    "ensemble_instruction": (INFERENCE, "extra_input_str", ("feature_extractor",)),
    "ensemble_pass": (INFERENCE, "input_start_str", ("feature_extractor", "i")),
}
# What the extracted code may call; anything else fails when a text is built.
BUILTINS = {"enumerate": enumerate, "len": len, "range": range, "str": str}


class TextsError(ValueError):
    """The authors' files are not what this workflow was written against (bad input: the
    CLI reports it in one line, before any generation)."""


def _where(path: str, commit: str) -> str:
    return f"{REPOSITORY}@{commit[:7]}:{path}"


def _functions(tree: ast.Module) -> dict[str, ast.FunctionDef]:
    return {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}


def _assignment(tree: ast.Module, variable: str) -> ast.expr | None:
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == variable for t in node.targets
        ):
            return node.value
    return None


def extract(sources: Mapping[str, str], commit: str = COMMIT) -> dict[str, dict[str, Any]]:
    """Each text's source code from the authors' files (path -> text); a missing function or
    assignment, or one with other parameters or names, is a TextsError naming what changed."""
    trees = {path: ast.parse(text, filename=path) for path, text in sources.items()}
    texts: dict[str, dict[str, Any]] = {}
    for name, (path, function, parameters) in FUNCTIONS.items():
        node = _functions(trees[path]).get(function)
        if node is None:
            raise TextsError(f"{_where(path, commit)} has no function {function} ({name})")
        found = tuple(a.arg for a in node.args.posonlyargs + node.args.args)
        if found != parameters or node.args.vararg or node.args.kwonlyargs or node.args.kwarg:
            raise TextsError(
                f"{_where(path, commit)}: {function} takes ({', '.join(found)}), this "
                f"workflow knows ({', '.join(parameters)}) ({name})"
            )
        source = ast.get_source_segment(sources[path], node)
        texts[name] = {"file": path, "function": function, "source": source}
    for name, (path, variable, names) in ASSIGNMENTS.items():
        node = _assignment(trees[path], variable)
        if node is None:
            raise TextsError(f"{_where(path, commit)} assigns no {variable} ({name})")
        read = sorted({n.id for n in ast.walk(node) if isinstance(n, ast.Name)} - set(BUILTINS))
        if read != sorted(names):
            raise TextsError(
                f"{_where(path, commit)}: {variable} reads {read}, this workflow knows "
                f"{sorted(names)} ({name})"
            )
        texts[name] = {"file": path, "variable": variable, "source": ast.unparse(node)}
    return texts


def _builder(name: str, entry: dict[str, Any]) -> Callable[..., str]:
    namespace: dict[str, Any] = {"__builtins__": BUILTINS}
    if "function" in entry:
        exec(compile(entry["source"], entry["file"], "exec"), namespace)
        return namespace[entry["function"]]
    code = compile(entry["source"], entry["file"], "eval")

    def build(*args: int) -> str:
        # Our (i, n), 1-based, as their loop's names: its index from 0 over n extractors.
        given = dict(zip(ARGUMENTS[name], args, strict=True))
        names = {"feature_extractor": [None] * given["n"]}
        if "i" in given:
            names["i"] = given["i"] - 1
        return eval(code, namespace, names)

    return build


def builders(texts: dict[str, dict[str, Any]]) -> dict[str, Callable[..., str]]:
    """Our texts' builders from the extracted code; each is tried once on sample arguments."""
    built = {name: _builder(name, entry) for name, entry in texts.items()}
    samples = {
        "description": "[00:00-00:01] a dog barks",
        "prompt": "What do you hear?",
        "response": "<think>\nA dog.\n</think>\n\nA dog barks.",
        "question": "Which animal?",
        "choices": ["dog", "cat"],
        "n": 2,
        "i": 1,
    }
    for name, build in built.items():
        try:
            out = build(*(samples[a] for a in ARGUMENTS[name]))
        except Exception as err:  # the extracted code needs what its file no longer gives it
            raise TextsError(f"{texts[name]['file']}: {name} fails: {err!r}") from err
        if not isinstance(out, str) or not out:
            raise TextsError(f"{texts[name]['file']}: {name} built {out!r}, not a text")
    return built


def fetch_author_texts(
    bundle: Path, pins: Mapping[str, str] = PINS, base_url: str | None = None
) -> dict[str, Any]:
    """Download the authors' files (checked against ``pins``) beside ``bundle`` and write the
    extracted texts to ``bundle``."""
    base_url = base_url or os.environ.get(BASE_URL_VARIABLE) or BASE_URL
    files_dir = bundle.parent / "authors"
    sources = {}
    for path, sha256 in pins.items():
        try:
            saved = url_file(f"{base_url}/{path}", files_dir / path, sha256, root=files_dir)
        except ChecksumError as err:
            raise TextsError(
                f"{_where(path, COMMIT)} is not the file this workflow was written against "
                f"({err}); the authors' texts are not used until this is resolved"
            ) from err
        except (FetchError, subprocess.CalledProcessError) as err:
            raise TextsError(
                f"could not fetch {_where(path, COMMIT)} from {base_url}: {err}"
            ) from err
        sources[path] = saved.read_text()
    texts = extract(sources)
    builders(texts)
    content = {"repository": REPOSITORY, "commit": COMMIT, "files": dict(pins), "texts": texts}
    write_json(content, bundle)
    return content


def load_bundle(path: Path) -> dict[str, Callable[..., str]]:
    """The builders of a bundle ``fetch_author_texts`` wrote."""
    content = json.loads(Path(path).read_text())
    missing = sorted(set(ARGUMENTS) - set(content["texts"]))
    if missing:
        raise TextsError(f"{path} lacks {', '.join(missing)}: fetch the authors' texts again")
    return builders(content["texts"])
