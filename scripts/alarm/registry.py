"""The stage registry: every action of the workflow declared once.

A :class:`Stage` holds everything about one rule's action: its name (the rule's
name; the ``alarm`` subcommand is the same with dashes), its command-line
arguments (paths and wildcards), the **settings** it reads (the slice of the
validated configuration that changes its output: rules pass it as ``params``,
so Snakemake reruns a job exactly when it changes), its **run knobs** (batch
sizes, engine memory, workers: speed, never results; rules pass them outside
``params``), its output schema and its ``run``.

The CLI (:mod:`alarm.cli`) and the Snakefile (``workflow/rules/common.smk``)
both read this registry, so a stage run by hand with ``--configfile`` and the
same stage run by a rule receive the same settings by construction. Paths never
come from the configuration: every file a stage reads arrives as an argument.

Stages are declared in an order rows can flow through them (each after the stages
whose outputs it reads); the corpus drop table lists the stages in this order.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alarm.benchmarks.extract import EXTRACTION_MODES
from alarm.benchmarks.schema import BENCHMARK_SCHEMA, RESPONSE_SCHEMA
from alarm.config import (
    DEFAULT_CONFIG,
    ConfigError,
    load_config,
    model_spec,
    moving_revisions,
    training_settings,
)
from alarm.data.items import (
    INSTRUCTION_SCHEMA,
    ITEM_SCHEMA,
    PROMPTS_SCHEMA,
    R0_SCHEMA,
    RAW_SCHEMA,
    REPHRASED_SCHEMA,
    TARGETS_SCHEMA,
    WER_FILTERED_SCHEMA,
)
from alarm.specs import InferenceSettings, TrainingSettings, split_engine, with_paths
from alarm.texts import OURS, load_texts

Config = dict[str, Any]
Settings = dict[str, Any]


@dataclass(frozen=True)
class Arg:
    """One command-line argument of a stage, as ``argparse.add_argument`` takes it."""

    flags: tuple[str, ...]
    options: dict[str, Any]


def arg(*flags: str, **options: Any) -> Arg:
    return Arg(flags, options)


def path_pairs(value: str) -> tuple[str, str]:
    """``NAME=PATH``: a pretrained role, an encoder or a model member and its file."""
    name, sep, path = value.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"expected NAME=PATH, got {value!r}")
    return name, path


def pairs_arg(flag: str, help: str, required: bool = False) -> Arg:
    return arg(flag, nargs="*", type=path_pairs, default=[], required=required, help=help)


# Keys a stage's selectors take, each also a required command-line argument.
KEY_HELP = {
    "dataset": "a dataset of the configuration",
    "model": "a model of the configuration",
    "role": "a pretrained role of the configuration (rlm, prompt_llm, whisper, ...)",
    "benchmark": "a benchmark of the configuration",
}


@dataclass
class Job:
    """What a stage's ``run`` receives: its parsed arguments, settings and run knobs."""

    stage: Stage
    args: argparse.Namespace
    settings: Settings
    knobs: Settings

    def pairs(self, name: str) -> dict[str, str]:
        """A ``NAME=PATH`` argument as a mapping."""
        return dict(getattr(self.args, name))


@dataclass(frozen=True)
class Stage:
    name: str
    help: str
    run: Callable[[Job], int | None]
    args: tuple[Arg, ...] = ()
    keys: tuple[str, ...] = ()
    settings: Callable[..., Settings] | None = None
    knobs: Callable[..., Settings] | None = None
    schema: Any = None  # pyarrow schema of the output shard, where the stage writes one
    # The `resources:` family whose `threads` its rule runs with (None: one thread). The
    # rule passes its job's threads as --threads; by hand they default to the same value.
    family: str | None = None

    @property
    def command(self) -> str:
        return self.name.replace("_", "-")

    def settings_of(self, config: Config, **keys: str) -> Settings:
        if self.settings is None:
            return {}
        self._check_keys(config, keys)
        return self.settings(config, **keys)

    def threads_of(self, config: Config) -> int:
        return config["resources"][self.family]["threads"] if self.family else 1

    def knobs_of(self, config: Config, **keys: str) -> Settings:
        if self.knobs is None:
            return {}
        self._check_keys(config, keys)
        return self.knobs(config, **keys)

    def _check_keys(self, config: Config, keys: Mapping[str, str]) -> None:
        sections = {
            "dataset": "datasets",
            "model": "models",
            "role": "pretrained",
            "benchmark": "benchmarks",
        }
        for key in self.keys:
            if key not in keys:
                raise ConfigError(f"{self.command}: needs --{key}")
            if keys[key] not in config[sections[key]]:
                known = ", ".join(sorted(config[sections[key]]))
                raise ConfigError(
                    f"{self.command}: {key} {keys[key]!r} is not in the configuration "
                    f"({sections[key]}: {known})"
                )


