# Prompt generation (paper §2.1): 20 candidate prompts per item from A_text,
# a checker pass, and one prompt drawn uniformly from those that pass.


rule generate_prompts:
    input:
        image_input("vllm"),
        pretrained(config["generation"]["prompts"]["model"]),
        clips="results/corpus/items/{dataset}/{shard}.parquet",
    output:
        "results/corpus/prompts/{dataset}/{shard}.parquet",
    log:
        "logs/generate_prompts/{dataset}/{shard}.log",
    benchmark:
        "logs/generate_prompts/{dataset}/{shard}.tsv"
    wildcard_constraints:
        dataset=alternatives(DESCRIBED),
    container:
        image("vllm")
    threads: resources("generation")["threads"]
    resources:
        mem_mb=resources("generation")["mem_mb"],
        runtime=resources("generation")["runtime"],
    params:
        settings=lambda w: settings("generate_prompts"),
    shell:
        "alarm generate-prompts --input {input.clips} --output {output} "
        "--settings {params.settings:q} > {log} 2>&1"
