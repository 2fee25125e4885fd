# The attention-DQN study: an ego-attention DQN (stable-baselines3, rl-agents' network) on
# highway-env's intersection-v0; training, evaluation, rollout and interpretability analyses.
HIGHWAY = config["highway"]

HIGHWAY_FIGURES = [
    "ig",
    "circuits",
    "weights",
    "conductance",
    "activations",
    "contact_sheet",
    "perturbation",
    "shap",
    "ablation",
]

STUDY_TARGETS["highway"] = [
    "results/highway/metrics.json",
    "results/highway/figures/rollout.gif",
    *expand("results/highway/figures/{name}.png", name=HIGHWAY_FIGURES),
]


wildcard_constraints:
    policy="trained|untrained",


rule train_highway:
    input:
        modules=modules("highway.model"),
    output:
        untrained="results/highway/models/untrained.pt",
        trained="results/highway/models/trained.pt",
        stats="results/highway/models/train_stats.json",
    log:
        "logs/highway/train_highway.log",
    benchmark:
        "benchmarks/highway/train_highway.tsv"
    conda:
        "../envs/highway.yaml"
    threads: HIGHWAY["train"]["n_envs"]
    resources:
        mem_mb=4096,
        runtime=HIGHWAY["train"]["runtime_min"],
    params:
        seed=HIGHWAY["seed"],
        net=HIGHWAY["network"],
        dqn=HIGHWAY["dqn"],
        total_steps=HIGHWAY["train"]["total_steps"],
        n_envs=HIGHWAY["train"]["n_envs"],
        checkpoint_every=HIGHWAY["train"]["checkpoint_every"],
        checkpoint_dir="results/highway/checkpoints",
    script:
        "../scripts/highway/train_highway.py"


rule evaluate_highway:
    input:
        trained=rules.train_highway.output.trained,
        untrained=rules.train_highway.output.untrained,
        modules=modules("highway.model"),
    output:
        evaluation="results/highway/evaluation.json",
    log:
        "logs/highway/evaluate_highway.log",
    benchmark:
        "benchmarks/highway/evaluate_highway.tsv"
    conda:
        "../envs/highway.yaml"
    threads: 1
    resources:
        mem_mb=2048,
        runtime=60,
    params:
        seed=HIGHWAY["seed"],
        episodes=HIGHWAY["evaluate"]["episodes"],
    script:
        "../scripts/highway/evaluate_highway.py"


rule benchmark_highway_training:
    input:
        modules=modules("highway.model"),
    output:
        benchmark="results/highway/benchmark.json",
    log:
        "logs/highway/benchmark_highway_training.log",
    benchmark:
        "benchmarks/highway/benchmark_highway_training.tsv"
    conda:
        "../envs/highway.yaml"
    threads: HIGHWAY["benchmark"]["n_envs"]
    resources:
        mem_mb=4096,
        runtime=30,
    params:
        seed=HIGHWAY["seed"],
        steps=HIGHWAY["benchmark"]["steps"],
        repeats=HIGHWAY["benchmark"]["repeats"],
        n_envs=HIGHWAY["benchmark"]["n_envs"],
        net=HIGHWAY["network"],
        dqn=HIGHWAY["dqn"],
    script:
        "../scripts/highway/benchmark_highway_training.py"


rule rollout_highway:
    input:
        model="results/highway/models/{policy}.pt",
        modules=modules("highway.model"),
    output:
        rollout="results/highway/rollouts/{policy}.npz",
    log:
        "logs/highway/rollout_highway/{policy}.log",
    benchmark:
        "benchmarks/highway/rollout_highway/{policy}.tsv"
    conda:
        "../envs/highway.yaml"
    threads: 1
    resources:
        mem_mb=2048,
        runtime=10,
    params:
        seed=HIGHWAY["seed"],
        episode_seed=HIGHWAY["analysis"]["episode_seed"],
    script:
        "../scripts/highway/rollout_highway.py"


rule analyze_highway:
    input:
        trained=rules.train_highway.output.trained,
        untrained=rules.train_highway.output.untrained,
        rollout_trained="results/highway/rollouts/trained.npz",
        rollout_untrained="results/highway/rollouts/untrained.npz",
        modules=modules("highway.model", "highway.explain"),
    output:
        **{
            name: report(
                f"results/highway/figures/{name}.png",
                caption=f"../report/highway/{name}.rst",
                category="Highway",
            )
            for name in HIGHWAY_FIGURES
        },
        analysis="results/highway/analysis.json",
        gif=report(
            "results/highway/figures/rollout.gif",
            caption="../report/highway/rollout_gif.rst",
            category="Highway",
        ),
    log:
        "logs/highway/analyze_highway.log",
    benchmark:
        "benchmarks/highway/analyze_highway.tsv"
    conda:
        "../envs/highway.yaml"
    threads: 1
    resources:
        mem_mb=4096,
        runtime=30,
    params:
        seed=HIGHWAY["seed"],
        ig_steps=HIGHWAY["analysis"]["ig_steps"],
        shap_background=HIGHWAY["analysis"]["shap_background"],
        perturb_sigmas=HIGHWAY["analysis"]["perturb_sigmas"],
        ablation_episodes=HIGHWAY["analysis"]["ablation_episodes"],
    script:
        "../scripts/highway/analyze_highway.py"


rule summarize_highway:
    input:
        analysis=rules.analyze_highway.output.analysis,
        evaluation=rules.evaluate_highway.output.evaluation,
        train_stats=rules.train_highway.output.stats,
        benchmark=rules.benchmark_highway_training.output.benchmark,
    output:
        metrics="results/highway/metrics.json",
    log:
        "logs/highway/summarize_highway.log",
    benchmark:
        "benchmarks/highway/summarize_highway.tsv"
    conda:
        "../envs/highway.yaml"
    threads: 1
    resources:
        mem_mb=512,
        runtime=5,
    script:
        "../scripts/highway/summarize_highway.py"