STAGES: dict[str, Stage] = {}


def stage(
    name: str, help: str, *args: Arg, keys=(), settings=None, knobs=None, schema=None, family=None
):
    """Declare the decorated function as the ``run`` of stage ``name``."""

    def register(run):
        if name in STAGES:
            raise ValueError(f"stage {name!r} declared twice")
        STAGES[name] = Stage(
            name, help, run, tuple(args), tuple(keys), settings, knobs, schema, family
        )
        return run

    return register


# --- settings selectors shared by several stages -------------------------------------------


def generation_settings(config: Config, stage: str) -> Settings:
    """A generation stage's block without its model role and engine, with backend and seed.

    The model's files arrive as ``--llm``; the engine arguments that change results
    (``ENGINE_SETTINGS``) stay settings; the other engine fields are run knobs.
    """
    block = config["generation"][stage]
    settings = {k: v for k, v in block.items() if k not in ("model", "engine")}
    settings |= {"backend": config["generation"]["backend"], "seed": config["seed"]}
    return settings | split_engine(block.get("engine", {}))[0]


def generation_knobs(config: Config, stage: str) -> Settings:
    engine = split_engine(config["generation"][stage].get("engine", {}))[1]
    return {"batch_size": config["generation"]["batch_size"], "engine": engine}


def inference_settings(config: Config) -> Settings:
    inference = config["inference"]
    settings = {k: v for k, v in inference.items() if k not in ("batch_size", "engine")}
    return settings | split_engine(inference.get("engine", {}))[0]


def inference_knobs(config: Config) -> Settings:
    inference = config["inference"]
    engine = split_engine(inference.get("engine", {}))[1]
    return {"batch_size": inference["batch_size"], "engine": engine}


def source_settings(config: Config, dataset: str) -> Settings:
    """A dataset's source: what is fetched and from where (its ``note`` is documentation)."""
    return {k: v for k, v in config["datasets"][dataset]["source"].items() if k != "note"}


def members(config: Config, model: str) -> list[str]:
    return config["models"][model].get("ensemble", [model])


# --- foundation ----------------------------------------------------------------------------

TEXTS = arg(
    "--texts",
    default=OURS,
    help="the instruction texts: ours, or the authors' bundle that fetch-author-texts wrote",
)


@stage(
    "make_tiny_model",
    "Write a tiny randomly initialised model of a pretrained role's real architecture "
    "(a tiny LM then learns the stages' output formats for their messages in --texts)",
    arg("--output", required=True),
    TEXTS,
    keys=("role",),
    settings=lambda c, role: {
        "spec": c["pretrained"][role]["tiny"],
        "seed": c["seed"],
        "n_candidates": c["generation"]["prompts"]["n_candidates"],
    },
    family="cpu",
)
def _make_tiny_model(job: Job):
    from alarm.tiny.models import make_tiny_model

    s = job.settings
    make_tiny_model(s["spec"], job.args.output, s["seed"], s["n_candidates"], job.args.texts)


def _hub(config: Config, role: str) -> Settings:
    if "hub" not in config["pretrained"][role]:
        raise ConfigError(
            f"download-pretrained: {role!r} is a tiny model in this configuration; "
            "make-tiny-model builds it"
        )
    return config["pretrained"][role]["hub"]


