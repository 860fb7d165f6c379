# Pretrained networks, source corpora, and the raw and audio-filtered shards.


rule make_tiny_model:
    input:
        image_input("train"),
        unpack(lambda w: texts_input() if format_fitted(w.role) else {}),
    output:
        directory("results/pretrained/tiny/{role}"),
    log:
        "logs/make_tiny_model/{role}.log",
    benchmark:
        "benchmarks/make_tiny_model/{role}.tsv"
    wildcard_constraints:
        role=alternatives(TINY),
    container:
        image("train")
    threads: stage_threads("make_tiny_model")
    resources:
        **stage_resources("make_tiny_model"),
    params:
        settings=lambda w: settings("make_tiny_model", role=w.role),
        texts=lambda w: TEXTS if format_fitted(w.role) else OURS,
    shell:
        "alarm make-tiny-model --threads {threads} --role {wildcards.role} --output {output} "
        "--texts {params.texts} --settings {params.settings:q} > {log} 2>&1"


rule download_pretrained:
    input:
        image_input("data", on_node=False),
    output:
        directory("results/pretrained/hub/{role}"),
    log:
        "logs/download_pretrained/{role}.log",
    wildcard_constraints:
        role=alternatives(HUB),
    localrule: on_login_node("download_pretrained")
    container:
        image("data")
    # when a profile submits it (on_login_node): hours of transfer or build
    resources:
        **job_resources("cpu", runtime=resources("cpu_long")["runtime"]),
    params:
        settings=lambda w: settings("download_pretrained", role=w.role),
    shell:
        "alarm download-pretrained --threads {threads} --role {wildcards.role} --output {output} "
        "--settings {params.settings:q} > {log} 2>&1"


rule make_synthetic_corpus:
    input:
        image_input("data"),
    output:
        directory("results/corpus/sources/synthetic"),
    log:
        "logs/make_synthetic_corpus/make_synthetic_corpus.log",
    benchmark:
        "benchmarks/make_synthetic_corpus/make_synthetic_corpus.tsv"
    container:
        image("data")
    resources:
        **job_resources("cpu"),
    params:
        settings=settings("make_synthetic_corpus"),
    shell:
        "alarm make-synthetic-corpus --threads {threads} --output {output} --settings {params.settings:q} > {log} 2>&1"


rule download_corpus:
    input:
        image_input("data", on_node=False),
    output:
        directory("results/corpus/sources/{dataset}"),
    log:
        "logs/download_corpus/{dataset}.log",
    wildcard_constraints:
        dataset=alternatives(DOWNLOADED),
    localrule: on_login_node("download_corpus")
    container:
        image("data")
    # when a profile submits it (on_login_node): hours of transfer or build
    resources:
        **job_resources("cpu", runtime=resources("cpu_long")["runtime"]),
    params:
        settings=lambda w: settings("download_corpus", dataset=w.dataset),
    shell:
        "alarm download-corpus --threads {threads} --dataset {wildcards.dataset} --output {output} "
        "--settings {params.settings:q} > {log} 2>&1"


# LibriMix's mixtures: its own script (fetched with the download, sha256-pinned) over the
# downloaded LibriSpeech and WHAM, on a compute node (downloads run on the login node).
rule generate_corpus:
    input:
        image_input("data"),
        source="results/corpus/sources/{dataset}",
    output:
        directory("results/corpus/generated/{dataset}"),
    log:
        "logs/generate_corpus/{dataset}.log",
    benchmark:
        "benchmarks/generate_corpus/{dataset}.tsv"
    wildcard_constraints:
        dataset=alternatives(GENERATED),
    container:
        image("data")
    threads: stage_threads("generate_corpus")
    resources:
        **stage_resources("generate_corpus"),
    params:
        settings=lambda w: settings("generate_corpus", dataset=w.dataset),
    shell:
        "alarm generate-corpus --threads {threads} --dataset {wildcards.dataset} "
        "--source {input.source} --output {output} --settings {params.settings:q} > {log} 2>&1"


rule collect:
    input:
        image_input("data"),
        source=corpus_source,
    output:
        "results/corpus/raw/{dataset}/{shard}.parquet",
    log:
        "logs/collect/{dataset}/{shard}.log",
    benchmark:
        "benchmarks/collect/{dataset}/{shard}.tsv"
    container:
        image("data")
    threads: stage_threads("collect")
    resources:
        **stage_resources("collect"),
    params:
        settings=lambda w: settings("collect", dataset=w.dataset),
    shell:
        "alarm collect --threads {threads} --dataset {wildcards.dataset} --shard {wildcards.shard} "
        "--source {input.source} --output {output} --settings {params.settings:q} > {log} 2>&1"


rule audio_filter:
    input:
        image_input("data"),
        raw="results/corpus/raw/{dataset}/{shard}.parquet",
    output:
        "results/corpus/items/{dataset}/{shard}.parquet",
    log:
        "logs/audio_filter/{dataset}/{shard}.log",
    benchmark:
        "benchmarks/audio_filter/{dataset}/{shard}.tsv"
    container:
        image("data")
    threads: stage_threads("audio_filter")
    resources:
        **stage_resources("audio_filter"),
    params:
        settings=settings("audio_filter"),
    shell:
        "alarm audio-filter --threads {threads} --input {input.raw} --output {output} "
        "--settings {params.settings:q} > {log} 2>&1"
