"""Loading and validating the workflow configuration outside Snakemake.

The schema in ``workflow/schemas/config.schema.yaml`` is the one source of
truth: the Snakefile validates with it at DAG build and the ``alarm`` CLI
validates with it when a stage runs by hand. Defaults declared there are
filled in by both. Errors name the offending key path.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jsonschema
import yaml

# The checkout holding the schema and the default config. An image holds the two under
# /opt/alarm and says so with ALARM_REPO: there the package is installed, not in a checkout.
REPO_ROOT = Path(os.environ.get("ALARM_REPO") or Path(__file__).resolve().parents[2])
SCHEMA_PATH = REPO_ROOT / "workflow" / "schemas" / "config.schema.yaml"
DEFAULT_CONFIG = REPO_ROOT / "config" / "config.yaml"


class ConfigError(ValueError):
    """A configuration problem; the message names the key."""


def _with_defaults(validator_class):
    """A validator that fills in ``default`` values of properties, as Snakemake's does."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, sub in properties.items():
                if "default" in sub and name not in instance:
                    instance[name] = copy.deepcopy(sub["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


def _schema() -> dict:
    return yaml.safe_load(SCHEMA_PATH.read_text())


def _key_path(error: jsonschema.ValidationError) -> str:
    return ".".join(str(p) for p in error.absolute_path) or "<top level>"


def validate_config(config: dict[str, Any]) -> dict[str, Any]:
    """Validate ``config`` in place (filling defaults) and check its cross-references."""
    validator_class = _with_defaults(jsonschema.Draft202012Validator)
    # Defaults are set while validating; a second pass reports errors on the completed config.
    for error in validator_class(_schema()).iter_errors(config):
        del error
    errors = sorted(
        jsonschema.Draft202012Validator(_schema()).iter_errors(config),
        key=lambda e: list(map(str, e.absolute_path)),
    )
    if errors:
        lines = [f"config key '{_key_path(e)}': {e.message}" for e in errors[:10]]
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(lines))
    check_references(config)
    return config


def check_references(config: dict[str, Any]) -> None:
    """Cross-checks JSON Schema cannot express: every name used must be defined."""
    problems: list[str] = []
    models = config["models"]
    trained = {name for name, m in models.items() if "ensemble" not in m}
    roles = set(config["pretrained"])
    for stage in ("prompts", "r0", "rephrase", "instruction"):
        role = config["generation"][stage]["model"]
        if role not in roles:
            problems.append(f"generation.{stage}.model: unknown pretrained role {role!r}")
    checker_role = config["generation"]["rephrase"]["leak_checker"]["model"]
    if checker_role not in roles:
        problems.append(f"generation.rephrase.leak_checker.model: unknown role {checker_role!r}")
    problems += _check_checker_memory(config)
    for dataset, spec in config["datasets"].items():
        for model in spec["train_for"]:
            if model not in trained:
                problems.append(f"datasets.{dataset}.train_for: unknown model {model!r}")
        if (spec["category"] == "instruction") != ("instruction" in spec):
            problems.append(
                f"datasets.{dataset}: an 'instruction' block goes with category 'instruction' only"
            )
        source = spec["source"]
        if source["type"] == "synthetic" and "part" not in source:
            problems.append(f"datasets.{dataset}.source: a synthetic source needs 'part'")
        if source["type"] == "hub" and "repo" not in source:
            problems.append(f"datasets.{dataset}.source: a hub source needs 'repo'")
    for name, model in models.items():
        if "ensemble" in model:
            problems += [
                f"models.{name}.ensemble: unknown trained model {member!r}"
                for member in model["ensemble"]
                if member not in trained
            ]
            continue
        problems += _check_architecture(name, model, trained)
        if not any(name in spec["train_for"] for spec in config["datasets"].values()):
            problems.append(f"models.{name}: no dataset lists it in train_for")
    for model in config["evaluation"]["models"]:
        if model not in models:
            problems.append(f"evaluation.models: unknown model {model!r}")
    if problems:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems))


# vLLM's default share of GPU memory, and the most two engines of one job can each take
# (each checks at start that its share is still free; the CUDA context takes some).
VLLM_DEFAULT_MEMORY, TWO_ENGINES_MEMORY = 0.9, 0.45