@stage(
    "download_pretrained",
    "Download a pretrained role's hub repository at its pinned revision",
    arg("--output", required=True),
    keys=("role",),
    settings=lambda c, role: _hub(c, role),
)
def _download_pretrained(job: Job):
    from alarm.model.pretrained import download_pretrained

    download_pretrained(job.settings, job.args.output)


@stage(
    "fetch_author_texts",
    "Fetch the authors' instruction texts (their files at a pinned commit, sha256-checked)",
    arg("--output", required=True, help="the JSON bundle the stages read with --texts"),
)
def _fetch_author_texts(job: Job):
    from alarm.texts.authors import fetch_author_texts

    bundle = fetch_author_texts(Path(job.args.output))
    print(f"{len(bundle['texts'])} texts from {bundle['repository']}@{bundle['commit'][:7]}")


@stage(
    "make_synthetic_corpus",
    "Synthesise the default corpus and benchmark (speech, dialogue, sound, music, instructions)",
    arg("--output", required=True),
    settings=lambda c: c["synthetic"],
)
def _make_synthetic_corpus(job: Job):
    from alarm.data.synthetic import make_synthetic_corpus

    written = make_synthetic_corpus(job.args.output, job.settings["items"], job.settings["seed"])
    print(json.dumps(written))


@stage(
    "download_corpus",
    "Download one source corpus (hub, URLs, Google Drive or Kaggle) and unpack it",
    arg("--output", required=True),
    keys=("dataset",),
    settings=source_settings,
)
def _download_corpus(job: Job):
    from alarm.data.sources.download import download_source

    download_source(job.args.dataset, job.settings, job.args.output)


@stage(
    "generate_corpus",
    "Generate a corpus that is made, not downloaded, from its downloaded inputs "
    "(LibriMix's mixtures, by LibriMix's own script)",
    arg("--source", required=True, help="the downloaded inputs (download-corpus's output)"),
    arg("--output", required=True),
    keys=("dataset",),
    settings=source_settings,
    family="cpu_long",
)
def _generate_corpus(job: Job):
    from alarm.data.sources import converter_module

    module = converter_module(job.args.dataset, job.settings)
    if not hasattr(module, "generate"):
        raise ConfigError(
            f"generate-corpus: dataset {job.args.dataset!r} has no generator (it is used as "
            "downloaded or synthesised; LibriMix's mixtures are generated)"
        )
    module.generate(Path(job.args.source), Path(job.args.output), job.settings)


def _collect_settings(config: Config, dataset: str) -> Settings:
    spec = config["datasets"][dataset]
    return {
        "source": source_settings(config, dataset),
        "n_shards": spec["n_shards"],
        "category": spec["category"],
        "repeated_ids": config["filters"]["repeated_ids"],
    }


@stage(
    "collect",
    "Convert one shard of a source corpus to a raw Parquet shard (audio, duration, A_text)",
    arg("--shard", type=int, required=True),
    arg("--source", required=True, help="the downloaded corpus directory"),
    arg("--output", required=True),
    keys=("dataset",),
    settings=_collect_settings,
    schema=RAW_SCHEMA,
    family="cpu",
)
def _collect(job: Job):
    from alarm.data.collect import collect_shard

    a = job.args
    collect_shard(a.dataset, job.settings, a.shard, a.source, a.output)


@stage(
    "audio_filter",
    "Drop clips that do not decode or last 60 s or more; record each drop",
    arg("--input", required=True),
    arg("--output", required=True),
    settings=lambda c: {k: c["filters"][k] for k in ("max_duration_s", "audio_check")},
    schema=ITEM_SCHEMA,
    family="cpu",
)
def _audio_filter(job: Job):
    from alarm.data.filters import audio_filter

    audio_filter(job.settings, job.args.input, job.args.output)


# --- corpus generation (paper §2.1) ----------------------------------------------------------

SHARD_IO = (arg("--input", required=True), arg("--output", required=True))
LLM = arg("--llm", required=True, help="the generating model's directory")


