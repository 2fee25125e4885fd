# The highway study's analyses of the trained and untrained networks on the trained agent's
# pooled states (after rules/highway.smk): attribution, circuits, interventions, the logit
# lens, the rollout figures and the summary.


rule explain_ig_highway:
    input:
        **HIGHWAY_ANALYSIS_INPUTS,
        modules=modules(
            "highway.attribution",
            "highway.data",
            "highway.network",
            "highway.plots",
            "highway.pretrained",
            "highway.states",
        ),
    output:
        **HIGHWAY_ANALYSIS_OUTPUTS["explain_ig_highway"],
    log:
        logs("highway/explain_ig_highway"),
    benchmark:
        benchmarks("highway/explain_ig_highway")
    conda:
        "../envs/highway.yaml"
    threads: 1
    resources:
        mem_mb=4096,
        runtime=30,
    params:
        figures=HIGHWAY_ANALYSES["explain_ig_highway"],
        seed=HIGHWAY["seed"],
        ig_steps=HIGHWAY["analysis"]["ig_steps"],
    script:
        "../scripts/highway/explain_ig_highway.py"


rule explain_conductance_highway:
    input:
        **HIGHWAY_ANALYSIS_INPUTS,
        modules=modules(
            "highway.attribution",
            "highway.data",
            "highway.network",
            "highway.plots",
            "highway.pretrained",
            "highway.states",
        ),
    output:
        **HIGHWAY_ANALYSIS_OUTPUTS["explain_conductance_highway"],
    log:
        logs("highway/explain_conductance_highway"),
    benchmark:
        benchmarks("highway/explain_conductance_highway")
    conda:
        "../envs/highway.yaml"
    threads: 1
    resources:
        mem_mb=4096,
        runtime=30,
    params:
        figures=HIGHWAY_ANALYSES["explain_conductance_highway"],
        seed=HIGHWAY["seed"],
        conductance_steps=HIGHWAY["analysis"]["conductance_steps"],
        attribution_states=HIGHWAY["analysis"]["attribution_states"],
    script:
        "../scripts/highway/explain_conductance_highway.py"


rule explain_shap_highway:
    input:
        **HIGHWAY_ANALYSIS_INPUTS,
        modules=modules(
            "highway.attribution",
            "highway.data",
            "highway.network",
            "highway.plots",
            "highway.pretrained",
            "highway.states",
        ),
    output:
        **HIGHWAY_ANALYSIS_OUTPUTS["explain_shap_highway"],
    log:
        logs("highway/explain_shap_highway"),
    benchmark:
        benchmarks("highway/explain_shap_highway")
    conda:
        "../envs/highway.yaml"
    threads: 1
    resources:
        mem_mb=4096,
        runtime=30,
    params:
        figures=HIGHWAY_ANALYSES["explain_shap_highway"],
        seed=HIGHWAY["seed"],
        shap_background=HIGHWAY["analysis"]["shap_background"],
        shap_samples=HIGHWAY["analysis"]["shap_samples"],
        attribution_states=HIGHWAY["analysis"]["attribution_states"],
    script:
        "../scripts/highway/explain_shap_highway.py"


rule inspect_circuits_highway:
    input:
        **HIGHWAY_ANALYSIS_INPUTS,
        modules=modules(
            "highway.data",
            "highway.network",
            "highway.inspection",
            "highway.plots",
            "highway.pretrained",
            "highway.states",
        ),
    output:
        **HIGHWAY_ANALYSIS_OUTPUTS["inspect_circuits_highway"],
    log:
        logs("highway/inspect_circuits_highway"),
    benchmark:
        benchmarks("highway/inspect_circuits_highway")
    conda:
        "../envs/highway.yaml"
    threads: 1
    resources:
        mem_mb=2048,
        runtime=30,
    params:
        figures=HIGHWAY_ANALYSES["inspect_circuits_highway"],
        seed=HIGHWAY["seed"],
    script:
        "../scripts/highway/inspect_circuits_highway.py"


