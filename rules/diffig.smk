# diffig: a GRU policy (trained here on CartPole, or a pretrained one of the MMN code base
# for CartPole or Pong) quantized into a Moore machine network (MMN), its Moore machine
# extracted, minimized and run as a table, and differential Integrated Gradients of the
# observation bottleneck.
DIFFIG = config["diffig"]
DIFFIG_PAIRS = [f"{i}_{j}" for i, j in DIFFIG["diff_ig"]["pairs"]]
DIFFIG_CARTPOLE = DIFFIG["env"] == "CartPole-v1"
DIFFIG_TASK = {"env": DIFFIG["env"], "max_steps": DIFFIG["max_steps"]}
DIFFIG_GRU = "results/diffig/models/gru.pt"
DIFFIG_GRU_ONLY = DIFFIG.get("gru_only", False)

STUDY_TARGETS["diffig"] = ["results/diffig/metrics.json"]
if not DIFFIG_GRU_ONLY:
    STUDY_TARGETS["diffig"] += [
        "results/diffig/figures/moore_machine_raw.png",
        "results/diffig/figures/moore_machine_minimized.png",
    ]
if DIFFIG_CARTPOLE and not DIFFIG_GRU_ONLY:
    STUDY_TARGETS["diffig"] += [
        "results/diffig/figures/diff_ig_matrix.png",
        *expand("results/diffig/figures/diff_ig_{pair}.png", pair=DIFFIG_PAIRS),
    ]
ATARI = DIFFIG["atari"]
ATARI_FIGURES = [
    f"results/diffig/atari/figures/diff_ig_{i}_{j}.png" for i, j in ATARI["pairs"]
]
if ATARI["model"]:
    STUDY_TARGETS["diffig"] += ["results/diffig/atari/metrics.json", *ATARI_FIGURES]


wildcard_constraints:
    kind="hx|obs",


if DIFFIG["pretrained"]["gru"]:

    rule import_gru:
        input:
            source=DIFFIG["pretrained"]["gru"],
            modules=modules(
                "diffig.networks",
                "diffig.rollouts",
                "diffig.atari",
                "diffig.tasks",
                "diffig.io",
            ),
        output:
            gru=DIFFIG_GRU,
        log:
            logs("diffig/import_gru"),
        benchmark:
            benchmarks("diffig/import_gru")
        conda:
            "../envs/diffig.yaml"
        threads: 1
        resources:
            mem_mb=1024,
            runtime=5,
        params:
            env=DIFFIG["env"],
        script:
            "../scripts/diffig/import_gru.py"

else:

    rule train_gru_policy:
        input:
            modules=modules(
                "diffig.networks", "diffig.rollouts", "diffig.training", "diffig.io"
            ),
        output:
            gru="results/diffig/models/gru.pt",
            history="results/diffig/models/gru_history.csv",
        log:
            logs("diffig/train_gru_policy"),
        benchmark:
            benchmarks("diffig/train_gru_policy")
        priority: LONG_JOB
        conda:
            "../envs/diffig.yaml"
        threads: 1
        resources:
            mem_mb=1024,
            runtime=30,
        params:
            seed=DIFFIG["seed"],
            gru=DIFFIG["gru"],
        script:
            "../scripts/diffig/train_gru_policy.py"


rule collect_bottleneck_data:
    input:
        gru=DIFFIG_GRU,
        modules=modules(
            "diffig.networks",
            "diffig.rollouts",
            "diffig.atari",
            "diffig.tasks",
            "diffig.io",
        ),
    output:
        data="results/diffig/data/bottleneck.npz",
    log:
        logs("diffig/collect_bottleneck_data"),
    benchmark:
        benchmarks("diffig/collect_bottleneck_data")
    priority: LONG_JOB
    conda:
        "../envs/diffig.yaml"
    threads: 1
    resources:
        mem_mb=1024,
        runtime=10,
    params:
        **DIFFIG_TASK,
        seed=DIFFIG["seed"],
        bottleneck=DIFFIG["bottleneck"],
    script:
        "../scripts/diffig/collect_bottleneck_data.py"