def _run_generation(job: Job, process) -> None:
    """A generation stage over one shard: ``process(rows, backend, settings)``."""
    from alarm.generation.vllm_backend import make_backend
    from alarm.stage import run_shard_stage

    backend = make_backend(job.settings, job.knobs, job.args.llm)
    run_shard_stage(
        stage=job.stage.name,
        input=job.args.input,
        output=job.args.output,
        schema=job.stage.schema,
        process=lambda rows: process(rows, backend, job.settings),
    )


@stage(
    "generate_prompts",
    "Generate 20 candidate prompts per item from A_text, check them, draw one",
    *SHARD_IO,
    LLM,
    settings=lambda c: generation_settings(c, "prompts"),
    schema=PROMPTS_SCHEMA,
    knobs=lambda c: generation_knobs(c, "prompts"),
    family="generation",
)
def _generate_prompts(job: Job):
    from alarm.generation.prompts_stage import generate_prompts

    _run_generation(job, generate_prompts)


@stage(
    "generate_r0",
    "Answer each prompt from A_text with the reasoning LM (R0)",
    *SHARD_IO,
    LLM,
    TEXTS,
    settings=lambda c: generation_settings(c, "r0"),
    schema=R0_SCHEMA,
    knobs=lambda c: generation_knobs(c, "r0"),
    family="generation",
)
def _generate_r0(job: Job):
    from alarm.generation.r0 import generate_r0

    texts = load_texts(job.args.texts)
    _run_generation(
        job, lambda rows, backend, settings: generate_r0(rows, backend, settings, texts)
    )


def _rephrase_settings(config: Config) -> Settings:
    settings = generation_settings(config, "rephrase")
    checker = settings["leak_checker"]
    settings["leak_checker"] = {k: v for k, v in checker.items() if k != "model"}
    return settings


@stage(
    "self_rephrase",
    "Rephrase R0 into audio-grounded wording under the thinking budget",
    *SHARD_IO,
    LLM,
    TEXTS,
    arg("--checker-llm", help="the leak checker's model directory (when the checker is on)"),
    settings=_rephrase_settings,
    schema=REPHRASED_SCHEMA,
    knobs=lambda c: generation_knobs(c, "rephrase"),
    family="generation",
)
def _self_rephrase(job: Job):
    from alarm.generation.rephrase import rephrase

    texts = load_texts(job.args.texts)

    def process(rows, backend, settings):
        return rephrase(rows, backend, settings, texts, _leak_checker(job, backend))

    _run_generation(job, process)


def _leak_checker(job: Job, backend):
    """The leak checker's backend (the rephraser's own when it is the same model), or None."""
    from alarm.generation.vllm_backend import make_backend

    a = job.args
    if not job.settings["leak_checker"]["enabled"]:
        return None
    if a.checker_llm is None:
        raise ConfigError("self-rephrase: the leak checker is on; give --checker-llm")
    if Path(a.checker_llm).resolve() == Path(a.llm).resolve():
        return backend
    return make_backend(job.settings, job.knobs, a.checker_llm)


@stage(
    "instruction_responses",
    "Answer spoken-instruction transcripts (with and without context), no rephrasing",
    *SHARD_IO,
    LLM,
    keys=("dataset",),
    settings=lambda c, dataset: (
        generation_settings(c, "instruction")
        | {"variants": c["datasets"][dataset]["instruction"]["variants"]}
    ),
    knobs=lambda c, dataset: generation_knobs(c, "instruction"),
    schema=INSTRUCTION_SCHEMA,
    family="generation",
)
def _instruction_responses(job: Job):
    from alarm.generation.instruction import instruction_responses

    _run_generation(job, instruction_responses)


# --- filters, split and index ----------------------------------------------------------------


@stage(
    "wer_filter",
    "Drop spoken instructions whose Whisper transcript is too far from the written question",
    arg("--input", required=True),
    arg("--raw", required=True, help="the raw shard holding the audio"),
    arg("--whisper", required=True, help="the Whisper model's directory"),
    arg("--output", required=True),
    settings=lambda c: {k: v for k, v in c["filters"]["wer"].items() if k != "batch_size"},
    knobs=lambda c: {"batch_size": c["filters"]["wer"]["batch_size"]},
    schema=WER_FILTERED_SCHEMA,
    family="generation",
)
def _wer_filter(job: Job):
    from alarm.data.filters import wer_filter

    a = job.args
    wer_filter(job.settings | job.knobs, a.whisper, a.input, a.raw, a.output)


