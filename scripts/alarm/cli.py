"""The ``alarm`` command: one subcommand per action a workflow rule runs.

Each stage can run without Snakemake: pass the paths and either the
``--settings`` JSON a rule passes, or ``--configfile`` (the command then picks
the same settings out of the configuration with :func:`alarm.config.stage_settings`).
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("alarm")


@dataclass
class Command:
    name: str
    help: str
    run: Callable[[argparse.Namespace], int | None]
    args: list[tuple[tuple[str, ...], dict[str, Any]]] = field(default_factory=list)
    stage: str | None = None  # takes --settings/--configfile for this stage


COMMANDS: dict[str, Command] = {}


def arg(*flags: str, **kwargs: Any) -> tuple[tuple[str, ...], dict[str, Any]]:
    return flags, kwargs


def command(name: str, help: str, *args, stage: str | None = None):
    def register(fn):
        COMMANDS[name] = Command(name, help, fn, list(args), stage)
        return fn

    return register


def settings_of(ns: argparse.Namespace, **keys: str) -> dict[str, Any]:
    """The stage settings: from --settings JSON, or picked out of --configfile."""
    from alarm.config import load_config, settings_arg, stage_settings

    if ns.settings is not None:
        return settings_arg(ns.settings)
    return stage_settings(load_config(ns.configfile), ns.stage, **keys)


# --- foundation -------------------------------------------------------------------------


@command(
    "validate-config",
    "Validate configuration files against the workflow schema and print the result",
    arg("configfile", nargs="+"),
)
def _validate_config(ns):
    from alarm.config import load_config

    config = load_config(ns.configfile)
    print(
        f"ok: {len(config['datasets'])} datasets, {len(config['models'])} models, "
        f"{len(config['benchmarks'])} benchmarks"
    )


@command(
    "make-tiny-model",
    "Write a tiny randomly initialised model of a pretrained role's real architecture",
    arg("--role", required=True),
    arg("--output", required=True),
    stage="make_tiny_model",
)
def _make_tiny_model(ns):
    from alarm.model.tiny import make_tiny_model

    settings = settings_of(ns, role=ns.role)
    make_tiny_model(settings["spec"], ns.output, settings["seed"], settings["n_candidates"])


@command(
    "download-pretrained",
    "Download a pretrained role's hub repository at its pinned revision",
    arg("--role", required=True),
    arg("--output", required=True),
    stage="download_pretrained",
)
def _download_pretrained(ns):
    from alarm.model.pretrained import download_pretrained

    download_pretrained(settings_of(ns, role=ns.role), ns.output)


@command(
    "make-synthetic-corpus",
    "Synthesise the default corpus and benchmark (speech, dialogue, sound, music, instructions)",
    arg("--output", required=True),
    stage="make_synthetic_corpus",
)
def _make_synthetic_corpus(ns):
    from alarm.data.synthetic import make_synthetic_corpus

    settings = settings_of(ns)
    written = make_synthetic_corpus(ns.output, settings["items"], settings["seed"])
    print(json.dumps(written))


@command(
    "download-corpus",
    "Download one source corpus (hub, URLs, Google Drive or Kaggle) and unpack it",
    arg("--dataset", required=True),
    arg("--output", required=True),
    stage="download_corpus",
)
def _download_corpus(ns):
    from alarm.data.sources.download import download_source

    download_source(ns.dataset, settings_of(ns, dataset=ns.dataset)["source"], ns.output)


@command(
    "collect",
    "Convert one shard of a source corpus to a raw Parquet shard (audio, duration, A_text)",
    arg("--dataset", required=True),
    arg("--shard", type=int, required=True),
    arg("--source", required=True, help="the downloaded corpus directory"),
    arg("--output", required=True),
    stage="collect",
)
def _collect(ns):
    from alarm.data.collect import collect_shard

    collect_shard(ns.dataset, settings_of(ns, dataset=ns.dataset), ns.shard, ns.source, ns.output)


@command(
    "audio-filter",
    "Drop clips that do not decode or last 60 s or more; record each drop",
    arg("--input", required=True),
    arg("--output", required=True),
    stage="audio_filter",
)
def _audio_filter(ns):
    from alarm.data.filters import audio_filter

    audio_filter(settings_of(ns), ns.input, ns.output)


# --- corpus generation (paper §2.1) -------------------------------------------------------


def _stage_command(name: str, help: str, stage: str, runner: str):
    """A shard stage that reads --input and writes --output with its settings."""

    @command(name, help, arg("--input", required=True), arg("--output", required=True), stage=stage)
    def run(ns):
        module, function = runner.rsplit(".", 1)
        getattr(importlib.import_module(module), function)(settings_of(ns), ns.input, ns.output)

    return run


_stage_command(
    "generate-prompts",
    "Generate 20 candidate prompts per item from A_text, check them, draw one",
    "generate_prompts",
    "alarm.generation.stages.run_generate_prompts",
)
_stage_command(
    "generate-r0",
    "Answer each prompt from A_text with the reasoning LM (R0)",
    "generate_r0",
    "alarm.generation.stages.run_generate_r0",
)
_stage_command(
    "self-rephrase",
    "Rephrase R0 into audio-grounded wording under the thinking budget",
    "self_rephrase",
    "alarm.generation.stages.run_self_rephrase",
)
_stage_command(
    "answer-length-filter",
    "Drop targets outside the token range (backbone tokenizer, no special tokens)",
    "answer_length_filter",
    "alarm.data.filters.answer_length_filter",
)
_stage_command(
    "instruction-responses",
    "Answer spoken-instruction transcripts (with and without context), no rephrasing",
    "instruction_responses",
    "alarm.generation.stages.run_instruction_responses",
)


@command(
    "wer-filter",
    "Drop spoken instructions whose Whisper transcript is too far from the written question",
    arg("--input", required=True),
    arg("--raw", required=True, help="the raw shard holding the audio"),
    arg("--output", required=True),
    stage="wer_filter",
)
def _wer_filter(ns):
    from alarm.data.filters import wer_filter

    wer_filter(settings_of(ns), ns.input, ns.raw, ns.output)


@command(
    "train-val-split",
    "Assign each item of a corpus to train or validation (10%%, seeded, or the official split)",
    arg("--dataset", required=True),
    arg("--inputs", nargs="+", required=True, help="the corpus's raw shards"),
    arg("--output", required=True),
    stage="train_val_split",
)
def _train_val_split(ns):
    from alarm.data.split import train_val_split

    train_val_split(ns.dataset, settings_of(ns, dataset=ns.dataset), ns.inputs, ns.output)


@command(
    "corpus-index",
    "Join targets, items and splits by uid into the train and validation indexes",
    arg("--targets", nargs="+", required=True),
    arg("--items", nargs="+", required=True),
    arg("--splits", nargs="+", required=True),
    arg("--train", required=True),
    arg("--validation", required=True),
    stage="corpus_index",
)
def _corpus_index(ns):
    from alarm.data.index import corpus_index

    corpus_index(settings_of(ns), ns.targets, ns.items, ns.splits, ns.train, ns.validation)


@command(
    "corpus-stats",
    "Print the paper's Table 1 columns (elements, hours, unique prompts) for a built corpus",
    arg("--train", default="results/corpus/index/train.parquet"),
    arg("--validation", default="results/corpus/index/validation.parquet"),
    arg("--json", action="store_true", help="print JSON instead of a table"),
    arg("--output", help="also write the JSON here"),
)
def _corpus_stats(ns):
    from alarm.data.index import corpus_stats
    from alarm.report.tables import corpus_table
    from alarm.shards import write_json

    stats = corpus_stats(ns.train, ns.validation)
    print(json.dumps(stats, indent=2) if ns.json else corpus_table(stats))
    if ns.output:
        write_json(stats, ns.output)


# --- model and training (paper §2.2, §3) ------------------------------------------------


@command(
    "model-summary",
    "Build a model on the meta device; print trainable/frozen parameters and audio token rate",
    arg("--model", required=True),
    arg("--json", action="store_true", help="print JSON (keys: trainable, frozen, modules)"),
    arg("--output", help="also write the JSON here"),
    stage="model_summary",
)
def _model_summary(ns):
    from alarm.model.summary import format_summary, model_summary
    from alarm.shards import write_json

    summary = model_summary(settings_of(ns, model=ns.model)["members"])
    print(json.dumps(summary, indent=2) if ns.json else format_summary(summary))
    if ns.output:
        write_json(summary, ns.output)


@command(
    "train",
    "Train one ALARM model on the corpus index (accelerate; resumes from its checkpoint)",
    arg("--model", required=True),
    arg("--train", required=True, help="results/corpus/index/train.parquet"),
    arg("--validation", required=True, help="results/corpus/index/validation.parquet"),
    arg("--run-dir", required=True, help="results/models/<model>"),
    stage="train_model",
)
def _train(ns):
    from alarm.training.launch import maybe_relaunch
    from alarm.training.loop import train

    maybe_relaunch(sys.argv[1:])
    train(settings_of(ns, model=ns.model), ns.train, ns.validation, ns.run_dir)


# --- inference and benchmarks (paper §4) ------------------------------------------------


@command(
    "generate",
    "Answer a prompt about an audio file with a trained model, ALARM-E or released checkpoints",
    arg("--model", help="a model of the configuration (e.g. al_whisper_r, alarm_e)"),
    arg(
        "--released",
        action="append",
        default=[],
        help="a released checkpoint directory (repeat for an ensemble, e.g. ALARM-CA then "
        "AL-Whisper-Instruct-R); replaces --model",
    ),
    arg("--audio", required=True, help="an audio file (any codec libsndfile reads)"),
    arg("--prompt", required=True),
    arg("--system", help="system prompt (default: the authors' generic inference prompt)"),
    stage="benchmark_generate",
)
def _generate(ns):
    from pathlib import Path

    from alarm.generation.inference import AudioLM
    from alarm.model.layout import INFERENCE_SYSTEM_PROMPT

    if ns.released:
        from alarm.config import load_config, pretrained_path
        from alarm.model.released import load_released, read_released_config, released_settings

        if ns.configfile is None:
            raise SystemExit(
                "--released needs --configfile (for the encoders, backbone and inference)"
            )
        config = load_config(ns.configfile)
        encoders = {name: {"path": pretrained_path(config, name)} for name in config["encoders"]}
        members = [
            released_settings(
                read_released_config(p), Path(p).name, encoders, pretrained_path(config, "rlm")
            )
            for p in ns.released
        ]
        model = AudioLM(members, ns.released, config["inference"], load_weights=load_released)
    else:
        if ns.model is None:
            raise SystemExit("give --model or --released")
        settings = settings_of(ns, model=ns.model)
        model = AudioLM(settings["models"], settings["weights"], settings["inference"])
    item = {
        "uid": f"cli/{Path(ns.audio).name}",
        "audio": Path(ns.audio).read_bytes(),
        "prompt": ns.prompt,
    }
    (response,) = model.respond([item], ns.system or INFERENCE_SYSTEM_PROMPT)
    if response is None:
        log.error("%s could not be decoded", ns.audio)
        return 1
    print(response)


@command(
    "download-benchmark",
    "Download a benchmark's audio and metadata at their pinned revisions",
    arg("--benchmark", required=True),
    arg("--output", required=True),
)
def _download_benchmark(ns):
    from pathlib import Path

    from alarm.benchmarks.sources import download_benchmark

    download_benchmark(ns.benchmark, Path(ns.output))


@command(
    "convert-benchmark",
    "Convert one shard of a downloaded benchmark to the common schema (60 s crops for AIR-Bench)",
    arg("--benchmark", required=True),
    arg("--shard", type=int, required=True),
    arg("--source", required=True),
    arg("--output", required=True),
    stage="convert_benchmark",
)
def _convert_benchmark(ns):
    from pathlib import Path

    from alarm.benchmarks.sources import convert_shard

    settings = settings_of(ns, benchmark=ns.benchmark)
    convert_shard(
        ns.benchmark,
        Path(ns.source),
        ns.shard,
        settings["n_shards"],
        settings["limit"],
        Path(ns.output),
    )


@command(
    "benchmark-generate",
    "Answer one benchmark shard with a model or ensemble (MCQA prompt, thinking budget)",
    arg("--model", required=True),
    arg("--input", required=True),
    arg("--output", required=True),
    stage="benchmark_generate",
)
def _benchmark_generate(ns):
    from alarm.generation.inference import benchmark_generate

    benchmark_generate(settings_of(ns, model=ns.model), ns.input, ns.output)


@command(
    "score-benchmark",
    "Extract answers and score them by the benchmark's official rules; write predictions",
    arg("--benchmark", required=True),
    arg("--responses", nargs="+", required=True),
    arg("--scores", required=True),
    arg("--predictions", required=True),
    stage="score_benchmark",
)
def _score_benchmark(ns):
    from pathlib import Path

    from alarm.benchmarks.score import score_benchmark

    scores = score_benchmark(
        ns.benchmark,
        [Path(p) for p in ns.responses],
        Path(ns.scores),
        Path(ns.predictions),
        settings_of(ns)["extraction"],
    )
    print(json.dumps({k: scores[k] for k in ("benchmark", "n_items", "overall", "none_share")}))


@command(
    "report",
    "Write the report: the paper's tables with our rows, training and corpus tables, the radar",
    arg("--scores", nargs="+", required=True),
    arg("--metrics", nargs="+", required=True),
    arg("--stats", required=True),
    arg("--markdown", required=True),
    arg("--radar", required=True),
)
def _report(ns):
    from pathlib import Path

    from alarm.report import build_report

    build_report(
        [Path(p) for p in ns.scores],
        [Path(p) for p in ns.metrics],
        Path(ns.stats),
        Path(ns.markdown),
        Path(ns.radar),
    )


@command(
    "check-ledgers",
    "Check every ledger under a results tree; exit 1 naming each stage that lost rows",
    arg("root", nargs="?", default="results"),
    arg("--output", help="also write the summary to this file"),
)
def _check_ledgers(ns):
    from alarm.ledger import check_ledgers

    checked, problems = check_ledgers(ns.root)
    lines = [f"checked {checked} ledgers under {ns.root}: {len(problems)} problems", *problems]
    print("\n".join(lines))
    if ns.output and not problems:
        from alarm.shards import atomic_path

        with atomic_path(ns.output) as tmp:
            tmp.write_text("\n".join(lines) + "\n")
    return 1 if problems or checked == 0 else 0


@command(
    "explain-failures",
    "Read a Snakemake log; say for each job SLURM killed which rule, which job, what to change",
    arg("log"),
)
def _explain_failures(ns):
    from pathlib import Path

    from alarm.cluster import explain_failures

    for line in explain_failures(Path(ns.log).read_text(errors="replace")):
        print(line)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="alarm",
        description="ALARM workflow stages (see README.md). Each subcommand is one rule's action.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="<command>")
    for cmd in COMMANDS.values():
        p = sub.add_parser(cmd.name, help=cmd.help, description=cmd.help)
        for flags, kwargs in cmd.args:
            p.add_argument(*flags, **kwargs)
        if cmd.stage:
            source = p.add_mutually_exclusive_group(required=True)
            source.add_argument("--settings", help="the stage's settings as JSON (rules pass this)")
            source.add_argument("--configfile", nargs="+", help="config YAML file(s), merged")
            p.set_defaults(stage=cmd.stage)
        p.set_defaults(run=cmd.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    ns = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if ns.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    from alarm.config import ConfigError

    try:
        return ns.run(ns) or 0
    except ConfigError as err:
        log.error("%s", err)
        return 2


if __name__ == "__main__":
    sys.exit(main())
