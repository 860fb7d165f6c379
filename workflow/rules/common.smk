# Configuration, wildcard values and input functions; rules only wire.
import json
import os
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.settings.types import DeploymentMethod
from snakemake.utils import validate

sys.path.insert(0, str(Path(workflow.basedir).parent / "scripts"))
from alarm.cluster import image_problems, profile_problems
from alarm.config import (
    check_references,
    pretrained_path,
    stage_settings,
    training_settings,
)
from alarm.shards import shard_name


# Without containers, jobs run the `alarm` command of the environment running Snakemake
# (the README's .venv), whether or not that environment is activated.
envvars:
    "PATH",


if DeploymentMethod.APPTAINER not in workflow.deployment_settings.deployment_method:
    os.environ["PATH"] = (
        f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    )

validate(config, "../schemas/config.schema.yaml")
check_references(config)

REPO = Path(workflow.basedir).parent
DATASETS = sorted(config["datasets"])
DESCRIBED = [d for d in DATASETS if config["datasets"][d]["category"] != "instruction"]
INSTRUCTION = [
    d for d in DATASETS if config["datasets"][d]["category"] == "instruction"
]
WER_FILTERED = [
    d for d in INSTRUCTION if config["datasets"][d]["instruction"]["wer_filter"]
]
SYNTHETIC = [
    d for d in DATASETS if config["datasets"][d]["source"]["type"] == "synthetic"
]
DOWNLOADED = [d for d in DATASETS if d not in SYNTHETIC]
TRAINED = [m for m, spec in config["models"].items() if "ensemble" not in spec]
MULTINODE = [m for m in TRAINED if training_settings(config, m)["nodes"] > 1]
SINGLE_NODE = [m for m in TRAINED if m not in MULTINODE]
ENSEMBLES = [m for m, spec in config["models"].items() if "ensemble" in spec]
EVALUATED = config["evaluation"]["models"]
BENCHMARKS = sorted(config["benchmarks"])
TINY = [r for r, spec in config["pretrained"].items() if "tiny" in spec]
HUB = [r for r, spec in config["pretrained"].items() if "hub" in spec]


def alternatives(names):
    """A wildcard constraint matching exactly these names (never the empty string)."""
    return "|".join(names) if names else "(?!)"


wildcard_constraints:
    dataset=alternatives(DATASETS),
    shard=r"\d{5}",
    model=alternatives(config["models"]),
    benchmark=alternatives(BENCHMARKS),
    role=alternatives(config["pretrained"]),


def check_run():
    """Stop before any submission when the SLURM profile still lacks cluster settings, or
    a run in Apptainer lacks an image it does not build."""
    executor = workflow.executor_plugin.name if workflow.executor_plugin else None
    default_resources = workflow.resource_settings.default_resources
    args = default_resources.args if default_resources is not None else []
    defaults = dict(a.split("=", 1) for a in args)
    per_rule = {
        name: {k: str(v.value) for k, v in res.items()}
        for name, res in workflow.resource_settings.overwrite_resources.items()
    }
    problems = profile_problems(executor, defaults, per_rule)
    if DeploymentMethod.APPTAINER in workflow.deployment_settings.deployment_method:
        images = [image(name) for name in ("data", *GPU_IMAGES)]
        problems += image_problems(images, config["containers"]["build"])
    if problems:
        raise WorkflowError("the run cannot start:\n  " + "\n  ".join(problems))


def settings(stage, **keys):
    """The config section a job depends on, as JSON for its command's --settings."""
    return json.dumps(stage_settings(config, stage, **keys), sort_keys=True)


def shards(dataset):
    return [shard_name(i) for i in range(config["datasets"][dataset]["n_shards"])]


def shard_files(stage, datasets=DATASETS):
    """Every shard file a stage writes, over the given datasets."""
    return [
        f"results/corpus/{stage}/{d}/{s}.parquet" for d in datasets for s in shards(d)
    ]


def rephrase_models():
    """The rephraser, and the leak checker's model when the checker is on."""
    rephrase = config["generation"]["rephrase"]
    checker = rephrase["leak_checker"]
    return [rephrase["model"]] + ([checker["model"]] if checker["enabled"] else [])


def every_shard():
    """Each shard file of every per-shard stage, corpus and benchmarks."""
    corpus = (
        shard_files("raw")
        + shard_files("items")
        + [
            f
            for stage in ("prompts", "r0", "rephrased", "targets")
            for f in shard_files(stage, DESCRIBED)
        ]
        + shard_files("instruction", INSTRUCTION)
        + shard_files("wer_filtered", WER_FILTERED)
    )
    benchmarks = [
        path
        for b in BENCHMARKS
        for s in benchmark_shards(b)
        for path in [
            f"results/benchmarks/data/{b}/{s}.parquet",
            *(f"results/benchmarks/{b}/{m}/responses/{s}.parquet" for m in EVALUATED),
        ]
    ]
    return corpus + benchmarks


def benchmark_shards(benchmark):
    return [shard_name(i) for i in range(config["benchmarks"][benchmark]["n_shards"])]


def resources(family):
    return config["resources"][family]


def pretrained(*roles):
    return [pretrained_path(config, role) for role in roles]


GPU_IMAGES = ("train", "vllm")


def image(name):
    """The Apptainer image a rule runs in (containers/{name}.sif)."""
    return f"containers/{name}.sif"


def image_input(name):
    """The image as an input when images are built by the workflow (on the cluster), and
    for GPU images the smoke test that must pass before the first big job."""
    inputs = [image(name)] if config["containers"]["build"] else []
    if name in GPU_IMAGES and config["containers"]["smoke_tests"]:
        inputs.append(f"results/smoke/{name}.ok")
    return inputs


def corpus_source(wildcards):
    if wildcards.dataset in SYNTHETIC:
        return "results/corpus/sources/synthetic"
    return f"results/corpus/sources/{wildcards.dataset}"


def benchmark_source(wildcards):
    if wildcards.benchmark == "synthetic":
        return "results/corpus/sources/synthetic"
    return f"results/benchmarks/sources/{wildcards.benchmark}"


def targets(dataset):
    """The last per-shard stage of a dataset: its training targets."""
    if dataset in DESCRIBED:
        stage = "targets"
    elif dataset in WER_FILTERED:
        stage = "wer_filtered"
    else:
        stage = "instruction"
    return [f"results/corpus/{stage}/{dataset}/{s}.parquet" for s in shards(dataset)]


def model_inputs(wildcards):
    """What training a model needs: the corpus index and the models it starts from."""
    spec = config["models"][wildcards.model]
    sources = sorted(
        {a["init_from"] for a in spec["adapters"].values() if "init_from" in a}
    )
    roles = ["rlm", *spec["adapters"]]
    return {
        "train": "results/corpus/index/train.parquet",
        "validation": "results/corpus/index/validation.parquet",
        "init": [f"results/models/{m}/adapter.safetensors" for m in sources],
        "pretrained": pretrained(*roles),
    }


def evaluated_model(wildcards):
    """A model's trained weights, or those of every member of an ensemble."""
    spec = config["models"][wildcards.model]
    members = spec.get("ensemble", [wildcards.model])
    return [f"results/models/{m}/adapter.safetensors" for m in members]


def encoder_roles(model):
    spec = config["models"][model]
    members = spec.get("ensemble", [model])
    return sorted({enc for m in members for enc in config["models"][m]["adapters"]})