@stage(
    "train_val_split",
    "Assign each item of a corpus to train or validation (10%%, seeded; the official split; none)",
    arg("--inputs", nargs="+", required=True, help="the corpus's raw shards"),
    arg("--output", required=True),
    keys=("dataset",),
    settings=lambda c, dataset: (
        c["split"]
        | {
            "validation": c["datasets"][dataset]
            .get("instruction", {})
            .get("validation", "fraction")
        }
    ),
    family="cpu",
)
def _train_val_split(job: Job):
    from alarm.data.split import train_val_split

    a = job.args
    train_val_split(a.dataset, job.settings, a.inputs, a.output)


@stage(
    "answer_length_filter",
    "Count targets outside the token range, dropped with apply (backbone tokenizer, no special"
    " tokens)",
    *SHARD_IO,
    arg("--tokenizer", required=True, help="the backbone's directory (its tokenizer)"),
    settings=lambda c: c["filters"]["answer_tokens"],
    schema=TARGETS_SCHEMA,
    family="cpu",
)
def _answer_length_filter(job: Job):
    from alarm.data.filters import answer_length_filter

    a = job.args
    answer_length_filter(job.settings, a.tokenizer, a.input, a.output)


@stage(
    "corpus_index",
    "Join targets, items and splits by uid into the train and validation indexes",
    arg("--targets", nargs="+", required=True),
    arg("--items", nargs="+", required=True),
    arg("--splits", nargs="+", required=True),
    arg("--tokenizer", required=True, help="the backbone's directory (its tokenizer)"),
    arg("--train", required=True),
    arg("--validation", required=True),
    settings=lambda c: {
        "datasets": {
            name: {"category": spec["category"], "train_for": spec["train_for"]}
            for name, spec in c["datasets"].items()
        }
    },
    family="cpu",
)
def _corpus_index(job: Job):
    from alarm.data.index import corpus_index

    a = job.args
    corpus_index(job.settings, a.tokenizer, a.targets, a.items, a.splits, a.train, a.validation)


@stage(
    "corpus_stats",
    "Print the paper's Table 1 columns (elements, hours, unique prompts) for a built corpus, "
    "and the rows each corpus stage dropped",
    arg("--train", default="results/corpus/index/train.parquet"),
    arg("--validation", default="results/corpus/index/validation.parquet"),
    arg("--ledgers", default="results/corpus", help="the tree of the corpus stages' ledgers"),
    arg("--json", action="store_true", help="print JSON instead of tables"),
    arg("--output", help="also write the JSON here"),
    settings=lambda c: {
        "categories": {name: spec["category"] for name, spec in c["datasets"].items()}
    },
)
def _corpus_stats(job: Job):
    from alarm.data.index import corpus_stats
    from alarm.files import write_json
    from alarm.report.tables import corpus_table, drops_table

    a = job.args
    stats = corpus_stats(
        a.train, a.validation, a.ledgers, job.settings["categories"], stage_order=list(STAGES)
    )
    print(json.dumps(stats, indent=2) if a.json else corpus_table(stats) + drops_table(stats))
    if a.output:
        write_json(stats, a.output)


# --- model and training (paper §2.2, §3) ------------------------------------------------------

PRETRAINED = pairs_arg(
    "--pretrained", "ROLE=DIR for the backbone (rlm) and each encoder", required=True
)


@stage(
    "model_summary",
    "Build a model on the meta device; print trainable/frozen parameters and audio token rate",
    arg("--json", action="store_true", help="print JSON (keys: trainable, frozen, modules)"),
    arg("--output", help="also write the JSON here"),
    pairs_arg(
        "--pretrained",
        "ROLE=DIR whose config.json to use (default: the reference config of the hub repo)",
    ),
    keys=("model",),
    settings=lambda c, model: {"members": [model_spec(c, m) for m in members(c, model)]},
)
def _model_summary(job: Job):
    from alarm.files import write_json
    from alarm.model.summary import format_summary, model_summary

    pretrained = job.pairs("pretrained")
    members = [with_paths(m, pretrained, complete=False) for m in job.settings["members"]]
    summary = model_summary(members)
    print(json.dumps(summary, indent=2) if job.args.json else format_summary(summary))
    if job.args.output:
        write_json(summary, job.args.output)


