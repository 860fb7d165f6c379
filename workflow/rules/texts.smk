# The authors' instruction texts for the paper run (texts: authors): their source files
# at the pinned commit, sha256-checked, and the texts extracted from them (alarm.texts).


rule fetch_author_texts:
    input:
        image_input("data", on_node=False),
    output:
        AUTHOR_TEXTS,
    log:
        "logs/fetch_author_texts.log",
    localrule: on_login_node("fetch_author_texts")
    container:
        image("data")
    # when a profile submits it (on_login_node): hours of transfer or build
    resources:
        **job_resources("cpu", runtime=resources("cpu_long")["runtime"]),
    shell:
        "alarm fetch-author-texts --threads {threads} --output {output} > {log} 2>&1"
