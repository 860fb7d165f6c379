# Apptainer images are DAG targets: each rule runs in one, built from containers/{name}.def.


rule build_container:
    input:
        definition="containers/{name}.def",
        envs="envs",
    output:
        "containers/{name}.sif",
    log:
        "logs/build_container/{name}.log",
    localrule: True
    conda:
        "../../envs/apptainer.yaml"
    shell:
        "apptainer build --force {output} {input.definition} > {log} 2>&1"