def _train_settings(config: Config, model: str) -> Settings:
    training = training_settings(config, model)
    return {
        "model": model_spec(config, model),
        "training": {k: v for k, v in training.items() if k not in TRAINING_KNOBS},
        "datasets": {name: spec["category"] for name, spec in config["datasets"].items()},
    }


# Where checkpoints are written and how many loader workers run: speed and safety, not results
# (a resumed run equals an uninterrupted one bit for bit).
TRAINING_KNOBS = ("num_workers", "checkpoint_every")


@stage(
    "train_model",
    "Train one ALARM model on the corpus index (accelerate; resumes from its checkpoint)",
    arg("--train", required=True, help="the corpus index's train split"),
    arg("--validation", required=True, help="the corpus index's validation split"),
    arg("--run-dir", required=True, help="where the model, metrics and checkpoints go"),
    PRETRAINED,
    pairs_arg("--init", "ENCODER=FILE: an adapter loaded from another model's weights"),
    # A run knob (raising a time limit retrains nothing) of its own: it is the rule's runtime
    # resource, which a profile may override, so --knobs (read from the config) cannot hold it.
    arg(
        "--time-limit-minutes",
        type=float,
        help="the job's time limit: training checkpoints and exits non-zero before it, "
        "and a rerun resumes (none: no limit)",
    ),
    keys=("model",),
    settings=_train_settings,
    knobs=lambda c, model: {k: training_settings(c, model)[k] for k in TRAINING_KNOBS},
    family="training",
)
def _train_model(job: Job):
    from alarm.training.launch import maybe_relaunch
    from alarm.training.loop import train

    maybe_relaunch(sys.argv[1:])
    model = with_paths(job.settings["model"], job.pairs("pretrained"), job.pairs("init"))
    training = TrainingSettings.from_dict(job.settings["training"] | job.knobs)
    a = job.args
    datasets = job.settings["datasets"]
    train(model, training, datasets, a.train, a.validation, a.run_dir, a.time_limit_minutes)


# --- inference and benchmarks (paper §4) -------------------------------------------------------


@stage(
    "download_benchmark",
    "Download a benchmark's audio and metadata at their pinned revisions",
    arg("--output", required=True),
    keys=("benchmark",),
)
def _download_benchmark(job: Job):
    from alarm.benchmarks.sources import download_benchmark

    download_benchmark(job.args.benchmark, Path(job.args.output))


@stage(
    "convert_benchmark",
    "Convert one shard of a downloaded benchmark to the common schema (60 s crops for AIR-Bench)",
    arg("--shard", type=int, required=True),
    arg("--source", required=True),
    arg("--output", required=True),
    keys=("benchmark",),
    settings=lambda c, benchmark: {"seed": c["seed"], **c["benchmarks"][benchmark]},
    schema=BENCHMARK_SCHEMA,
)
def _convert_benchmark(job: Job):
    from alarm.benchmarks.sources import convert_shard

    a, s = job.args, job.settings
    convert_shard(a.benchmark, Path(a.source), a.shard, s["n_shards"], s["limit"], Path(a.output))


def _benchmark_settings(config: Config, model: str) -> Settings:
    return {
        "models": [model_spec(config, m) for m in members(config, model)],
        "inference": inference_settings(config),
    }


def _inference(job: Job) -> InferenceSettings:
    """The inference settings of a job with its run knobs (batch size, engine)."""
    return InferenceSettings.from_dict(job.settings["inference"] | job.knobs)


def _audio_lm(job: Job):
    """The trained model (or ensemble) of a job, its files given as arguments."""
    from alarm.benchmarks.inference import AudioLM

    pretrained, weights = job.pairs("pretrained"), job.pairs("weights")
    models = job.settings["models"]
    missing = [m["name"] for m in models if m["name"] not in weights]
    if missing:
        raise ConfigError(f"--weights lacks {', '.join(missing)}")
    specs = [with_paths(m, pretrained) for m in models]
    paths = [weights[m["name"]] for m in models]
    return AudioLM(specs, paths, _inference(job), texts=load_texts(job.args.texts))


