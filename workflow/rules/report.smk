# The report: the paper's tables with our rows beside the reported ones, and
# the per-task radar (Figure 3).


rule report:
    input:
        image_input("data"),
        scores=expand(
            "results/benchmarks/{benchmark}/{model}/{extraction}/scores.json",
            benchmark=BENCHMARKS,
            model=EVALUATED,
            extraction=EXTRACTIONS,
        ),
        metrics=expand("results/models/{model}/metrics.json", model=TRAINED),
        stats="results/corpus/stats.json",
    output:
        markdown=report(
            "results/report/report.md",
            caption="../report/report.rst",
            category="Results",
        ),
        radar=report(
            "results/report/airbench_radar.png",
            caption="../report/radar.rst",
            category="Results",
        ),
    log:
        "logs/report/report.log",
    container:
        image("data")
    resources:
        **job_resources("cpu"),
    shell:
        "alarm report --threads {threads} --scores {input.scores} --metrics {input.metrics} --stats {input.stats} "
        "--markdown {output.markdown} --radar {output.radar} > {log} 2>&1"


# The run's own account (alarm progress): its jobs finished over time per rule family,
# the GPU-hours spent, and the table per rule, once every other output is made. It reads
# Snakemake's records of the run and dry-runs the workflow: a local `run:`, in the
# launching Snakemake's own environment.
rule progress:
    input:
        rules.report.output,
        "results/corpus/stats.json",
        "results/ledgers.txt",
        every_shard(),
    output:
        plot=report(
            "results/report/progress.png",
            caption="../report/progress.rst",
            category="Progress",
        ),
        table=report(
            "results/report/progress.md",
            caption="../report/progress.rst",
            category="Progress",
        ),
    log:
        "logs/report/progress.log",
    localrule: True
    run:
        write_progress(output.table, output.plot, log[0])