def _check_checker_memory(config: dict[str, Any]) -> list[str]:
    """A leak checker on another model than the rephraser's starts a second vLLM engine in
    the rephrasing job, with the same engine settings: both must fit one GPU."""
    rephrase = config["generation"]["rephrase"]
    checker = rephrase["leak_checker"]
    if not (
        config["generation"]["backend"] == "vllm"
        and checker["enabled"]
        and checker["model"] != rephrase["model"]
    ):
        return []
    share = rephrase.get("engine", {}).get("gpu_memory_utilization") or VLLM_DEFAULT_MEMORY
    if share <= TWO_ENGINES_MEMORY:
        return []
    return [
        f"generation.rephrase.engine.gpu_memory_utilization: {share} for each of two vLLM "
        f"engines (the rephraser {rephrase['model']!r} and the leak checker "
        f"{checker['model']!r}) in one job; set it to {TWO_ENGINES_MEMORY} or less"
    ]


def _check_architecture(name: str, model: dict[str, Any], trained: set[str]) -> list[str]:
    problems = []
    adapters, fusion = model["adapters"], model["fusion"]
    for enc, adapter in adapters.items():
        where = f"models.{name}.adapters.{enc}"
        if adapter["type"] != "identity" and "width" not in adapter:
            problems.append(f"{where}: a {adapter['type']} adapter needs 'width'")
        if adapter["type"] == "conv" and "norm" not in adapter:
            problems.append(f"{where}: a conv adapter needs 'norm' (batch or layer)")
        source = adapter.get("init_from")
        if source is not None and (source not in trained or source == name):
            problems.append(f"{where}.init_from: {source!r} is not another trained model")
    where = f"models.{name}.fusion"
    if fusion["type"] == "identity":
        if len(adapters) != 1:
            problems.append(f"{where}: identity fusion takes exactly one encoder")
    else:
        needed = {
            "cross_attention": ("primary", "order", "width", "heads", "ffn", "layers_per_encoder"),
            "perceiver": (
                "primary",
                "order",
                "width",
                "heads",
                "latents",
                "self_attention_layers",
                "self_attention_repeats",
            ),
        }[fusion["type"]]
        problems += [f"{where}: needs {key!r}" for key in needed if key not in fusion]
        named = [fusion.get("primary"), *fusion.get("order", [])]
        if sorted(map(str, named)) != sorted(adapters):
            problems.append(
                f"{where}: primary + order must name each adapter once ({sorted(adapters)})"
            )
    return problems


def _deep_merge(base: dict, update: dict) -> dict:
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _deep_merge(base[key], value)
        else:
            base[key] = value
    return base


def load_config(paths: Iterable[str | Path]) -> dict[str, Any]:
    """Merge YAML files left to right (as Snakemake's --configfile does) and validate."""
    config: dict[str, Any] = {}
    for path in paths:
        _deep_merge(config, yaml.safe_load(Path(path).read_text()) or {})
    return validate_config(config)


COMMIT = re.compile(r"[0-9a-f]{40}")


def moving_revisions(config: Any, where: str = "") -> list[str]:
    """A warning for every hub revision of ``config`` that names a branch or tag, not a
    commit: what a later download of it gets may differ."""
    if isinstance(config, list):
        return [m for i, v in enumerate(config) for m in moving_revisions(v, f"{where}[{i}]")]
    if not isinstance(config, dict):
        return []
    found = []
    revision = config.get("revision")
    if isinstance(revision, str) and not COMMIT.fullmatch(revision):
        found.append(
            f"{where}: {config.get('repo', '?')}@{revision} is a branch or tag, not a commit; "
            "pin a commit (its download logs and records the one it got)"
        )
    for key, value in config.items():
        found += moving_revisions(value, f"{where}.{key}" if where else str(key))
    return found


def model_spec(config: dict[str, Any], model: str) -> dict[str, Any]:
    """A trained model's architecture: adapters, fusion, encoders' settings and decode rate,
    hub ids, as JSON for a rule's settings. No paths: the networks' files reach a command
    as arguments (see :func:`alarm.specs.with_paths`, which makes it a typed model spec)."""
    from alarm.specs import model_decode_rate  # specs imports this module

    spec = config["models"][model]

    def hub_repo(role: str) -> str | None:
        return config["pretrained"][role].get("hub", {}).get("repo")

    return {
        "name": model,
        "adapters": spec["adapters"],
        "fusion": spec["fusion"],
        "encoders": {
            name: {**config["encoders"][name], "hub": hub_repo(name)} for name in spec["adapters"]
        },
        "decode_rate": model_decode_rate(spec["adapters"], config["encoders"]["decode_rate"]),
        "decoder": config["encoders"]["decoder"],
        "llm_hub": hub_repo("rlm"),
    }


def training_settings(config: dict[str, Any], model: str) -> dict[str, Any]:
    """A model's training recipe (defaults overridden by the model's own block) and data."""
    data = {
        name: spec["train_for"][model]
        for name, spec in config["datasets"].items()
        if model in spec["train_for"]
    }
    return {**config["training"], **config["models"][model].get("training", {}), "data": data}