@stage(
    "benchmark_generate",
    "Answer one benchmark shard with a model or ensemble (MCQA prompt, thinking budget)",
    *SHARD_IO,
    PRETRAINED,
    pairs_arg("--weights", "MODEL=FILE for the model or each ensemble member", required=True),
    TEXTS,
    keys=("model",),
    settings=_benchmark_settings,
    knobs=lambda c, model: inference_knobs(c),
    schema=RESPONSE_SCHEMA,
    family="inference",
)
def _benchmark_generate(job: Job):
    from alarm.benchmarks.inference import benchmark_generate

    benchmark_generate(_audio_lm(job), job.args.input, job.args.output)


@stage(
    "generate",
    "Answer a prompt about an audio file with a trained model or ensemble (e.g. alarm_e)",
    arg("--audio", required=True, help="an audio file (any codec libsndfile reads)"),
    arg("--prompt", required=True),
    arg("--system", help="system prompt (default: the texts' generic inference prompt)"),
    TEXTS,
    arg(
        "--models-dir",
        default="results/models",
        help="where the trained models are (their model.json name the networks they need)",
    ),
    keys=("model",),
    settings=_benchmark_settings,
    knobs=lambda c, model: inference_knobs(c),
    family="inference",
)
def _generate(job: Job):
    from alarm.benchmarks.inference import AudioLM, answer_file
    from alarm.model.alarm_model import read_trained

    trained = [read_trained(Path(job.args.models_dir) / m["name"]) for m in job.settings["models"]]
    model = AudioLM(
        [spec for spec, _ in trained],
        [weights for _, weights in trained],
        _inference(job),
        texts=load_texts(job.args.texts),
    )
    return answer_file(model, job.args.audio, job.args.prompt, job.args.system)


@stage(
    "generate_released",
    "Answer a prompt about an audio file with the authors' released checkpoints",
    arg(
        "--released",
        nargs="+",
        required=True,
        help="released checkpoint directories (two for ALARM-E: ALARM-CA, AL-Whisper-Instruct-R)",
    ),
    PRETRAINED,
    arg("--audio", required=True, help="an audio file (any codec libsndfile reads)"),
    arg("--prompt", required=True),
    arg("--system", help="system prompt (default: the texts' generic inference prompt)"),
    TEXTS,
    # The released checkpoints were trained on clips torchcodec decoded at 16 kHz
    # (paper.yaml's values).
    settings=lambda c: {
        "inference": inference_settings(c),
        "decode_rate": c["encoders"]["decode_rate"],
        "decoder": c["encoders"]["decoder"],
    },
    knobs=lambda c: inference_knobs(c),
    family="inference",
)
def _generate_released(job: Job):
    from alarm.benchmarks.inference import AudioLM, answer_file
    from alarm.model.released import load_released, read_released_config, released_settings

    pretrained = job.pairs("pretrained")
    decoding = job.settings["decode_rate"], job.settings["decoder"]
    members = [
        with_paths(released_settings(read_released_config(p), Path(p).name, *decoding), pretrained)
        for p in job.args.released
    ]
    model = AudioLM(
        members,
        job.args.released,
        _inference(job),
        load_weights=load_released,
        texts=load_texts(job.args.texts),
    )
    return answer_file(model, job.args.audio, job.args.prompt, job.args.system)


@stage(
    "score_benchmark",
    "Extract answers and score them by the benchmark's official rules; write predictions",
    arg("--responses", nargs="+", required=True),
    arg("--scores", required=True),
    arg("--predictions", required=True),
    # Both rules score every run (the path names the rule), so it is no config setting.
    arg("--extraction", required=True, choices=EXTRACTION_MODES),
    keys=("benchmark",),
)
def _score_benchmark(job: Job):
    from alarm.benchmarks.score import score_benchmark

    a = job.args
    scores = score_benchmark(
        a.benchmark,
        [Path(p) for p in a.responses],
        Path(a.scores),
        Path(a.predictions),
        a.extraction,
    )
    print(json.dumps({k: scores[k] for k in ("benchmark", "n_items", "overall", "none_share")}))