rule train_qbn:
    input:
        gru=DIFFIG_GRU,
        data=rules.collect_bottleneck_data.output.data,
        modules=modules(
            "diffig.networks",
            "diffig.rollouts",
            "diffig.training",
            "diffig.atari",
            "diffig.tasks",
            "diffig.io",
        ),
    output:
        qbn="results/diffig/models/{kind}_qbn.pt",
        history="results/diffig/models/{kind}_qbn_history.csv",
    log:
        logs("diffig/train_qbn/{kind}"),
    benchmark:
        benchmarks("diffig/train_qbn/{kind}")
    priority: LONG_JOB
    conda:
        "../envs/diffig.yaml"
    threads: 1
    resources:
        mem_mb=1024,
        runtime=60,
    params:
        **DIFFIG_TASK,
        seed=DIFFIG["seed"],
        qbn=DIFFIG["qbn"],
    script:
        "../scripts/diffig/train_qbn.py"


if DIFFIG["pretrained"]["model"]:

    rule import_mmn:
        input:
            source=DIFFIG["pretrained"]["model"],
            modules=modules(
                "diffig.networks",
                "diffig.rollouts",
                "diffig.atari",
                "diffig.tasks",
                "diffig.io",
            ),
        output:
            mmn="results/diffig/models/mmn.pt",
        log:
            logs("diffig/import_mmn"),
        benchmark:
            benchmarks("diffig/import_mmn")
        conda:
            "../envs/diffig.yaml"
        threads: 1
        resources:
            mem_mb=1024,
            runtime=5,
        params:
            env=DIFFIG["env"],
        script:
            "../scripts/diffig/import_mmn.py"

else:

    rule finetune_mmn:
        input:
            gru=DIFFIG_GRU,
            hx="results/diffig/models/hx_qbn.pt",
            obs="results/diffig/models/obs_qbn.pt",
            modules=modules(
                "diffig.networks",
                "diffig.rollouts",
                "diffig.training",
                "diffig.atari",
                "diffig.tasks",
                "diffig.io",
            ),
        output:
            mmn="results/diffig/models/mmn.pt",
            history="results/diffig/models/mmn_history.csv",
        log:
            logs("diffig/finetune_mmn"),
        benchmark:
            benchmarks("diffig/finetune_mmn")
        conda:
            "../envs/diffig.yaml"
        threads: 1
        resources:
            mem_mb=1024,
            runtime=60,
        params:
            **DIFFIG_TASK,
            seed=DIFFIG["seed"],
            finetune=DIFFIG["finetune"],
        script:
            "../scripts/diffig/finetune_mmn.py"


rule evaluate_mmn:
    input:
        mmn="results/diffig/models/mmn.pt",
        modules=modules(
            "diffig.networks",
            "diffig.rollouts",
            "diffig.atari",
            "diffig.tasks",
            "diffig.io",
        ),
    output:
        returns="results/diffig/returns.json",
    log:
        logs("diffig/evaluate_mmn"),
    benchmark:
        benchmarks("diffig/evaluate_mmn")
    conda:
        "../envs/diffig.yaml"
    threads: 1
    resources:
        mem_mb=2048,
        runtime=15,
    params:
        **DIFFIG_TASK,
        seed=DIFFIG["seed"],
        evaluation=DIFFIG["evaluation"],
    script:
        "../scripts/diffig/evaluate_mmn.py"


rule extract_moore_machine:
    input:
        mmn="results/diffig/models/mmn.pt",
        modules=modules(
            "diffig.networks",
            "diffig.rollouts",
            "diffig.moore_machine",
            "diffig.atari",
            "diffig.tasks",
            "diffig.io",
            "diffig.summary",
        ),
    output:
        machine="results/diffig/moore_machine.json",
        raw="results/diffig/transitions_raw.csv",
        minimized="results/diffig/transitions_minimized.csv",
    log:
        logs("diffig/extract_moore_machine"),
    benchmark:
        benchmarks("diffig/extract_moore_machine")
    conda:
        "../envs/diffig.yaml"
    threads: 1
    resources:
        mem_mb=1024,
        runtime=15,
    params:
        **DIFFIG_TASK,
        seed=DIFFIG["seed"],
        machine=DIFFIG["machine"],
        evaluation=DIFFIG["evaluation"],
    script:
        "../scripts/diffig/extract_moore_machine.py"
