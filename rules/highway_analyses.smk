# The highway study's analyses of the trained and untrained networks on the trained agent's
# pooled states (after rules/highway.smk): attribution, circuits, interventions, the logit
# lens, the rollout figures and the summary.

from pathlib import Path

# One rule per entry of HIGHWAY_ANALYSIS_RULES (rules/highway.smk). Snakemake evaluates the
# script: expression again when the job runs, after this loop has ended, so the path is a
# template each job fills from its own params: params[0] is the stem of its analysis output,
# the entry's name (positional: not passed to main(); derived from an output: not in the
# params rerun trigger). The code trigger records the script: line as each rule's code, so
# editing that line reruns every built analysis once.
for _rule, _spec in HIGHWAY_ANALYSIS_RULES.items():

    rule:
        name:
            _rule
        input:
            **_spec.get("inputs", HIGHWAY_ANALYSIS_INPUTS),
            modules=modules(*_spec["modules"]),
        output:
            **HIGHWAY_ANALYSIS_OUTPUTS[_rule],
        log:
            logs(f"highway/{_rule}"),
        benchmark:
            benchmarks(f"highway/{_rule}")
        priority: _spec.get("priority", 0)
        conda:
            "../envs/highway.yaml"
        threads: 1
        resources:
            mem_mb=_spec.get("mem_mb", 2048),
            runtime=_spec.get("runtime", 30),
        params:
            lambda wildcards, output: Path(output.analysis).stem,
            **_spec.get("params", {}),
            figures=_spec["figures"],
            seed=HIGHWAY["seed"],
        script:
            "../scripts/highway/{params[0]}.py"


rule summarize_highway:
    input:
        analyses=expand(
            "results/highway/analysis/{rule}.json",
            rule=[*HIGHWAY_ANALYSES, "collect_states_highway"],
        ),
        evaluation=rules.evaluate_highway.output.evaluation,
        pretrained=(
            "results/highway/pretrained_evaluation.json"
            if HIGHWAY_PRETRAINED.get("checkpoint")
            else []
        ),
        train_stats=rules.train_highway.output.stats,
        # highway.benchmark.run: false (the default config) leaves the key out of metrics.json
        benchmark=(
            rules.benchmark_highway_training.output.benchmark
            if HIGHWAY["benchmark"].get("run", True)
            else []
        ),
        modules=modules("highway.summary"),
    output:
        metrics="results/highway/metrics.json",
    log:
        logs("highway/summarize_highway"),
    benchmark:
        benchmarks("highway/summarize_highway")
    conda:
        "../envs/highway.yaml"
    threads: 1
    resources:
        mem_mb=512,
        runtime=5,
    script:
        "../scripts/highway/summarize_highway.py"
