# The counterfactual study: alibi's CounterfactualRL (reinforcement-learned counterfactuals)
# on 8x8 digits or MNIST, against alibi's optimization-based Counterfactual search.
CFRL = config["cfrl"]
CFRL_IMAGE_SIZE = 8 if CFRL["dataset"] == "digits" else 28
# weights live in the framework of the CFRL backend: npz weight lists (TF) or state_dicts
CFRL_EXT = "npz" if CFRL["cfrl"]["backend"] == "tensorflow" else "pt"
# memory per job: MNIST holds 70,000 28x28 images and a replay buffer of 28x28 batches, so its
# jobs get 4x the digits jobs' memory (their peaks: the benchmarks/ records)
CFRL_MEM = 4 if CFRL["dataset"] == "mnist" else 1

STUDY_TARGETS["cfrl"] = [
    "results/cfrl/metrics.json",
    *expand(
        "results/cfrl/figures/{name}.png",
        name=[
            "training_curves",
            "counterfactuals",
            "target_grid",
            "difference_maps",
            "reconstructions",
        ],
    ),
]
CFRL_SHARDS = range(CFRL["baseline"]["shards"])
# MNIST's files as inputs (rule fetch downloads those under resources/): the npz, or the IDX
# files the split reads (the test half only when the run splits MNIST's test set)
CFRL_MNIST_SPLITS = ["t10k"] if CFRL["mnist"]["from_test_set"] else ["train", "t10k"]
CFRL_MNIST = (
    []
    if CFRL["dataset"] != "mnist"
    else (
        [CFRL["mnist"]["path"]]
        if CFRL["mnist"]["format"] == "npz"
        else expand(
            "{path}/{split}-{kind}-ubyte.gz",
            path=CFRL["mnist"]["path"],
            split=CFRL_MNIST_SPLITS,
            kind=["images-idx3", "labels-idx1"],
        )
    )
)


rule prepare_cfrl_data:
    input:
        mnist=CFRL_MNIST,
        modules=modules("cfrl.data", "cfrl.metrics"),
    output:
        dataset="results/cfrl/data/dataset.npz",
    log:
        logs("cfrl/prepare_cfrl_data"),
    benchmark:
        benchmarks("cfrl/prepare_cfrl_data")
    priority: LONG_JOB
    conda:
        "../envs/cfrl.yaml"
    threads: 1
    resources:
        mem_mb=2048,
        runtime=10,
    params:
        dataset=CFRL["dataset"],
        seed=CFRL["seed"],
        digits=CFRL["digits"],
        mnist=CFRL["mnist"],
        validation_fraction=CFRL["validation"]["fraction"],
    script:
        "../scripts/cfrl/prepare_cfrl_data.py"


rule train_cfrl_classifier:
    input:
        dataset=rules.prepare_cfrl_data.output.dataset,
        modules=modules("cfrl.data", "cfrl.metrics", "cfrl.models", "cfrl.training"),
    output:
        weights="results/cfrl/models/classifier.npz",
        metrics="results/cfrl/models/classifier.json",
    log:
        logs("cfrl/train_cfrl_classifier"),
    benchmark:
        benchmarks("cfrl/train_cfrl_classifier")
    priority: LONG_JOB
    conda:
        "../envs/cfrl.yaml"
    threads: 1
    resources:
        mem_mb=2048 * CFRL_MEM,
        runtime=60,
    params:
        **CFRL["classifier"],
        seed=CFRL["seed"],
    script:
        "../scripts/cfrl/train_cfrl_classifier.py"


rule train_cfrl_autoencoder:
    input:
        dataset=rules.prepare_cfrl_data.output.dataset,
        modules=modules("cfrl.data", "cfrl.metrics", "cfrl.models", "cfrl.training"),
    output:
        weights=f"results/cfrl/models/autoencoder.{CFRL_EXT}",
        metrics="results/cfrl/models/autoencoder.json",
    log:
        logs("cfrl/train_cfrl_autoencoder"),
    benchmark:
        benchmarks("cfrl/train_cfrl_autoencoder")
    priority: LONG_JOB
    conda:
        "../envs/cfrl.yaml"
    threads: 1
    resources:
        mem_mb=2048 * CFRL_MEM,
        runtime=120,
    params:
        **CFRL["autoencoder"],
        seed=CFRL["seed"],
        backend=CFRL["cfrl"]["backend"],
        device=CFRL.get("device", "auto"),
    script:
        "../scripts/cfrl/train_cfrl_autoencoder.py"


rule fit_cfrl:
    input:
        dataset=rules.prepare_cfrl_data.output.dataset,
        classifier=rules.train_cfrl_classifier.output.weights,
        autoencoder=rules.train_cfrl_autoencoder.output.weights,
        modules=modules("cfrl.data", "cfrl.explainer", "cfrl.metrics", "cfrl.models"),
    output:
        actor=f"results/cfrl/models/actor.{CFRL_EXT}",
        log_csv="results/cfrl/training_log.csv",
        fit="results/cfrl/models/fit.json",
    log:
        logs("cfrl/fit_cfrl"),
    benchmark:
        benchmarks("cfrl/fit_cfrl")
    priority: LONG_JOB
    conda:
        "../envs/cfrl.yaml"
    threads: 1
    resources:
        mem_mb=2048 * CFRL_MEM,
        runtime=240,
    params:
        seed=CFRL["seed"],
        image_size=CFRL_IMAGE_SIZE,
        autoencoder=CFRL["autoencoder"],
        cfrl=CFRL["cfrl"],
        validation={k: CFRL["validation"][k] for k in ("n_instances", "every")},
    script:
        "../scripts/cfrl/fit_cfrl.py"


