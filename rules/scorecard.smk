# The scorecard over every run: each reference row beside our number of each run it names,
# with a verdict (docs/scorecard.md). Its table opens the report (report/workflow.rst).
# every study the workflow has (the config schema's list), in the scorecard's order
KNOWN_STUDIES = read_yaml("config/schema/config.schema.yaml")["properties"]["studies"][
    "items"
]["enum"]


rule build_scorecard:
    input:
        metrics=[
            f"results/{run}/{study}/metrics.json"
            for run, run_config in RUNS.items()
            for study in run_config["studies"]
        ],
        references=sorted(glob.glob("config/references/*.yaml")),
        schema="config/schema/references.schema.yaml",
        modules=modules(
            "scorecard.references",
            "scorecard.verdict",
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
    script:
        "../scripts/scorecard/build_scorecard.py"
