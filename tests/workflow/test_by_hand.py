"""Every `alarm` subcommand run by hand on the default run's inputs gives the rule's output.

A rule passes its stage the registry's settings as JSON; by hand the stage picks the
same settings out of `--configfile` (or the default config). Same settings, same
seeds, same backend: the same rows. Also: every `alarm` command the README shows runs
as written.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil

import pyarrow.parquet as pq
import pytest
from safetensors.torch import load_file
from workflow_helpers import CI_ARGS, CONFIG, REPO, SPEECH, SQUAD, TINY, R, alarm, shard, tiny

from alarm.registry import STAGES
from alarm.texts.authors import PINS

pytestmark = pytest.mark.slow

# Subcommands that need the network, or the authors' released checkpoints: their by-hand
# path is checked up to the point where they would fetch (a clear refusal), see below.
NEEDS_THE_OUTSIDE = {"download_pretrained", "download_corpus", "download_benchmark"}


def same_table(a, b):
    assert pq.read_table(a).equals(pq.read_table(b)), (a, b)


def test_every_subcommand_by_hand_gives_the_rules_output(default_run, monkeypatch):
    w, hand = default_run, default_run / "by_hand"
    hand.mkdir(exist_ok=True)
    ran = set()

    def run(stage, *args, check=True):
        ran.add(stage)
        config = CONFIG if STAGES[stage].settings else ()
        return alarm(w, STAGES[stage].command, *args, *config, check=check)

    run("make_tiny_model", "--role", "whisper", "--output", str(hand / "whisper"))
    same_files(hand / "whisper", w / TINY / "whisper")

    run("collect", "--dataset", SPEECH, "--shard", "0", "--source",
        f"{R}/corpus/sources/synthetic", "--output", str(hand / "raw.parquet"))  # fmt: skip
    same_table(hand / "raw.parquet", w / shard("raw", SPEECH))
    steps = [
        ("audio_filter", [], shard("raw", SPEECH), shard("items", SPEECH)),
        ("generate_prompts", ["--llm", f"{TINY}/prompt_llm"], shard("items", SPEECH),
         shard("prompts", SPEECH)),
        ("generate_r0", ["--llm", f"{TINY}/rlm"], shard("prompts", SPEECH), shard("r0", SPEECH)),
        ("self_rephrase", ["--llm", f"{TINY}/rlm"], shard("r0", SPEECH),
         shard("rephrased", SPEECH)),
        ("answer_length_filter", ["--tokenizer", f"{TINY}/rlm"], shard("rephrased", SPEECH),
         shard("targets", SPEECH)),
        ("instruction_responses", ["--dataset", SQUAD, "--llm", f"{TINY}/rlm"],
         shard("items", SQUAD), shard("instruction", SQUAD)),
        ("wer_filter", ["--raw", shard("raw", SQUAD), "--whisper", f"{TINY}/whisper"],
         shard("instruction", SQUAD), shard("wer_filtered", SQUAD)),
    ]  # fmt: skip
    for stage, extra, source, rules_output in steps:
        out = hand / f"{stage}.parquet"
        run(stage, *extra, "--input", source, "--output", str(out))
        same_table(out, w / rules_output)

    raw = sorted(str(p.relative_to(w)) for p in (w / R / "corpus/raw" / SPEECH).glob("*.parquet"))
    run("train_val_split", "--dataset", SPEECH, "--inputs", *raw, "--output", str(hand / "s.pq"))
    same_table(hand / "s.pq", w / R / f"corpus/split/{SPEECH}.parquet")

    def files(stage):
        return sorted(str(p.relative_to(w)) for p in (w / R / "corpus" / stage).rglob("*.parquet"))

    run("corpus_index", "--targets", *files("targets"), *files("wer_filtered"),
        *[f for f in files("instruction") if SQUAD not in f], "--items", *files("items"),
        "--splits", *files("split"), "--tokenizer", f"{TINY}/rlm",
        "--train", str(hand / "train.parquet"),
        "--validation", str(hand / "val.parquet"))  # fmt: skip
    same_table(hand / "train.parquet", w / R / "corpus/index/train.parquet")
    same_table(hand / "val.parquet", w / R / "corpus/index/validation.parquet")
    run("corpus_stats", "--json", "--output", str(hand / "stats.json"))
    assert json.loads((hand / "stats.json").read_text()) == json.loads(
        (w / R / "corpus/stats.json").read_text()
    )

    summary = run("model_summary", "--model", "alarm_e", "--json",
                  "--pretrained", *tiny("rlm", "whisper", "w2vbert", "muq", "sslam"))  # fmt: skip
    assert json.loads(summary.stdout)["trainable"] > 0

    run("train_model", "--model", "al_muq_r", "--train", f"{R}/corpus/index/train.parquet",
        "--validation", f"{R}/corpus/index/validation.parquet",
        "--pretrained", *tiny("rlm", "muq"), "--run-dir", str(hand / "al_muq_r"))  # fmt: skip
    trained = load_file(hand / "al_muq_r" / "adapter.safetensors")
    rules = load_file(w / R / "models/al_muq_r/adapter.safetensors")
    assert trained.keys() == rules.keys() and all((trained[k] == rules[k]).all() for k in rules)

    run("convert_benchmark", "--benchmark", "synthetic", "--shard", "0", "--source",
        f"{R}/corpus/sources/synthetic", "--output", str(hand / "bench.parquet"))  # fmt: skip
    same_table(hand / "bench.parquet", w / R / "benchmarks/data/synthetic/00000.parquet")
    responses = f"{R}/benchmarks/synthetic/alarm_e/responses/00000.parquet"
    run("benchmark_generate", "--model", "alarm_e", "--input", str(hand / "bench.parquet"),
        "--pretrained", *tiny("rlm", "whisper", "w2vbert", "muq", "sslam"),
        "--weights", f"alarm_ca={R}/models/alarm_ca/adapter.safetensors",
        f"al_whisper_instruct_r={R}/models/al_whisper_instruct_r/adapter.safetensors",
        "--output", str(hand / "responses.parquet"))  # fmt: skip
    same_table(hand / "responses.parquet", w / responses)
    run("score_benchmark", "--benchmark", "synthetic", "--responses", responses,
        "--extraction", "alarm-parity", "--scores", str(hand / "scores.json"),
        "--predictions", str(hand / "p.json"))  # fmt: skip
    scores = json.loads((hand / "scores.json").read_text())
    scored = w / R / "benchmarks/synthetic/alarm_e/alarm-parity"
    assert scores == json.loads((scored / "scores.json").read_text())
    assert (hand / "p.jsonl").read_text() == (scored / "predictions.jsonl").read_text()

    clip = next((w / R / "corpus/sources/synthetic").rglob("*.wav"))
    answer = run("generate", "--model", "alarm_e", "--audio", str(clip), "--prompt", "What?")
    assert answer.returncode == 0

    scores_all = sorted(str(p.relative_to(w)) for p in (w / R / "benchmarks").rglob("scores.json"))
    metrics = sorted(str(p.relative_to(w)) for p in (w / R / "models").rglob("metrics.json"))
    run("report", "--scores", *scores_all, "--metrics", *metrics, "--stats",
        f"{R}/corpus/stats.json", "--markdown", str(hand / "report.md"), "--radar",
        str(hand / "radar.png"))  # fmt: skip
    assert (hand / "report.md").read_text() == (w / R / "report/report.md").read_text()
    assert "0 problems" in run("check_ledgers", R).stdout
    assert "ok: " in run("validate_config", *CI_ARGS[1:]).stdout
    log = next((w / ".snakemake" / "log").glob("*.log"))
    run("explain_failures", str(log))

    # The fetching stages refuse clearly, before any transfer, where they cannot fetch.
    refused = run_refused(w, "download-benchmark", "--benchmark", "synthetic", "--output", "x")
    assert "made by the workflow, not downloaded" in refused
    refused = run_refused(w, "download-pretrained", "--role", "rlm", "--output", "x", *CONFIG)
    assert "tiny model" in refused
    refused = run_refused(w, "download-corpus", "--dataset", SPEECH, "--output", "x", *CONFIG)
    assert "synthetic" in refused
    ran |= NEEDS_THE_OUTSIDE
    # No corpus of the default run is generated (LibriMix is, from its download: its by-hand
    # path is tests/data/sources/test_librimix.py); the stage says so for the others.
    refused = run(
        "generate_corpus", "--dataset", SPEECH, "--source", "x", "--output", "y", check=False
    )
    assert refused.returncode == 2 and "has no generator" in refused.stderr
    # The authors' texts: a mirror whose files are not theirs is refused in one line.
    mirror = hand / "mirror"
    for path in PINS:
        (mirror / path).parent.mkdir(parents=True, exist_ok=True)
        (mirror / path).write_text("def get_system_prompt():\n    return 'x'\n")
    monkeypatch.setenv("ALARM_AUTHOR_TEXTS_URL", f"file://{mirror}")
    refused = run_refused(w, "fetch-author-texts", "--output", str(hand / "texts.json"))
    assert "is not the file this workflow was written against" in refused
    ran.add("fetch_author_texts")

    released = alarm(w, "generate-released", "--help").stdout
    assert "--released" in released
    ran.add("generate_released")
    assert ran | {"make_synthetic_corpus"} == set(STAGES)


def test_the_synthetic_corpus_by_hand_is_the_rules(default_run, tmp_path):
    alarm(default_run, "make-synthetic-corpus", "--output", str(tmp_path / "s"), *CONFIG)
    same_files(tmp_path / "s", default_run / R / "corpus/sources/synthetic")


def same_files(ours, theirs):
    """Two directories hold the same files, byte for byte (Snakemake's marker aside)."""

    def names(root):
        return sorted(
            p.relative_to(root)
            for p in root.rglob("*")
            if p.is_file() and p.name != ".snakemake_timestamp"
        )

    assert names(ours) == names(theirs)
    for name in names(ours):
        assert (ours / name).read_bytes() == (theirs / name).read_bytes(), name


def run_refused(workdir, *args) -> str:
    result = alarm(workdir, *args, check=False)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert "Traceback" not in result.stderr, result.stderr
    return lines[-1]


def readme_commands() -> list[str]:
    """Each `alarm` command in the README's code blocks, continuation lines joined."""
    text = (REPO / "README.md").read_text()
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        for command in block.replace("\\\n", " ").splitlines():
            command = command.split("  #")[0].strip()
            if re.match(r"(\.venv/bin/)?alarm\b", command):
                commands.append(command)
    return commands


def test_every_alarm_command_of_the_readme_runs_as_written(default_run):
    commands = readme_commands()
    assert len(commands) >= 3
    # The README's commands run from the checkout: its config/ and a clip.wav beside results/.
    (default_run / "config").unlink(missing_ok=True)
    (default_run / "config").symlink_to(REPO / "config")
    clip = next((default_run / R / "corpus/sources/synthetic").rglob("*.wav"))
    shutil.copy(clip, default_run / "clip.wav")
    for command in commands:
        args = shlex.split(command)[1:]
        if "--released" in args:  # the authors' checkpoints are not here: its help must show
            args.append("--help")
        result = alarm(default_run, *args, check=False)
        assert result.returncode == 0, f"{command}\n{result.stderr[-2000:]}"
