# Filters, the train/validation split and the corpus index (paper §2.1, §3).


rule wer_filter:
    input:
        image_input("train"),
        whisper=pretrained_dir("whisper"),
        responses="results/corpus/instruction/{dataset}/{shard}.parquet",
        raw="results/corpus/raw/{dataset}/{shard}.parquet",
    output:
        "results/corpus/wer_filtered/{dataset}/{shard}.parquet",
    log:
        "logs/wer_filter/{dataset}/{shard}.log",
    benchmark:
        "benchmarks/wer_filter/{dataset}/{shard}.tsv"
    wildcard_constraints:
        dataset=alternatives(WER_FILTERED),
    container:
        image("train")
    threads: stage_threads("wer_filter")
    resources:
        **stage_resources("wer_filter", run_knobs=knobs("wer_filter")),
    params:
        settings=settings("wer_filter"),
    shell:
        "alarm wer-filter --threads {threads} --input {input.responses} --raw {input.raw} "
        "--whisper {input.whisper} --output {output} --settings {params.settings:q} "
        "--knobs {resources.run_knobs:q} > {log} 2>&1"


rule answer_length_filter:
    input:
        image_input("data"),
        tokenizer=pretrained_dir("rlm"),
        rephrased="results/corpus/rephrased/{dataset}/{shard}.parquet",
    output:
        "results/corpus/targets/{dataset}/{shard}.parquet",
    log:
        "logs/answer_length_filter/{dataset}/{shard}.log",
    benchmark:
        "benchmarks/answer_length_filter/{dataset}/{shard}.tsv"
    wildcard_constraints:
        dataset=alternatives(DESCRIBED),
    container:
        image("data")
    threads: stage_threads("answer_length_filter")
    resources:
        **stage_resources("answer_length_filter"),
    params:
        settings=settings("answer_length_filter"),
    shell:
        "alarm answer-length-filter --threads {threads} --input {input.rephrased} --tokenizer {input.tokenizer} "
        "--output {output} --settings {params.settings:q} > {log} 2>&1"


rule train_val_split:
    input:
        image_input("data"),
        raw=lambda w: expand(
            "results/corpus/raw/{{dataset}}/{shard}.parquet", shard=shards(w.dataset)
        ),
    output:
        "results/corpus/split/{dataset}.parquet",
    log:
        "logs/train_val_split/{dataset}.log",
    container:
        image("data")
    threads: stage_threads("train_val_split")
    resources:
        **stage_resources("train_val_split"),
    params:
        settings=lambda w: settings("train_val_split", dataset=w.dataset),
    shell:
        "alarm train-val-split --threads {threads} --dataset {wildcards.dataset} --inputs {input.raw} "
        "--output {output} --settings {params.settings:q} > {log} 2>&1"


rule corpus_index:
    input:
        image_input("data"),
        tokenizer=pretrained_dir("rlm"),
        targets=[t for d in DATASETS for t in targets(d)],
        clips=shard_files("items"),
        splits=expand("results/corpus/split/{dataset}.parquet", dataset=DATASETS),
    output:
        train="results/corpus/index/train.parquet",
        validation="results/corpus/index/validation.parquet",
    log:
        "logs/corpus_index/corpus_index.log",
    container:
        image("data")
    threads: stage_threads("corpus_index")
    resources:
        **stage_resources("corpus_index"),
    params:
        settings=settings("corpus_index"),
    shell:
        "alarm corpus-index --threads {threads} --targets {input.targets} --items {input.clips} --splits {input.splits} "
        "--tokenizer {input.tokenizer} --train {output.train} --validation {output.validation} "
        "--settings {params.settings:q} > {log} 2>&1"


rule corpus_stats:
    input:
        image_input("data"),
        train="results/corpus/index/train.parquet",
        validation="results/corpus/index/validation.parquet",
    output:
        report(
            "results/corpus/stats.json",
            caption="../report/corpus_stats.rst",
            category="Corpus",
        ),
    log:
        "logs/corpus_stats/corpus_stats.log",
    container:
        image("data")
    resources:
        **job_resources("cpu"),
    params:
        settings=settings("corpus_stats"),
    # The ledgers lie beside the shards the index was built from (no outputs of their own).
    shell:
        "alarm corpus-stats --threads {threads} --train {input.train} --validation {input.validation} "
        "--ledgers results/corpus --json --output {output} --settings {params.settings:q} "
        "> {log} 2>&1"


rule check_ledgers:
    input:
        image_input("data"),
        "results/corpus/index/train.parquet",
        "results/report/report.md",
    output:
        "results/ledgers.txt",
    log:
        "logs/check_ledgers/check_ledgers.log",
    container:
        image("data")
    resources:
        **job_resources("cpu"),
    shell:
        "alarm check-ledgers --threads {threads} results --output {output} > {log} 2>&1"
