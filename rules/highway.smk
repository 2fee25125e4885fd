# The attention-DQN study: an ego-attention DQN (stable-baselines3, rl-agents' network) on
# highway-env's intersection-v0; training, evaluation, rollout and interpretability analyses.
HIGHWAY = config["highway"]
# an agent trained with rl-agents (highway.pretrained): when a checkpoint is given, every
# analysis reads it and an untrained network of its architecture, in its environment
HIGHWAY_PRETRAINED = HIGHWAY.get("pretrained") or {}
HIGHWAY_MODELS = {
    m: (
        f"results/highway/pretrained/{m}.pt"
        if HIGHWAY_PRETRAINED.get("checkpoint")
        else f"results/highway/models/{m}.pt"
    )
    for m in ("trained", "untrained")
}
HIGHWAY_OBSERVATION = (
    HIGHWAY_PRETRAINED["observation"]
    if HIGHWAY_PRETRAINED.get("checkpoint")
    else {"order": HIGHWAY["env"]["order"]}
)

# One rule per analysis -> the figures it writes (stated once: the rules' outputs and the
# scripts' params.figures both come from here).
HIGHWAY_ANALYSES = {
    "explain_ig_highway": ["ig", "ig_signed"],
    "explain_conductance_highway": ["conductance", "neuron_conductance"],
    "explain_shap_highway": ["shap"],
    "inspect_circuits_highway": ["circuits"],
    "inspect_weights_highway": ["weights"],
    "ablate_highway": ["ablation"],
    "perturb_highway": ["perturbation"],
    "apply_logit_lens_highway": ["logit_lens"],
}
HIGHWAY_ROLLOUT_FIGURES = ["activations", "contact_sheet"]
# Every analysis compares the trained and untrained networks on the trained agent's states
# pooled over many seeded episodes.
HIGHWAY_ANALYSIS_INPUTS = {**HIGHWAY_MODELS, "states": "results/highway/states.npz"}


# report() outputs results/highway/figures/<name>.png, one caption each
HIGHWAY_FIGURE_OUTPUTS = {
    name: report(
        f"results/highway/figures/{name}.png",
        caption=f"../report/highway/{name}.rst",
        category=RUN,
        subcategory="highway",
    )
    for names in [*HIGHWAY_ANALYSES.values(), HIGHWAY_ROLLOUT_FIGURES]
    for name in names
}
# an analysis rule's outputs: its figures and its part of metrics.json
HIGHWAY_ANALYSIS_OUTPUTS = {
    rule_name: {
        **{name: HIGHWAY_FIGURE_OUTPUTS[name] for name in names},
        "analysis": f"results/highway/analysis/{rule_name}.json",
    }
    for rule_name, names in HIGHWAY_ANALYSES.items()
}


STUDY_TARGETS["highway"] = [
    "results/highway/metrics.json",
    "results/highway/figures/rollout.gif",
    *expand(
        "results/highway/figures/{name}.png",
        name=HIGHWAY_FIGURE_OUTPUTS,
    ),
]


wildcard_constraints:
    policy="trained|untrained",


rule train_highway:
    input:
        modules=modules(
            "highway.checkpoint",
            "highway.env",
            "highway.fast_numpy",
            "highway.fast_sim",
            "highway.network",
            "highway.training",
        ),
    output:
        untrained="results/highway/models/untrained.pt",
        trained="results/highway/models/trained.pt",
        stats="results/highway/models/train_stats.json",
    log:
        logs("highway/train_highway"),
    benchmark:
        benchmarks("highway/train_highway")
    # the long pole of the default run: start it before the other studies' jobs
    priority: 50
    conda:
        "../envs/highway.yaml"
    # one core per env process, but on a small machine leave a core to the other studies:
    # envs scale sublinearly (docs/highway.md), so oversubscribing beats reserving every core
    threads: spare_cores(HIGHWAY["train"]["n_envs"])
    resources:
        mem_mb=4096,
        runtime=HIGHWAY["train"]["runtime_min"],
    params:
        fast_env=HIGHWAY["env"].get("fast", True),
        seed=HIGHWAY["seed"],
        net=HIGHWAY["network"],
        dqn=HIGHWAY["dqn"],
        total_steps=HIGHWAY["train"]["total_steps"],
        n_envs=HIGHWAY["train"]["n_envs"],
        checkpoint_every=HIGHWAY["train"]["checkpoint_every"],
        checkpoint_dir=run_path("results/highway/checkpoints"),
        order=HIGHWAY["env"]["order"],
        device=HIGHWAY["train"].get("device", "auto"),
    script:
        "../scripts/highway/train_highway.py"


rule evaluate_highway:
    input:
        trained=rules.train_highway.output.trained,
        untrained=rules.train_highway.output.untrained,
        modules=modules(
            "highway.env",
            "highway.evaluation",
            "highway.fast_numpy",
            "highway.fast_sim",
            "highway.network",
            "highway.pretrained",
        ),
    output:
        evaluation="results/highway/evaluation.json",
    log:
        logs("highway/evaluate_highway"),
    benchmark:
        benchmarks("highway/evaluate_highway")
    # after train_highway, the two longest jobs (this and ablate_highway) start side by side
    # once the rollouts (priority 45) are done; the short analyses and other studies fill in
    priority: 40
    conda:
        "../envs/highway.yaml"
    threads: 1
    resources:
        mem_mb=2048,
        runtime=60,
    params:
        fast_env=HIGHWAY["env"].get("fast", True),
        seed=HIGHWAY["seed"],
        episodes=HIGHWAY["evaluate"]["episodes"],
        order=HIGHWAY["env"]["order"],
    script:
        "../scripts/highway/evaluate_highway.py"


rule benchmark_highway_training:
    input:
        modules=modules(
            "highway.checkpoint",
            "highway.env",
            "highway.fast_numpy",
            "highway.fast_sim",
            "highway.network",
            "highway.training",
        ),
    output:
        benchmark="results/highway/benchmark.json",
    log:
        logs("highway/benchmark_highway_training"),
    benchmark:
        benchmarks("highway/benchmark_highway_training")
    conda:
        "../envs/highway.yaml"
    threads: HIGHWAY["benchmark"]["n_envs"]
    resources:
        mem_mb=4096,
        runtime=30,
    params:
        fast_env=HIGHWAY["env"].get("fast", True),
        seed=HIGHWAY["seed"],
        steps=HIGHWAY["benchmark"]["steps"],
        repeats=HIGHWAY["benchmark"]["repeats"],
        n_envs=HIGHWAY["benchmark"]["n_envs"],
        net=HIGHWAY["network"],
        dqn=HIGHWAY["dqn"],
        order=HIGHWAY["env"]["order"],
    script:
        "../scripts/highway/benchmark_highway_training.py"


# the networks, states and rollouts the analyses read
include: "highway_inputs.smk"
