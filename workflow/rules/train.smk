# Training (paper §3): the five single-encoder models, then ALARM-CA (the four
# single-encoder adapters loaded and frozen) and ALARM-P (AL-Whisper-Instruct-R's
# Whisper adapter loaded and frozen, Perceivers from scratch).
#
# A training job is handed its time limit (--time-limit-minutes): before it, the loop saves
# a checkpoint and exits non-zero, and the rule's retry resumes. Not a SLURM signal
# (--signal): it reaches every process of the step, and the step's leader (Snakemake's
# jobstep, or accelerate's launcher) dies of it and takes the training down unsaved.

# Retries follow time limits, not memory: one doubling covers a job killed for memory, and
# more (1.44, 1.92 TB at paper scale) would exceed a node and keep its other GPUs idle.
TRAINING_MEMORY = memory("training", most=2)


rule train_model:
    input:
        unpack(model_inputs),
        image_input("train"),
    output:
        weights="results/models/{model}/adapter.safetensors",
        model_config="results/models/{model}/model.json",
        metrics=report(
            "results/models/{model}/metrics.json",
            caption="../report/training.rst",
            category="Training",
            labels={"model": "{model}"},
        ),
    log:
        "logs/train_model/{model}.log",
    benchmark:
        "benchmarks/train_model/{model}.tsv"
    wildcard_constraints:
        model=alternatives(SINGLE_NODE),
    # A time limit, preemption or lost node costs the steps since the last checkpoint.
    retries: 3
    container:
        image("train")
    threads: stage_threads("train_model")
    # nodes=1: --gpus counts the job's GPUs, which SLURM could otherwise spread over nodes
    resources:
        **stage_resources(
            "train_model",
            mem_mb=TRAINING_MEMORY,
            nodes=1,
            run_knobs=lambda w: knobs("train_model", model=w.model),
        ),
    params:
        settings=lambda w: settings("train_model", model=w.model),
        pretrained=pairs("pretrained"),
        init=pairs("init"),
        run_dir=lambda w, output: Path(output.weights).parent,
    shell:
        "alarm train-model --threads {threads} --model {wildcards.model} --train {input.train} "
        "--validation {input.validation} --pretrained {params.pretrained} "
        "--init {params.init} --run-dir {params.run_dir} "
        "--time-limit-minutes {resources.runtime} "
        "--settings {params.settings:q} --knobs {resources.run_knobs:q} > {log} 2>&1"


# A model whose training.nodes > 1 spans several SLURM nodes: srun starts one task per
# node; each runs the image with the profile's Apptainer arguments and launches accelerate
# with its node rank. The job's shell runs on the host (an image has no srun or scontrol):
# it finds the first node for the rendezvous and a port of this job's own (a fixed one
# would clash with another job's on the same first node). Each task's own shell hands the
# node count, its node rank, that address and port to the image (which may not see
# SLURM_* under a clean environment). The jobstep plugin strips SLURM_* (the node list, cpus-per-task) from
# the job's shell, hence the explicit query and --cpus-per-task. --kill-on-bad-exit ends
# every node's task when one fails. Without GPUs (the test cluster) one process per node.
rule train_model_multinode:
    input:
        unpack(model_inputs),
        image_input("train"),
    output:
        weights="results/models/{model}/adapter.safetensors",
        model_config="results/models/{model}/model.json",
        metrics="results/models/{model}/metrics.json",
    log:
        "logs/train_model/{model}.log",
    wildcard_constraints:
        model=alternatives(MULTINODE),
    retries: 3
    conda:
        "../../envs/apptainer.yaml"
    threads: stage_threads("train_model")
    resources:
        cpus_per_task=stage_threads("train_model"),
        nodes=lambda w: training_settings(config, w.model)["nodes"],
        tasks=lambda w: training_settings(config, w.model)["nodes"],
        tasks_per_gpu=0,
        mpi="srun",
        mem_mb=TRAINING_MEMORY,
        runtime=resources("training")["runtime"],
        # per node (--gpus would count the whole job's GPUs)
        gres=(
            f"gpu:{resources('training')['gpu']}"
            if resources("training")["gpu"]
            else ""
        ),
        apptainer_args=workflow.deployment_settings.apptainer_args,
        run_knobs=lambda w: knobs("train_model", model=w.model),
    params:
        settings=lambda w: settings("train_model", model=w.model),
        pretrained=pairs("pretrained"),
        init=pairs("init"),
        run_dir=lambda w, output: Path(output.weights).parent,
        image=lambda w: image("train"),
    shell:
        'ALARM_MAIN_ADDR=$(scontrol show hostnames "$(squeue -h -j $SLURM_JOB_ID -o %N)" '
        "| head -n 1) && export ALARM_MAIN_ADDR && "
        "export ALARM_MASTER_PORT=$((20000 + SLURM_JOB_ID % 20000)) && "
        "srun --nodes={resources.nodes} --ntasks-per-node=1 "
        "--cpus-per-task={resources.cpus_per_task} --kill-on-bad-exit=1 "
        "sh -c 'exec apptainer exec --home $PWD {resources.apptainer_args} "
        "--env ALARM_MAIN_ADDR=$ALARM_MAIN_ADDR --env ALARM_MASTER_PORT=$ALARM_MASTER_PORT "
        "--env ALARM_NODES={resources.nodes} "
        '--env ALARM_NODE_RANK=$SLURM_NODEID "$@"\' node {params.image} '
        "alarm train-model --threads {threads} --model {wildcards.model} --train {input.train} "
        "--validation {input.validation} --pretrained {params.pretrained} "
        "--init {params.init} --run-dir {params.run_dir} "
        "--time-limit-minutes {resources.runtime} "
        "--settings {params.settings:q} --knobs {resources.run_knobs:q} > {log} 2>&1"


rule model_summary:
    input:
        unpack(summary_inputs),
        image_input("train"),
    output:
        report(
            "results/models/{model}/summary.json",
            caption="../report/model_summary.rst",
            category="Models",
            labels={"model": "{model}"},
        ),
    log:
        "logs/model_summary/{model}.log",
    wildcard_constraints:
        model=alternatives(TRAINED),
    container:
        image("train")
    resources:
        **job_resources("cpu"),
    params:
        settings=lambda w: settings("model_summary", model=w.model),
        pretrained=pairs("pretrained"),
    shell:
        "alarm model-summary --threads {threads} --model {wildcards.model} --pretrained {params.pretrained} "
        "--json --output {output} --settings {params.settings:q} > {log} 2>&1"