rule inspect_weights_highway:
    input:
        **HIGHWAY_MODELS,
        modules=modules(
            "highway.data",
            "highway.network",
            "highway.inspection",
            "highway.plots",
            "highway.pretrained",
            "highway.states",
        ),
    output:
        **HIGHWAY_ANALYSIS_OUTPUTS["inspect_weights_highway"],
    log:
        logs("highway/inspect_weights_highway"),
    benchmark:
        benchmarks("highway/inspect_weights_highway")
    conda:
        "../envs/highway.yaml"
    threads: 1
    resources:
        mem_mb=2048,
        runtime=30,
    params:
        figures=HIGHWAY_ANALYSES["inspect_weights_highway"],
        seed=HIGHWAY["seed"],
    script:
        "../scripts/highway/inspect_weights_highway.py"


rule ablate_highway:
    input:
        **HIGHWAY_ANALYSIS_INPUTS,
        modules=modules(
            "highway.data",
            "highway.network",
            "highway.env",
            "highway.evaluation",
            "highway.fast_numpy",
            "highway.fast_sim",
            "highway.intervention",
            "highway.plots",
            "highway.pretrained",
            "highway.states",
        ),
    output:
        **HIGHWAY_ANALYSIS_OUTPUTS["ablate_highway"],
    log:
        logs("highway/ablate_highway"),
    benchmark:
        benchmarks("highway/ablate_highway")
    # with evaluate_highway, the longest job after the training (see there)
    priority: 40
    conda:
        "../envs/highway.yaml"
    threads: 1
    resources:
        mem_mb=2048,
        runtime=60,
    params:
        fast_env=HIGHWAY["env"].get("fast", True),
        figures=HIGHWAY_ANALYSES["ablate_highway"],
        seed=HIGHWAY["seed"],
        ablation_episodes=HIGHWAY["analysis"]["ablation_episodes"],
        observation=HIGHWAY_OBSERVATION,
    script:
        "../scripts/highway/ablate_highway.py"


rule perturb_highway:
    input:
        **HIGHWAY_ANALYSIS_INPUTS,
        modules=modules(
            "highway.data",
            "highway.network",
            "highway.intervention",
            "highway.plots",
            "highway.pretrained",
            "highway.states",
        ),
    output:
        **HIGHWAY_ANALYSIS_OUTPUTS["perturb_highway"],
    log:
        logs("highway/perturb_highway"),
    benchmark:
        benchmarks("highway/perturb_highway")
    conda:
        "../envs/highway.yaml"
    threads: 1
    resources:
        mem_mb=2048,
        runtime=30,
    params:
        figures=HIGHWAY_ANALYSES["perturb_highway"],
        seed=HIGHWAY["seed"],
        perturb_sigmas=HIGHWAY["analysis"]["perturb_sigmas"],
        perturb_shift=HIGHWAY["analysis"]["perturb_shift"],
    script:
        "../scripts/highway/perturb_highway.py"


rule apply_logit_lens_highway:
    input:
        **HIGHWAY_ANALYSIS_INPUTS,
        modules=modules(
            "highway.data",
            "highway.network",
            "highway.intervention",
            "highway.plots",
            "highway.pretrained",
            "highway.states",
        ),
    output:
        **HIGHWAY_ANALYSIS_OUTPUTS["apply_logit_lens_highway"],
    log:
        logs("highway/apply_logit_lens_highway"),
    benchmark:
        benchmarks("highway/apply_logit_lens_highway")
    conda:
        "../envs/highway.yaml"
    threads: 1
    resources:
        mem_mb=2048,
        runtime=30,
    params:
        figures=HIGHWAY_ANALYSES["apply_logit_lens_highway"],
        seed=HIGHWAY["seed"],
    script:
        "../scripts/highway/apply_logit_lens_highway.py"


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
