# Benchmarks (paper §4): convert to one schema, generate with each model and
# ALARM-E under the evaluation thinking budget, extract answers, score.


rule download_benchmark:
    input:
        image_input("data", on_node=False),
    output:
        directory("results/benchmarks/sources/{benchmark}"),
    log:
        "logs/download_benchmark/{benchmark}.log",
    wildcard_constraints:
        benchmark=alternatives([b for b in BENCHMARKS if b != "synthetic"]),
    localrule: on_login_node("download_benchmark")
    container:
        image("data")
    # when a profile submits it (on_login_node): hours of transfer or build
    resources:
        **job_resources("cpu", runtime=resources("cpu_long")["runtime"]),
    shell:
        "alarm download-benchmark --threads {threads} --benchmark {wildcards.benchmark} --output {output} > {log} 2>&1"


rule convert_benchmark:
    input:
        image_input("data"),
        source=benchmark_source,
    output:
        "results/benchmarks/data/{benchmark}/{shard}.parquet",
    log:
        "logs/convert_benchmark/{benchmark}/{shard}.log",
    container:
        image("data")
    resources:
        **job_resources("cpu"),
    params:
        settings=lambda w: settings("convert_benchmark", benchmark=w.benchmark),
    shell:
        "alarm convert-benchmark --threads {threads} --benchmark {wildcards.benchmark} --shard {wildcards.shard} "
        "--source {input.source} --output {output} --settings {params.settings:q} > {log} 2>&1"


rule benchmark_generate:
    input:
        unpack(evaluated_model),
        image_input("vllm"),
        **texts_input(),
        questions="results/benchmarks/data/{benchmark}/{shard}.parquet",
    output:
        "results/benchmarks/{benchmark}/{model}/responses/{shard}.parquet",
    log:
        "logs/benchmark_generate/{benchmark}/{model}/{shard}.log",
    benchmark:
        "benchmarks/benchmark_generate/{benchmark}/{model}/{shard}.tsv"
    wildcard_constraints:
        model=alternatives(EVALUATED),
    container:
        image("vllm")
    threads: stage_threads("benchmark_generate")
    resources:
        **stage_resources(
            "benchmark_generate",
            run_knobs=lambda w: knobs("benchmark_generate", model=w.model),
        ),
    params:
        settings=lambda w: settings("benchmark_generate", model=w.model),
        pretrained=pairs("pretrained"),
        weights=pairs("weights"),
        texts=TEXTS,
    shell:
        "alarm benchmark-generate --threads {threads} --model {wildcards.model} --input {input.questions} "
        "--pretrained {params.pretrained} --weights {params.weights} --texts {params.texts} "
        "--output {output} --settings {params.settings:q} --knobs {resources.run_knobs:q} > {log} 2>&1"


# Every benchmark is scored under both extraction rules: alarm-parity (the authors',
# for the rows beside the paper's) and clean (ours).
rule score_benchmark:
    input:
        image_input("data"),
        responses=lambda w: expand(
            "results/benchmarks/{{benchmark}}/{{model}}/responses/{shard}.parquet",
            shard=benchmark_shards(w.benchmark),
        ),
    output:
        scores="results/benchmarks/{benchmark}/{model}/{extraction}/scores.json",
        predictions="results/benchmarks/{benchmark}/{model}/{extraction}/predictions.json",
        jsonl="results/benchmarks/{benchmark}/{model}/{extraction}/predictions.jsonl",
    log:
        "logs/score_benchmark/{benchmark}/{model}/{extraction}.log",
    wildcard_constraints:
        model=alternatives(EVALUATED),
        extraction=alternatives(EXTRACTIONS),
    container:
        image("data")
    resources:
        **job_resources("cpu"),
    shell:
        "alarm score-benchmark --threads {threads} --benchmark {wildcards.benchmark} --responses {input.responses} "
        "--extraction {wildcards.extraction} --scores {output.scores} "
        "--predictions {output.predictions} > {log} 2>&1"
