# The authors' instruction texts for the paper run (texts: authors): their source files
# at the pinned commit, sha256-checked, and the texts extracted from them (alarm.texts).


rule fetch_author_texts:
    input:
        image_input("data"),
    output:
        AUTHOR_TEXTS,
    log:
        "logs/fetch_author_texts.log",
    localrule: True
    container:
        image("data")
    shell:
        "alarm fetch-author-texts --threads {threads} --output {output} > {log} 2>&1"
