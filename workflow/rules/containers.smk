# Apptainer images are DAG targets: each rule runs in one, built from containers/{name}.def
# with the pinned environment envs/{name}.txt and the alarm package (a wheel built from this
# checkout); GPU images pass their smoke tests first.
#
# Rebuilding an image reruns no job: consumers list it as ancient() (common.smk), and the
# build's own inputs are ancient() too, so a pin bump or a code edit never starts a rebuild
# by date. Instead, before any submission, check_run compares each image's build record
# (containers/{name}.sif.json: commit, sha256 of definition, lock and code) with the
# checkout and names the deliberate rebuild, run on its own:
#   snakemake --force containers/NAME.sif [results/smoke/NAME.ok]
# (Not folded into a workflow run: Snakemake 9 leaves the jobs below a rerun job unexamined
# when their only link to it is an ancient() input, snakemake/snakemake#4166.) Never delete
# an image to rebuild it: a missing ancient() input reruns everything below it.
#
# Paths are relative to the working directory (never the checkout's absolute path), so
# moving the checkout changes no input, no param and no software-stack record.


rule build_container:
    input:
        definition=ancient(os.path.relpath(REPO / "containers" / "{name}.def")),
        lock=ancient(os.path.relpath(REPO / "envs" / "{name}.txt")),
    output:
        image="containers/{name}.sif",
        record="containers/{name}.sif.json",
    log:
        "logs/build_container/{name}.log",
    localrule: on_login_node("build_container")
    # The site profile allows one at a time (resources: image_builds=1): the three CUDA
    # images at once would take a login node's memory and /tmp.
    conda:
        "../../envs/apptainer.yaml"
    # when a profile submits it (on_login_node): hours of transfer or build
    resources:
        **job_resources("cpu", runtime=resources("cpu_long")["runtime"], image_builds=1),
    params:
        # Functions taking the inputs, which Snakemake counts as derived: no rerun trigger
        # (a moved checkout or venv rebuilds nothing). The checkout the definition lies in,
        # and the Python running Snakemake: it builds the wheel with its pip and setuptools
        # (alarm.images is standard library only, read from the checkout).
        checkout=lambda w, input: Path(input.definition).parents[1],
        python=lambda w, input: sys.executable,
    shell:
        "PYTHONPATH={params.checkout}/scripts {params.python} -m alarm.images build "
        "{wildcards.name} --checkout {params.checkout} --image {output.image} > {log} 2>&1"


# The smoke tests are in the GPU images ($ALARM_REPO/tests/gpu): they test what the jobs run.
# A rebuilt image is smoke-tested again (this input is not ancient; the rebuild command
# asks for both); the GPU jobs are not rerun for it (the smoke test's output is ancient()).
rule gpu_smoke_test:
    input:
        preflight("gpu"),
        image=lambda w: image(w.name) if config["containers"]["build"] else [],
    output:
        "results/smoke/{name}.ok",
    log:
        "logs/gpu_smoke_test/{name}.log",
    wildcard_constraints:
        name="|".join(GPU_IMAGES),
    container:
        image("{name}")
    # One GPU job's CPUs and memory (it starts a vLLM engine, a training step and the
    # encoders), for half an hour.
    resources:
        **job_resources(
            "inference",
            cpus_per_task=resources("inference")["threads"],
            gpu=1,
            runtime=30,
        ),
    shell:
        # ALARM_REPO: where the image holds the tests (its %environment).
        "ALARM_REQUIRE_GPU=1 python -m pytest -q -m gpu -o markers=gpu -p no:cacheprovider "
        '--rootdir "$ALARM_REPO" "$ALARM_REPO/tests/gpu" > {log} 2>&1 && '
        "touch {output}"


# A short job on each partition the run uses, before any job of the images that run there:
# srun from the login node, plain shell on the node (alarm/preflight.py says what it checks),
# one line per problem. A local rule: it reaches the node even where no job could start.
rule site_preflight:
    input:
        image=lambda w: (
            ancient(image("data" if w.kind == "cpu" else "train"))
            if config["containers"]["build"]
            else []
        ),
    output:
        "results/preflight/{kind}.ok",
    log:
        "logs/site_preflight/{kind}.log",
    wildcard_constraints:
        kind="cpu|gpu",
    localrule: True
    # It runs on the host and calls apptainer on the node (with --sdm conda, from here).
    conda:
        "../../envs/apptainer.yaml"
    params:
        checkout=lambda w: os.path.relpath(REPO),
        python=sys.executable,
        site=lambda w: preflight_settings(w.kind),
        scratch=os.environ.get("ALARM_SCRATCH", ""),
        apptainer_args=workflow.deployment_settings.apptainer_args,
    shell:
        "PYTHONPATH={params.checkout}/scripts {params.python} -m alarm.preflight {wildcards.kind} "
        "--partition {params.site[partition]:q} --account {params.site[account]:q} "
        "--gpu-model {params.site[gpu_model]:q} --python {params.python} "
        "--scratch {params.scratch:q} --image {input.image:q} "
        "--apptainer-args {params.apptainer_args:q} --output {output} > {log} 2>&1"
