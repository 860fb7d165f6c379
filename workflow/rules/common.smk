# Configuration, wildcard values and input functions; rules only wire.
import contextlib
import json
import os
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.logging import logger
from snakemake.settings.types import DeploymentMethod
from snakemake.io import strip_wildcard_constraints
from snakemake.utils import validate

sys.path.insert(0, str(Path(workflow.basedir).parent / "scripts"))
from alarm import progress
from alarm.benchmarks.extract import EXTRACTION_MODES
from alarm.cluster import (
    Request,
    apptainer_args_problems,
    explain_failures,
    gpu_model_problems,
    host_environment_problems,
    image_problems,
    limit_problems,
    offered_gres,
    partition_limits,
    preemption_warning,
    profile_problems,
    slurm_config,
)
from alarm.config import check_references, moving_revisions, training_settings
from alarm.data.sources import GENERATED as GENERATED_CORPORA
from alarm.registry import STAGES
from alarm.sharding import shard_name
from alarm.texts import OURS


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


def write_progress(table, plot, log):
    """What `progress` runs: `alarm progress` in this process (which holds Snakemake),
    its dry runs given this launch's Snakefile, config files and deployment, so that they
    judge each job as this launch does."""
    launch = ["--snakefile", str(workflow.main_snakefile)]
    if workflow.overwrite_configfiles:
        launch += ["--configfile", *map(str, workflow.overwrite_configfiles)]
    if DeploymentMethod.APPTAINER in workflow.deployment_settings.deployment_method:
        launch += ["--sdm", "apptainer"]
    with open(log, "w") as said, contextlib.redirect_stderr(said):
        failed = progress.main(["--output", table, "--png", plot, "--", *launch])
    if failed:
        raise WorkflowError(f"alarm progress failed: see {log}")


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
# Corpora made from their downloads by a script of their own (LibriMix's mixtures).
GENERATED = [d for d in DOWNLOADED if d in GENERATED_CORPORA]
TRAINED = [m for m, spec in config["models"].items() if "ensemble" not in spec]
MULTINODE = [m for m in TRAINED if training_settings(config, m)["nodes"] > 1]
SINGLE_NODE = [m for m in TRAINED if m not in MULTINODE]
ENSEMBLES = [m for m, spec in config["models"].items() if "ensemble" in spec]
EVALUATED = config["evaluation"]["models"]
BENCHMARKS = sorted(config["benchmarks"])
EXTRACTIONS = list(EXTRACTION_MODES)
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
    a run in Apptainer lacks an image it does not build, uses one that does not hold
    this checkout's code, pins and definition, or would hand the images the launching
    shell's PYTHONPATH or PYTHONHOME."""
    executor = workflow.executor_plugin.name if workflow.executor_plugin else None
    default_resources = workflow.resource_settings.default_resources
    args = default_resources.args if default_resources is not None else []
    defaults = dict(a.split("=", 1) for a in args)
    per_rule = {
        name: {k: str(v.value) for k, v in res.items()}
        for name, res in workflow.resource_settings.overwrite_resources.items()
    }
    problems = profile_problems(executor, defaults, per_rule)
    if executor == "slurm":
        models = [r["gpu_model"] for r in per_rule.values() if "gpu_model" in r]
        problems += gpu_model_problems(models, offered_gres())
        warning = preemption_warning(slurm_config())
        if warning:
            logger.warning(f"Warning: {warning}")
    for moving in moving_revisions(config):
        logger.warning(f"Warning: {moving}")
    if DeploymentMethod.APPTAINER in workflow.deployment_settings.deployment_method:
        problems += apptainer_args_problems(workflow.deployment_settings.apptainer_args)
        problems += host_environment_problems(os.environ)
        # Each image the jobs to run use must hold this checkout (its build record says),
        # but those this run (re)builds. onstart runs once the DAG is built, before any job.
        jobs = list(workflow.dag.needrun_jobs())
        rebuilt = {
            f for j in jobs if j.rule.name == "build_container" for f in j.output
        }
        used = sorted({i for j in jobs for i in images_of(j)})
        problems += image_problems(used, config["containers"]["build"], REPO, rebuilt)
    if problems:
        raise WorkflowError("the run cannot start:\n  " + "\n  ".join(problems))


