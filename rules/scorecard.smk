# The scorecard over every run: each reference row beside our number of each run it names,
# with a verdict (docs/scorecard.md); a run of the sheet outside the invocation is read from
# the results an earlier invocation left, and marked so. Its table opens the report
# (report/workflow.rst). A seeds run's rows are over its seeds (mean, 95 % interval), drawn
# seed by seed in results/<run>/seeds.png.
import os

from xai_repro.common.runs import sheet_config

# every study the workflow has (the config schema's list), in the scorecard's order
KNOWN_STUDIES = read_yaml("config/schema/config.schema.yaml")["properties"]["studies"][
    "items"
]["enum"]
# the per-seed figure of each built seeds run
SEEDS_FIGURES = [f"results/{run}/seeds.png" for run in RUNS if run in SEEDED]
# Each run of the sheet outside this invocation -> the metrics.json files it has when
# complete (every study of its sheet config, at every seed of a seeds run) -> mtime in ns,
# None when absent. The scorecard reads those on disk, marked as an earlier invocation's.
# They are a param, not inputs: as inputs Snakemake would build those runs. A param change
# (such a run built, rebuilt or removed by another invocation) reruns the scorecard.
EARLIER_METRICS = {
    run: {
        path: os.stat(path).st_mtime_ns if os.path.exists(path) else None
        for study in sheet_config(run, SHEET, "config/config.yaml", {})["studies"]
        for path in (
            seed_paths(run, f"results/{study}/metrics.json")
            if run in SEEDED
            else [in_run(f"results/{study}/metrics.json", run)]
        )
    }
    for run in SHEET
    if run not in RUNS
}


rule build_scorecard:
    input:
        metrics=[
            in_run(f"results/{study}/metrics.json", name)
            for name, instance_config in INSTANCES.items()
            for study in instance_config["studies"]
        ],
        references=sorted(glob.glob("config/references/*.yaml")),
        schema="config/schema/references.schema.yaml",
        modules=modules(
            "scorecard.references",
            "scorecard.verdict",
            "scorecard.seeds",
            "scorecard.tables",
            "scorecard.runs",
        ),
    output:
        json="results/scorecard.json",
        md="results/scorecard.md",
        rst="results/scorecard.rst",
    log:
        logs("scorecard/build_scorecard"),
    benchmark:
        benchmarks("scorecard/build_scorecard")
    conda:
        "../envs/scorecard.yaml"
    threads: 1
    resources:
        mem_mb=512,
        runtime=5,
    params:
        runs={run: run_config["studies"] for run, run_config in RUNS.items()},
        sheet={run: entry["size"] for run, entry in SHEET.items()},
        known=KNOWN_STUDIES,
        seeded=SEEDED,
        earlier=EARLIER_METRICS,
    script:
        "../scripts/scorecard/build_scorecard.py"


rule plot_seeds:
    input:
        scorecard=rules.build_scorecard.output.json,
        modules=modules("scorecard.figures"),
    output:
        report(
            "results/{run}/seeds.png",
            caption="../report/scorecard/seeds.rst",
            category="scorecard",
            subcategory="{run}",
        ),
    log:
        logs("scorecard/plot_seeds/{run}"),
    benchmark:
        benchmarks("scorecard/plot_seeds/{run}")
    wildcard_constraints:
        run=r"[A-Za-z0-9_\-]+",
    conda:
        "../envs/scorecard.yaml"
    threads: 1
    resources:
        mem_mb=1024,
        runtime=5,
    params:
        run=lambda wildcards: wildcards.run,
    script:
        "../scripts/scorecard/plot_seeds.py"
