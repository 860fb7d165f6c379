# Self-generated targets (paper §2.1): R0 from A_text and the prompt, then
# self-rephrasing into audio-grounded wording under a thinking budget; the
# spoken-instruction subsets are answered directly, without rephrasing.


rule generate_r0:
    input:
        image_input("vllm"),
        **texts_input(),
        llm=pretrained_dir(config["generation"]["r0"]["model"]),
        prompts="results/corpus/prompts/{dataset}/{shard}.parquet",
    output:
        "results/corpus/r0/{dataset}/{shard}.parquet",
    log:
        "logs/generate_r0/{dataset}/{shard}.log",
    benchmark:
        "benchmarks/generate_r0/{dataset}/{shard}.tsv"
    wildcard_constraints:
        dataset=alternatives(DESCRIBED),
    container:
        image("vllm")
    threads: stage_threads("generate_r0")
    resources:
        **stage_resources("generate_r0", run_knobs=knobs("generate_r0")),
    params:
        settings=settings("generate_r0"),
        texts=TEXTS,
    shell:
        "alarm generate-r0 --threads {threads} --input {input.prompts} --llm {input.llm} --output {output} "
        "--texts {params.texts} --settings {params.settings:q} --knobs {resources.run_knobs:q} > {log} 2>&1"


rule self_rephrase:
    input:
        image_input("vllm"),
        **rephrase_models(),
        **texts_input(),
        r0="results/corpus/r0/{dataset}/{shard}.parquet",
    output:
        "results/corpus/rephrased/{dataset}/{shard}.parquet",
    log:
        "logs/self_rephrase/{dataset}/{shard}.log",
    benchmark:
        "benchmarks/self_rephrase/{dataset}/{shard}.tsv"
    wildcard_constraints:
        dataset=alternatives(DESCRIBED),
    container:
        image("vllm")
    threads: stage_threads("self_rephrase")
    resources:
        **stage_resources("self_rephrase", run_knobs=knobs("self_rephrase")),
    params:
        settings=settings("self_rephrase"),
        texts=TEXTS,
        checker=lambda w, input: (
            f"--checker-llm {input.checker}" if "checker" in input.keys() else ""
        ),
    shell:
        "alarm self-rephrase --threads {threads} --input {input.r0} --llm {input.llm} {params.checker} "
        "--texts {params.texts} --output {output} --settings {params.settings:q} --knobs {resources.run_knobs:q} "
        "> {log} 2>&1"


rule instruction_responses:
    input:
        image_input("vllm"),
        llm=pretrained_dir(config["generation"]["instruction"]["model"]),
        clips="results/corpus/items/{dataset}/{shard}.parquet",
    output:
        "results/corpus/instruction/{dataset}/{shard}.parquet",
    log:
        "logs/instruction_responses/{dataset}/{shard}.log",
    benchmark:
        "benchmarks/instruction_responses/{dataset}/{shard}.tsv"
    wildcard_constraints:
        dataset=alternatives(INSTRUCTION),
    container:
        image("vllm")
    threads: stage_threads("instruction_responses")
    resources:
        **stage_resources(
            "instruction_responses",
            run_knobs=lambda w: knobs("instruction_responses", dataset=w.dataset),
        ),
    params:
        settings=lambda w: settings("instruction_responses", dataset=w.dataset),
    shell:
        "alarm instruction-responses --threads {threads} --dataset {wildcards.dataset} --input {input.clips} "
        "--llm {input.llm} --output {output} --settings {params.settings:q} "
        "--knobs {resources.run_knobs:q} > {log} 2>&1"