def slurm_defaults():
    """The profile's default-resources when they name a slurm_partition (a SLURM profile,
    known before the DAG is built, dry runs included), else {}."""
    given = workflow.resource_settings.default_resources
    defaults = dict(a.split("=", 1) for a in (given.args if given else []))
    return defaults if "slurm_partition" in defaults else {}


def preflight_settings(kind):
    """Where site_preflight reaches a node of the `cpu` or `gpu` partition: the profile's
    partition (the GPU rules': train_model's, else the default one), account and GPU
    model."""
    defaults = slurm_defaults()
    gpu = workflow.resource_settings.overwrite_resources.get("train_model", {})
    raw = lambda key: str(gpu[key].raw) if key in gpu else ""
    partition = (kind == "gpu" and raw("slurm_partition")) or defaults[
        "slurm_partition"
    ]
    return {
        "partition": partition.strip("'\""),
        "account": defaults.get("slurm_account", "").strip("'\""),
        "gpu_model": raw("gpu_model").strip("'\""),
    }


def preflight(kind):
    """The site preflight of a partition as an input (ancient: it runs once), on a cluster
    run whose config asks for it."""
    wanted = config["containers"]["preflight"] and slurm_defaults()
    return [ancient(f"results/preflight/{kind}.ok")] if wanted else []


def check_site():
    """Before the DAG is built, in the main process of a run with a SLURM profile (its
    default-resources name a slurm_partition), dry runs included (Snakemake skips onstart
    in them): the profile's placeholders, and every submitted rule's time and memory, its
    largest retry counted, against its partition's limits. A dry run prints what a launch
    would refuse."""
    defaults = slurm_defaults()
    if not workflow.is_main_process or not defaults:
        return
    overrides = workflow.resource_settings.overwrite_resources
    requests = []
    for declared in workflow.rules:
        if declared.name in workflow._localrules or declared.norun:
            continue
        given = {k: v.raw for k, v in overrides.get(declared.name, {}).items()}
        # A rule's own retries, else the site profile's `retries: 1` (the profile's value
        # is not known before the DAG is built; counting one retry errs on the safe side).
        own = declared._restart_times
        attempts = 1 + (own if own is not None else 1)
        mem = declared.resources.get("mem_mb")
        runtime = declared.resources.get("runtime")
        requests.append(
            Request(  # rule, partition, runtime, memory on the first and the last attempt
                declared.name,
                str(given.get("slurm_partition", defaults["slurm_partition"])),
                int(given.get("runtime", runtime.value if runtime else 0)),
                int(given.get("mem_mb", requested(mem, 1))),
                int(given.get("mem_mb", requested(mem, attempts))),
            )
        )
    partitions = partition_limits({r.partition for r in requests})
    per_rule = {
        name: {k: v.raw for k, v in res.items()} for name, res in overrides.items()
    }
    problems = profile_problems("slurm", defaults, per_rule)
    if partitions is not None:
        problems += limit_problems(
            [r for r in requests if "CHANGE_ME" not in r.partition], partitions
        )
    if not problems:
        return
    message = "the run cannot start:\n  " + "\n  ".join(problems)
    if workflow.output_settings.dryrun:
        logger.warning(f"Warning: a launch would stop here; {message}")
    else:
        raise WorkflowError(message)


def requested(resource, attempt):
    """A rule's resource on an attempt: our memory functions take (wildcards, attempt)."""
    if resource is None:
        return 0
    return resource._value(None, attempt) if resource.is_evaluable() else resource.value


def settings(stage, **keys):
    """What changes a job's output (the registry's selector), as JSON for --settings.

    Rules pass it as a param: Snakemake reruns a job exactly when it changes."""
    return json.dumps(STAGES[stage].settings_of(config, **keys), sort_keys=True)


def knobs(stage, **keys):
    """A job's run knobs (speed, never results), as JSON for --knobs.

    Rules pass them as a resource, which is no rerun trigger: retuning a batch size or
    vLLM's memory share reruns nothing."""
    return json.dumps(STAGES[stage].knobs_of(config, **keys), sort_keys=True)


