# The attention-DQN study's analyses, figures and metrics.json (rules/highway.smk: models).


# One rule per analysis, all alike: the trained and untrained networks and their rollouts in,
# the analysis' figures and its part of metrics.json out. Each entry: the science modules its
# script imports, its memory and run time, its params beyond figures and seed, and a priority
# where it is not 0.
HIGHWAY_ANALYSIS_RULES = {
    "explain_ig_highway": dict(
        modules=[
            "highway.attribution",
            "highway.data",
            "highway.network",
            "highway.plots",
        ],
        mem_mb=4096,
        runtime=30,
        params=dict(ig_steps=HIGHWAY["analysis"]["ig_steps"]),
    ),
    "explain_conductance_highway": dict(
        modules=[
            "highway.attribution",
            "highway.data",
            "highway.network",
            "highway.plots",
        ],
        mem_mb=4096,
        runtime=30,
        params=dict(conductance_steps=HIGHWAY["analysis"]["conductance_steps"]),
    ),
    "explain_shap_highway": dict(
        modules=[
            "highway.attribution",
            "highway.data",
            "highway.network",
            "highway.plots",
        ],
        mem_mb=4096,
        runtime=30,
        params=dict(
            shap_background=HIGHWAY["analysis"]["shap_background"],
            shap_samples=HIGHWAY["analysis"]["shap_samples"],
        ),
    ),
    "inspect_circuits_highway": dict(
        modules=[
            "highway.data",
            "highway.network",
            "highway.inspection",
            "highway.plots",
        ],
        mem_mb=2048,
        runtime=30,
        params={},
    ),
    "inspect_weights_highway": dict(
        modules=[
            "highway.data",
            "highway.network",
            "highway.inspection",
            "highway.plots",
        ],
        mem_mb=2048,
        runtime=30,
        params={},
    ),
    "ablate_highway": dict(
        modules=[
            "highway.data",
            "highway.network",
            "highway.env",
            "highway.evaluation",
            "highway.fast_numpy",
            "highway.fast_sim",
            "highway.intervention",
            "highway.plots",
        ],
        mem_mb=2048,
        runtime=60,
        params=dict(
            fast_env=HIGHWAY["env"].get("fast", True),
            ablation_episodes=HIGHWAY["analysis"]["ablation_episodes"],
            order=HIGHWAY["env"]["order"],
        ),
        # with evaluate_highway, the longest job after the training (see there)
        priority=40,
    ),
    "perturb_highway": dict(
        modules=[
            "highway.data",
            "highway.network",
            "highway.intervention",
            "highway.plots",
        ],
        mem_mb=2048,
        runtime=30,
        params=dict(
            perturb_sigmas=HIGHWAY["analysis"]["perturb_sigmas"],
            perturb_shift=HIGHWAY["analysis"]["perturb_shift"],
        ),
    ),
    "apply_logit_lens_highway": dict(
        modules=[
            "highway.data",
            "highway.network",
            "highway.intervention",
            "highway.plots",
        ],
        mem_mb=2048,
        runtime=30,
        params={},
    ),
}
assert HIGHWAY_ANALYSIS_RULES.keys() == HIGHWAY_ANALYSES.keys()


for _analysis, _spec in HIGHWAY_ANALYSIS_RULES.items():

    rule:
        name:
            _analysis
        input:
            **HIGHWAY_ANALYSIS_INPUTS,
            modules=modules(*_spec["modules"]),
        output:
            **HIGHWAY_ANALYSIS_OUTPUTS[_analysis],
        log:
            logs(f"highway/{_analysis}"),
        benchmark:
            benchmarks(f"highway/{_analysis}")
        priority: _spec.get("priority", 0)
        conda:
            "../envs/highway.yaml"
        threads: 1
        resources:
            mem_mb=_spec["mem_mb"],
            runtime=_spec["runtime"],
        params:
            **{
                "figures": HIGHWAY_ANALYSES[_analysis],
                "seed": HIGHWAY["seed"],
                **_spec["params"],
            },
        script:
            f"../scripts/highway/{_analysis}.py"


rule plot_rollout_highway:
    input:
        rollout_trained=HIGHWAY_ANALYSIS_INPUTS["rollout_trained"],
        rollout_untrained=HIGHWAY_ANALYSIS_INPUTS["rollout_untrained"],
        modules=modules("highway.data", "highway.network"),
    output:
        **{name: HIGHWAY_FIGURE_OUTPUTS[name] for name in HIGHWAY_ROLLOUT_FIGURES},
        gif=report(
            "results/highway/figures/rollout.gif",
            caption="../report/highway/rollout_gif.rst",
            category=RUN,
            subcategory="highway",
        ),
    log:
        logs("highway/plot_rollout_highway"),
    benchmark:
        benchmarks("highway/plot_rollout_highway")
    conda:
        "../envs/highway.yaml"
    threads: 1
    resources:
        mem_mb=2048,
        runtime=10,
    params:
        figures=HIGHWAY_ROLLOUT_FIGURES,
    script:
        "../scripts/highway/plot_rollout_highway.py"


rule summarize_highway:
    input:
        analyses=expand("results/highway/analysis/{rule}.json", rule=HIGHWAY_ANALYSES),
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
