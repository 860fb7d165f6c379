# Apptainer images are DAG targets: each rule runs in one, built from containers/{name}.def
# with the pinned environment envs/{name}.txt; GPU images pass their smoke tests first.


rule build_container:
    input:
        definition=REPO / "containers" / "{name}.def",
        environment=REPO / "envs" / "{name}.txt",
    output:
        "containers/{name}.sif",
    log:
        "logs/build_container/{name}.log",
    localrule: True
    conda:
        "../../envs/apptainer.yaml"
    params:
        repo=REPO,
    shell:
        "image=$(realpath -m {output}) && cd {params.repo} && "
        "apptainer build --force $image containers/{wildcards.name}.def > $OLDPWD/{log} 2>&1"


rule gpu_smoke_test:
    input:
        image=lambda w: image(w.name) if config["containers"]["build"] else [],
    output:
        "results/smoke/{name}.ok",
    log:
        "logs/gpu_smoke_test/{name}.log",
    wildcard_constraints:
        name="|".join(GPU_IMAGES),
    container:
        image("{name}")
    params:
        tests=REPO / "tests" / "gpu",
    shell:
        "ALARM_REQUIRE_GPU=1 python -m pytest -q -m gpu -p no:cacheprovider {params.tests} "
        "> {log} 2>&1 && "
        "touch {output}"