def on_login_node(rule_name):
    """Downloads and image builds run on the login node (compute nodes often have no
    internet; the profile's local-cores bounds them) unless the profile gives the rule a
    partition (set-resources.<rule>.slurm_partition, e.g. a transfer partition with
    internet access): then it is submitted like any other rule."""
    given = workflow.resource_settings.overwrite_resources.get(rule_name, {})
    return "slurm_partition" not in given


def stage_threads(stage):
    """A stage's threads (its resources family's). Its rule hands the job's threads to the
    stage as --threads, and a stage run by hand defaults to the same number: the float
    reductions, and so the bits, follow the thread count."""
    return STAGES[stage].threads_of(config)


def shards(dataset):
    return [shard_name(i) for i in range(config["datasets"][dataset]["n_shards"])]


def shard_files(stage, datasets=DATASETS):
    """Every shard file a stage writes, over the given datasets."""
    return [
        f"results/corpus/{stage}/{d}/{s}.parquet" for d in datasets for s in shards(d)
    ]


# The instruction texts every LLM stage reads (alarm.texts): ours, or the authors' bundle
# that fetch_author_texts writes. A stage is given `--texts {params.texts}`.
AUTHOR_TEXTS = "results/texts/authors.json"
TEXTS = AUTHOR_TEXTS if config["texts"] == "authors" else OURS


def texts_input():
    """The authors' texts bundle as an input where the run uses them."""
    return {"texts": AUTHOR_TEXTS} if TEXTS == AUTHOR_TEXTS else {}


def format_fitted(role):
    """Whether a tiny role is an LM fitted to the stages' formats in the run's texts
    (alarm.tiny.format_fit); the other tiny roles read no texts."""
    return "format_fit" in config["pretrained"][role]["tiny"]


def rephrase_models():
    """The rephraser (llm), and the leak checker's model (checker) when the checker is on."""
    rephrase = config["generation"]["rephrase"]
    checker = rephrase["leak_checker"]
    models = {"llm": pretrained_dir(rephrase["model"])}
    if checker["enabled"]:
        models["checker"] = pretrained_dir(checker["model"])
    return models


def every_shard():
    """Each file of every per-shard stage (an output with a {shard} wildcard), over the
    datasets (or benchmarks and models) its constraints admit: a new per-shard stage is
    a target of `all` without being listed anywhere."""
    files = []
    for producer in workflow.rules:
        for pattern in map(strip_wildcard_constraints, producer.output):
            if "{shard}" not in pattern:
                continue
            if "{dataset}" in pattern:
                values = [dict(dataset=d, shard=s) for d in DATASETS for s in shards(d)]
            else:
                values = [
                    dict(benchmark=b, shard=s, model=m)
                    for b in BENCHMARKS
                    for s in benchmark_shards(b)
                    for m in EVALUATED
                ]
            candidates = {pattern.format(**v) for v in values}
            files += sorted(path for path in candidates if producer.is_producer(path))
    return files


def benchmark_shards(benchmark):
    return [shard_name(i) for i in range(config["benchmarks"][benchmark]["n_shards"])]


def resources(family):
    return config["resources"][family]


# Every job declares mem_mb and runtime: Snakemake's default memory is twice the inputs'
# size, an Apptainer image included, and a job without a runtime gets the partition's
# default time limit.
def job_resources(family, **extra):
    """What a job asks of the cluster, from its `resources:` family: memory (times
    the attempt), time, and the family's GPUs where it has any; `extra` adds or
    replaces."""
    asked = {"mem_mb": memory(family), "runtime": resources(family)["runtime"]}
    if resources(family).get("gpu"):
        asked["gpu"] = resources(family)["gpu"]
    return asked | extra


def stage_resources(stage, **extra):
    """A stage's job: its family's resources, with its threads as the CPUs it asks for."""
    family = STAGES[stage].family
    return job_resources(family, cpus_per_task=stage_threads(stage), **extra)


def memory(family, most=None):
    """A family's memory times the attempt, at most `most` times: a job SLURM killed for
    memory gets more."""
    return lambda wildcards, attempt: resources(family)["mem_mb"] * min(
        attempt, most or attempt
    )