rule explain_cfrl:
    input:
        dataset=rules.prepare_cfrl_data.output.dataset,
        classifier=rules.train_cfrl_classifier.output.weights,
        autoencoder=rules.train_cfrl_autoencoder.output.weights,
        actor=rules.fit_cfrl.output.actor,
        modules=modules("cfrl.data", "cfrl.explainer", "cfrl.metrics", "cfrl.models"),
    output:
        counterfactuals="results/cfrl/counterfactuals/cfrl.npz",
        timing="results/cfrl/counterfactuals/cfrl_timing.json",
    log:
        logs("cfrl/explain_cfrl"),
    benchmark:
        benchmarks("cfrl/explain_cfrl")
    conda:
        "../envs/cfrl.yaml"
    threads: 1
    resources:
        mem_mb=2048 * CFRL_MEM,
        runtime=20,
    params:
        seed=CFRL["seed"],
        image_size=CFRL_IMAGE_SIZE,
        autoencoder=CFRL["autoencoder"],
        cfrl=CFRL["cfrl"],
        explain={
            k: CFRL["explain"][k] for k in ("n_instances", "batch_size", "repeats")
        },
    script:
        "../scripts/cfrl/explain_cfrl.py"


rule train_cfrl_scorers:
    input:
        dataset=rules.prepare_cfrl_data.output.dataset,
        modules=modules("cfrl.data", "cfrl.metrics", "cfrl.models", "cfrl.scoring"),
    output:
        scorers="results/cfrl/models/scorers.pt",
        metrics="results/cfrl/models/scorers.json",
    log:
        logs("cfrl/train_cfrl_scorers"),
    benchmark:
        benchmarks("cfrl/train_cfrl_scorers")
    conda:
        "../envs/cfrl.yaml"
    threads: 1
    resources:
        mem_mb=1024 * CFRL_MEM,
        runtime=30,
    params:
        seed=CFRL["seed"],
        scoring=CFRL["scoring"],
        device=CFRL.get("device", "auto"),
    script:
        "../scripts/cfrl/train_cfrl_scorers.py"


rule search_baseline_counterfactuals:
    input:
        dataset=rules.prepare_cfrl_data.output.dataset,
        classifier=rules.train_cfrl_classifier.output.weights,
        modules=modules("cfrl.baseline", "cfrl.data", "cfrl.metrics", "cfrl.models"),
    output:
        baseline="results/cfrl/counterfactuals/baseline_{shard}.npz",
        timing="results/cfrl/counterfactuals/baseline_{shard}_timing.json",
    log:
        logs("cfrl/search_baseline_counterfactuals_{shard}"),
    benchmark:
        benchmarks("cfrl/search_baseline_counterfactuals_{shard}")
    wildcard_constraints:
        shard=r"\d+",
    priority: LONG_JOB
    conda:
        "../envs/cfrl.yaml"
    threads: 1
    resources:
        mem_mb=2048 * CFRL_MEM,
        runtime=120,
    params:
        seed=CFRL["seed"],
        image_size=CFRL_IMAGE_SIZE,
        n_explained=CFRL["explain"]["n_instances"],
        baseline=CFRL["baseline"],
    script:
        "../scripts/cfrl/search_baseline_counterfactuals.py"


rule time_counterfactuals:
    input:
        dataset=rules.prepare_cfrl_data.output.dataset,
        classifier=rules.train_cfrl_classifier.output.weights,
        autoencoder=rules.train_cfrl_autoencoder.output.weights,
        actor=rules.fit_cfrl.output.actor,
        modules=modules(
            "cfrl.baseline",
            "cfrl.data",
            "cfrl.explainer",
            "cfrl.metrics",
            "cfrl.models",
            "cfrl.timing",
        ),
    output:
        timing="results/cfrl/counterfactuals/timing.json",
    log:
        logs("cfrl/time_counterfactuals"),
    benchmark:
        benchmarks("cfrl/time_counterfactuals")
    conda:
        "../envs/cfrl.yaml"
    threads: 1
    resources:
        # three TensorFlow processes: the job and its two spawned timing workers
        mem_mb=3072 + 2048 * CFRL_MEM,
        runtime=60,
    params:
        seed=CFRL["seed"],
        image_size=CFRL_IMAGE_SIZE,
        autoencoder=CFRL["autoencoder"],
        cfrl=CFRL["cfrl"],
        explain={k: CFRL["explain"][k] for k in ("n_instances", "batch_size")},
        baseline=CFRL["baseline"],
        speed=CFRL["speed"],
    script:
        "../scripts/cfrl/time_counterfactuals.py"
