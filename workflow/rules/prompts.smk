# Prompt generation (paper §2.1): 20 candidate prompts per item from A_text,
# a checker pass, and one prompt drawn uniformly from those that pass.


rule generate_prompts:
    input:
        image_input("vllm"),
        llm=pretrained_dir(config["generation"]["prompts"]["model"]),
        clips="results/corpus/items/{dataset}/{shard}.parquet",
    output:
        "results/corpus/prompts/{dataset}/{shard}.parquet",
    log:
        "logs/generate_prompts/{dataset}/{shard}.log",
    benchmark:
        "benchmarks/generate_prompts/{dataset}/{shard}.tsv"
    wildcard_constraints:
        dataset=alternatives(DESCRIBED),
    container:
        image("vllm")
    threads: stage_threads("generate_prompts")
    resources:
        **stage_resources("generate_prompts", run_knobs=knobs("generate_prompts")),
    params:
        settings=settings("generate_prompts"),
    shell:
        "alarm generate-prompts --threads {threads} --input {input.clips} --llm {input.llm} --output {output} "
        "--settings {params.settings:q} --knobs {resources.run_knobs:q} > {log} 2>&1"