def pretrained_dir(role):
    """Where a pretrained role's network is materialised: hub snapshots and tiny models live
    apart, so a default and a paper-scale run in one directory never take each other's.
    """
    kind = "tiny" if "tiny" in config["pretrained"][role] else "hub"
    return f"results/pretrained/{kind}/{role}"


def named(prefix, paths):
    """Inputs named <prefix>_<name>, which `pairs(prefix)` hands a command as name=path."""
    return {f"{prefix}_{name}": path for name, path in paths.items()}


def pretrained(*roles):
    return named("pretrained", {role: pretrained_dir(role) for role in roles})


def pairs(prefix):
    """A params function: `name=path` for each input named <prefix>_<name>. It is derived
    from the inputs, so it is no rerun trigger of its own (the inputs are)."""

    def render(wildcards, input):
        start = f"{prefix}_"
        return " ".join(
            f"{name[len(start):]}={path}"
            for name, path in input.items()
            if name.startswith(start)
        )

    return render


GPU_IMAGES = ("train", "vllm")


def image(name):
    """The Apptainer image a rule runs in (containers/{name}.sif, relative to the working
    directory)."""
    return f"containers/{name}.sif"


def image_input(name, on_node=True):
    """The image as an input when images are built by the workflow (on the cluster), for
    GPU images the smoke test that must pass before the first big job, and the site
    preflight of their partition.

    Both are ancient(): an image is far above Snakemake's checksum size, and its date says
    nothing about its content, so a rebuild (a pin bump, --force) reruns no job. Whether
    an image holds this checkout's code and pins is checked before any submission
    (check_run, from the image's build record)."""
    inputs = [ancient(image(name))] if config["containers"]["build"] else []
    if name in GPU_IMAGES and config["containers"]["smoke_tests"]:
        inputs.append(ancient(f"results/smoke/{name}.ok"))
    if not on_node:  # downloads run on the login node, on no partition to check first
        return inputs
    # The site preflight of the partition the image's jobs mostly run on.
    return inputs + preflight("gpu" if name in GPU_IMAGES else "cpu")


def images_of(job):
    """The images a job runs in: its container, or the one a rule that calls apptainer
    itself names (params.image)."""
    named = [job.container_img_url, getattr(job.params, "image", None)]
    return [i for i in named if i and str(i).endswith(".sif")]


def corpus_source(wildcards):
    if wildcards.dataset in SYNTHETIC:
        return "results/corpus/sources/synthetic"
    if wildcards.dataset in GENERATED:
        return f"results/corpus/generated/{wildcards.dataset}"
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


def trained_weights(model):
    return f"results/models/{model}/adapter.safetensors"


def model_inputs(wildcards):
    """What training a model needs: the corpus index, its networks, the adapters it starts
    from (ALARM-CA, ALARM-P: another model's trained adapter per encoder)."""
    spec = config["models"][wildcards.model]
    init = {
        encoder: trained_weights(adapter["init_from"])
        for encoder, adapter in spec["adapters"].items()
        if "init_from" in adapter
    }
    return {
        "train": "results/corpus/index/train.parquet",
        "validation": "results/corpus/index/validation.parquet",
        **pretrained("rlm", *spec["adapters"]),
        **named("init", init),
    }


def evaluated_model(wildcards):
    """A model's trained weights (every member's, for an ensemble) and its networks."""
    spec = config["models"][wildcards.model]
    members = spec.get("ensemble", [wildcards.model])
    return {
        **named("weights", {m: trained_weights(m) for m in members}),
        **pretrained("rlm", *encoder_roles(wildcards.model)),
    }


def summary_inputs(wildcards):
    """The networks whose config.json a summary reads: local tiny models only (hub roles
    are summarised from their reference configs, without downloading)."""
    return pretrained(
        *[r for r in ["rlm", *encoder_roles(wildcards.model)] if r in TINY]
    )


def encoder_roles(model):
    spec = config["models"][model]
    members = spec.get("ensemble", [model])
    return sorted({enc for m in members for enc in config["models"][m]["adapters"]})
