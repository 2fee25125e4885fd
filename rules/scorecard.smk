# The scorecard: every study's headline numbers beside the original work's, with a verdict
# (docs/scorecard.md). Its table opens the report (report/workflow.rst includes it).


rule build_scorecard:
    input:
        metrics=expand("results/{study}/metrics.json", study=STUDIES),
        references=REFERENCE_FILES,
        schema="config/schema/references.schema.yaml",
        modules=modules("scorecard.references", "scorecard.verdict", "scorecard.render"),
    output:
        json="results/scorecard.json",
        md="results/scorecard.md",
        rst="results/scorecard.rst",
    log:
        "logs/scorecard/build_scorecard.log",
    benchmark:
        "benchmarks/scorecard/build_scorecard.tsv"
    conda:
        "../envs/scorecard.yaml"
    threads: 1
    resources:
        mem_mb=512,
        runtime=5,
    params:
        run=lambda wildcards: RUN_NAME,
        studies=STUDIES,
        known=KNOWN_STUDIES,
    script:
        "../scripts/scorecard/build_scorecard.py"
