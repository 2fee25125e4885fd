# The inputs of the highway study's analyses (included from rules/highway.smk): the networks
# (the workflow's own, or an rl-agents checkpoint imported with an untrained twin of its
# architecture, and that agent's evaluation), the trained agent's states pooled over many
# seeded episodes, and one rendered episode per network with its figures.


if HIGHWAY_PRETRAINED.get("checkpoint"):

    rule import_pretrained_highway:
        input:
            checkpoint=HIGHWAY_PRETRAINED["checkpoint"],
            modules=modules("highway.network"),
        output:
            **HIGHWAY_MODELS,
        log:
            logs("highway/import_pretrained_highway"),
        benchmark:
            benchmarks("highway/import_pretrained_highway")
        conda:
            "../envs/highway.yaml"
        threads: 1
        resources:
            mem_mb=1024,
            runtime=5,
        params:
            seed=HIGHWAY["seed"],
            network=HIGHWAY_PRETRAINED["network"],
        script:
            "../scripts/highway/import_pretrained_highway.py"

    rule evaluate_pretrained_highway:
        input:
            checkpoint=HIGHWAY_PRETRAINED["checkpoint"],
            modules=modules(
                "highway.env",
                "highway.fast_numpy",
                "highway.fast_sim",
                "highway.network",
                "highway.pretrained",
            ),
        output:
            evaluation="results/highway/pretrained_evaluation.json",
        log:
            logs("highway/evaluate_pretrained_highway"),
        benchmark:
            benchmarks("highway/evaluate_pretrained_highway")
        conda:
            "../envs/highway.yaml"
        threads: 1
        resources:
            mem_mb=2048,
            runtime=60,
        params:
            fast_env=HIGHWAY["env"].get("fast", True),
            seed=HIGHWAY["seed"],
            network=HIGHWAY_PRETRAINED["network"],
            observation=HIGHWAY_PRETRAINED["observation"],
            episodes=HIGHWAY_PRETRAINED["episodes"],
        script:
            "../scripts/highway/evaluate_pretrained_highway.py"


rule rollout_highway:
    input:
        model=lambda wildcards: HIGHWAY_MODELS[wildcards.policy],
        modules=modules(
            "highway.env",
            "highway.fast_numpy",
            "highway.fast_sim",
            "highway.network",
            "highway.pretrained",
            "highway.rollout",
        ),
    output:
        rollout="results/highway/rollouts/{policy}.npz",
    log:
        logs("highway/rollout_highway/{policy}"),
    benchmark:
        benchmarks("highway/rollout_highway/{policy}")
    # first after train_highway: the figures read the rollouts
    priority: 45
    conda:
        "../envs/highway.yaml"
    threads: 1
    resources:
        mem_mb=2048,
        runtime=10,
    params:
        fast_env=HIGHWAY["env"].get("fast", True),
        seed=HIGHWAY["seed"],
        episode_seed=HIGHWAY["analysis"]["episode_seed"],
        observation=HIGHWAY_OBSERVATION,
    script:
        "../scripts/highway/rollout_highway.py"


rule collect_states_highway:
    input:
        model=HIGHWAY_MODELS["trained"],
        modules=modules(
            "highway.env",
            "highway.fast_numpy",
            "highway.fast_sim",
            "highway.network",
            "highway.pretrained",
            "highway.rollout",
            "highway.states",
        ),
    output:
        states=HIGHWAY_ANALYSIS_INPUTS["states"],
        summary="results/highway/analysis/collect_states_highway.json",
    log:
        logs("highway/collect_states_highway"),
    benchmark:
        benchmarks("highway/collect_states_highway")
    # first after train_highway: every analysis reads the states
    priority: 45
    conda:
        "../envs/highway.yaml"
    threads: 1
    resources:
        mem_mb=2048,
        runtime=20,
    params:
        fast_env=HIGHWAY["env"].get("fast", True),
        seed=HIGHWAY["seed"],
        episode_seed=HIGHWAY["analysis"]["episode_seed"],
        episodes=HIGHWAY["analysis"]["episodes"],
        observation=HIGHWAY_OBSERVATION,
    script:
        "../scripts/highway/collect_states_highway.py"


rule plot_rollout_highway:
    input:
        rollout_trained="results/highway/rollouts/trained.npz",
        rollout_untrained="results/highway/rollouts/untrained.npz",
        modules=modules(
            "highway.data", "highway.network", "highway.pretrained", "highway.states"
        ),
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