@stage(
    "report",
    "Write the report: the paper's tables with our rows, training and corpus tables, the radar",
    arg("--scores", nargs="+", required=True),
    arg("--metrics", nargs="+", required=True),
    arg("--stats", required=True),
    arg("--markdown", required=True),
    arg("--radar", required=True),
)
def _report(job: Job):
    from alarm.report import build_report

    a = job.args
    build_report(
        [Path(p) for p in a.scores],
        [Path(p) for p in a.metrics],
        Path(a.stats),
        Path(a.markdown),
        Path(a.radar),
    )


@stage(
    "check_ledgers",
    "Check every ledger under a results tree; exit 1 naming each stage that lost rows",
    arg("root", nargs="?", default="results"),
    arg("--output", help="also write the summary to this file"),
)
def _check_ledgers(job: Job):
    from alarm.files import atomic_path
    from alarm.ledger import check_ledgers

    a = job.args
    checked, problems = check_ledgers(a.root)
    lines = [f"checked {checked} ledgers under {a.root}: {len(problems)} problems", *problems]
    print("\n".join(lines))
    if a.output and not problems:
        with atomic_path(a.output) as tmp:
            tmp.write_text("\n".join(lines) + "\n")
    return 1 if problems or checked == 0 else 0


# --- tools -------------------------------------------------------------------------------------


@stage(
    "validate_config",
    "Validate configuration files against the workflow schema and print the result",
    arg("configs", nargs="+", metavar="CONFIGFILE"),
)
def _validate_config(job: Job):
    config = load_config(job.args.configs)
    print(
        f"ok: {len(config['datasets'])} datasets, {len(config['models'])} models, "
        f"{len(config['benchmarks'])} benchmarks"
    )
    for warning in moving_revisions(config):
        print(f"warning: {warning}")


@stage(
    "explain_failures",
    "Read a Snakemake log; say for each job SLURM killed which rule, which job, what to change",
    arg("log"),
)
def _explain_failures(job: Job):
    from alarm.cluster import explain_failures

    for line in explain_failures(Path(job.args.log).read_text(errors="replace")):
        print(line)


# --- from the command line ---------------------------------------------------------------------


@dataclass
class Invocation:
    """The settings, knobs and CPU threads of a stage run from the command line."""

    settings: Settings
    knobs: Settings
    threads: int


def _json_object(value: str, flag: str) -> Settings:
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as err:
        raise ConfigError(f"{flag} is not valid JSON: {err}") from err
    if not isinstance(parsed, dict):
        raise ConfigError(f"{flag} must be a JSON object")
    return parsed


def resolve(stage: Stage, ns: argparse.Namespace) -> Invocation:
    """A stage's settings, knobs and threads: what a rule passes, else picked out of the
    config (threads: its family's ``resources.<family>.threads``, the rule's own).

    The config is ``--configfile`` (merged left to right) or, when none is given, the
    default ``config/config.yaml``, as for the Snakefile.
    """
    keys = {key: getattr(ns, key) for key in stage.keys}
    given_settings = getattr(ns, "settings", None)
    given_knobs = getattr(ns, "knobs", None)
    given_threads = getattr(ns, "threads", None)
    needs_config = (
        (stage.settings is not None and given_settings is None)
        or (stage.knobs is not None and given_knobs is None)
        or (stage.family is not None and given_threads is None)
    )
    config = load_config(ns.configfile or [DEFAULT_CONFIG]) if needs_config else {}
    settings = (
        _json_object(given_settings, "--settings")
        if given_settings is not None
        else stage.settings_of(config, **keys)
    )
    knobs = (
        _json_object(given_knobs, "--knobs")
        if given_knobs is not None
        else stage.knobs_of(config, **keys)
    )
    threads = given_threads if given_threads is not None else stage.threads_of(config)
    return Invocation(settings, knobs, threads)
