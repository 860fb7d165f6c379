# Training (paper §3): the five single-encoder models, then ALARM-CA (the four
# single-encoder adapters loaded and frozen) and ALARM-P (AL-Whisper-Instruct-R's
# Whisper adapter loaded and frozen, Perceivers from scratch).


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
        "logs/train_model/{model}.tsv"
    wildcard_constraints:
        model=alternatives(SINGLE_NODE),
    container:
        image("train")
    threads: resources("training")["threads"]
    resources:
        mem_mb=resources("training")["mem_mb"],
        runtime=resources("training")["runtime"],
        run_knobs=lambda w: knobs("train_model", model=w.model),
    params:
        settings=lambda w: settings("train_model", model=w.model),
        pretrained=pairs("pretrained"),
        init=pairs("init"),
        run_dir=lambda w, output: Path(output.weights).parent,
    shell:
        "alarm train-model --model {wildcards.model} --train {input.train} "
        "--validation {input.validation} --pretrained {params.pretrained} "
        "--init {params.init} --run-dir {params.run_dir} "
        "--settings {params.settings:q} --knobs {resources.run_knobs:q} > {log} 2>&1"


# A model whose training.nodes > 1 spans several SLURM nodes: srun starts one task per
# node, each runs the image with its GPUs and launches accelerate with its node rank
# (the jobs' shells cannot call srun from inside an image, hence no container here).
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
    conda:
        "../../envs/apptainer.yaml"
    resources:
        nodes=lambda w: training_settings(config, w.model)["nodes"],
        tasks=lambda w: training_settings(config, w.model)["nodes"],
        tasks_per_gpu=0,
        mpi="srun",
        mem_mb=resources("training")["mem_mb"],
        runtime=resources("training")["runtime"],
        run_knobs=lambda w: knobs("train_model", model=w.model),
    params:
        settings=lambda w: settings("train_model", model=w.model),
        pretrained=pairs("pretrained"),
        init=pairs("init"),
        run_dir=lambda w, output: Path(output.weights).parent,
        image=lambda w: image("train"),
    shell:
        "srun --nodes={resources.nodes} --ntasks-per-node=1 apptainer exec --nv {params.image} "
        "alarm train-model --model {wildcards.model} --train {input.train} "
        "--validation {input.validation} --pretrained {params.pretrained} "
        "--init {params.init} --run-dir {params.run_dir} "
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
    params:
        settings=lambda w: settings("model_summary", model=w.model),
        pretrained=pairs("pretrained"),
    shell:
        "alarm model-summary --model {wildcards.model} --pretrained {params.pretrained} "
        "--json --output {output} --settings {params.settings:q} > {log} 2>&1"
