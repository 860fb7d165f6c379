"""The ``alarm`` command: one subcommand per action a workflow rule runs.

Each stage can run without Snakemake: pass the paths and either the
``--settings`` JSON a rule passes, or ``--configfile`` (the command then picks
the same settings out of the configuration with :func:`alarm.config.stage_settings`).
"""

from __future__ import annotations

import argparse
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
    print(f"ok: {len(config['datasets'])} datasets, {len(config['models'])} models, "
          f"{len(config['benchmarks'])} benchmarks")  # fmt: skip


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
    make_tiny_model(settings["spec"], ns.output, settings["seed"])


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
