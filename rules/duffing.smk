# The Duffing study: SHAP, LIME and exact Shapley values on a Keras surrogate of the
# forced Duffing oscillator, against the same explainers on the true ODE model.
DUFFING = config["duffing"]
EXPLAINERS = DUFFING["explain"]["explainers"]
ATTRIBUTIONS = expand(
    "results/duffing/attributions/{explainer}.csv", explainer=EXPLAINERS
)
QUERIES = expand(
    "results/duffing/attributions/{explainer}_queries.json", explainer=EXPLAINERS
)
# the slices' ranges: each feature's sampling range, t from 0 to t_max
RANGES = {
    "x0": DUFFING["sampling"]["x0_range"],
    "v0": DUFFING["sampling"]["v0_range"],
    "t": [0.0, DUFFING["sampling"]["t_max"]],
}

# duffing.pretrained.checkpoint set: the notebook's own network (rule import_surrogate) and
# its input moments replace the trained surrogate and the split's scaler downstream
PRETRAINED = DUFFING["pretrained"]["checkpoint"]
if PRETRAINED:
    SURROGATE = "results/duffing/models/notebook_surrogate.keras"
    SCALER = "results/duffing/models/notebook_scaler.json"
else:
    SURROGATE = "results/duffing/models/surrogate.keras"
    SCALER = "results/duffing/data/scaler.json"
ARCHITECTURE = {
    k: DUFFING["surrogate"][k]
    for k in ("width", "depth", "head_width", "head_activations")
}

STUDY_TARGETS["duffing"] = [
    "results/duffing/metrics.json",
    "results/duffing/figures/surrogate_summary.png",
    "results/duffing/figures/attribution_vs_gradient.png",
    *expand(
        "results/duffing/figures/{kind}_{explainer}.png",
        kind=["contributions", "aggregate"],
        explainer=EXPLAINERS,
    ),
]


wildcard_constraints:
    explainer="|".join(EXPLAINERS),


rule simulate_duffing:
    input:
        modules=modules("duffing.data", "duffing.ode"),
    output:
        samples="results/duffing/data/samples.csv",
    log:
        logs("duffing/simulate_duffing"),
    benchmark:
        benchmarks("duffing/simulate_duffing")
    priority: LONG_JOB
    conda:
        "../envs/duffing.yaml"
    threads: 1
    resources:
        mem_mb=1024,
        runtime=10,
    params:
        seed=DUFFING["seed"],
        ode=DUFFING["ode"],
        sampling=DUFFING["sampling"],
        tolerances=DUFFING["true_model"],
    script:
        "../scripts/duffing/simulate_duffing.py"


rule split_duffing:
    input:
        samples=rules.simulate_duffing.output.samples,
        modules=modules("duffing.data", "duffing.ode"),
    output:
        train="results/duffing/data/train.csv",
        test="results/duffing/data/test.csv",
        scaler="results/duffing/data/scaler.json",
    log:
        logs("duffing/split_duffing"),
    benchmark:
        benchmarks("duffing/split_duffing")
    priority: LONG_JOB
    conda:
        "../envs/duffing.yaml"
    threads: 1
    resources:
        mem_mb=1024,
        runtime=5,
    params:
        seed=DUFFING["seed"],
        test_fraction=DUFFING["sampling"]["test_fraction"],
    script:
        "../scripts/duffing/split_duffing.py"


rule train_surrogate:
    input:
        train=rules.split_duffing.output.train,
        scaler=rules.split_duffing.output.scaler,
        modules=modules("duffing.ode", "duffing.surrogate"),
    output:
        model="results/duffing/models/surrogate.keras",
        history="results/duffing/models/history.csv",
    log:
        logs("duffing/train_surrogate"),
    benchmark:
        benchmarks("duffing/train_surrogate")
    priority: LONG_JOB
    conda:
        "../envs/duffing.yaml"
    # 1 thread (same history and predictions as 2): on 2 cores a 2-thread job waits for
    # train_highway to end and then holds both cores (docs/benchmarks.md)
    threads: 1
    resources:
        mem_mb=4096,
        runtime=60,
    params:
        seed=DUFFING["seed"],
        surrogate=DUFFING["surrogate"],
    script:
        "../scripts/duffing/train_surrogate.py"


if PRETRAINED:

    rule import_surrogate:
        input:
            index=f"{PRETRAINED}.index",
            data=f"{PRETRAINED}.data-00000-of-00001",
            modules=modules("duffing.ode", "duffing.surrogate"),
        output:
            model=SURROGATE,
            scaler=SCALER,
        log:
            logs("duffing/import_surrogate"),
        benchmark:
            benchmarks("duffing/import_surrogate")
        conda:
            "../envs/duffing.yaml"
        threads: 1
        resources:
            mem_mb=2048,
            runtime=5,
        params:
            architecture=ARCHITECTURE,
            scaler={
                "mean": DUFFING["pretrained"]["scaler_mean"],
                "scale": DUFFING["pretrained"]["scaler_scale"],
            },
        script:
            "../scripts/duffing/import_surrogate.py"


rule evaluate_surrogate:
    input:
        test=rules.split_duffing.output.test,
        scaler=SCALER,
        model=SURROGATE,
        modules=modules("duffing.data", "duffing.ode", "duffing.surrogate"),
    output:
        predictions="results/duffing/models/test_predictions.csv",
        metrics="results/duffing/models/surrogate_metrics.json",
    log:
        logs("duffing/evaluate_surrogate"),
    benchmark:
        benchmarks("duffing/evaluate_surrogate")
    conda:
        "../envs/duffing.yaml"
    threads: 1
    resources:
        mem_mb=2048,
        runtime=10,
    script:
        "../scripts/duffing/evaluate_surrogate.py"


rule benchmark_true_model:
    input:
        test=rules.split_duffing.output.test,
        scaler=rules.split_duffing.output.scaler,
        modules=modules("duffing.benchmark", "duffing.ode"),
    output:
        benchmark="results/duffing/true_model_benchmark.json",
    log:
        logs("duffing/benchmark_true_model"),
    benchmark:
        benchmarks("duffing/benchmark_true_model")
    conda:
        "../envs/duffing.yaml"
    threads: 2
    resources:
        mem_mb=1024,
        runtime=30,
    params:
        seed=DUFFING["seed"],
        ode=DUFFING["ode"],
        tolerances=DUFFING["true_model"],
        benchmark=DUFFING["benchmark"],
    script:
        "../scripts/duffing/benchmark_true_model.py"


rule select_points:
    input:
        scaler=SCALER,
        model=SURROGATE,
        modules=modules("duffing.ode", "duffing.slices", "duffing.surrogate"),
    output:
        points="results/duffing/attributions/points.csv",
    log:
        logs("duffing/select_points"),
    benchmark:
        benchmarks("duffing/select_points")
    conda:
        "../envs/duffing.yaml"
    threads: 1
    resources:
        mem_mb=2048,
        runtime=5,
    params:
        ranges=RANGES,
        ode=DUFFING["ode"],
        tolerances=DUFFING["true_model"],
        explain=DUFFING["explain"],
    script:
        "../scripts/duffing/select_points.py"


rule attribute_duffing:
    input:
        points=rules.select_points.output.points,
        train=rules.split_duffing.output.train,
        scaler=SCALER,
        model=SURROGATE,
        modules=modules(
            "duffing.explain", "duffing.ode", "duffing.surrogate", "duffing.tables"
        ),
    output:
        attributions="results/duffing/attributions/{explainer}.csv",
        queries="results/duffing/attributions/{explainer}_queries.json",
    log:
        logs("duffing/attribute_duffing/{explainer}"),
    benchmark:
        benchmarks("duffing/attribute_duffing/{explainer}")
    conda:
        "../envs/duffing.yaml"
    threads: 1
    resources:
        mem_mb=2048,
        runtime=60,
    params:
        seed=DUFFING["seed"],
        ode=DUFFING["ode"],
        tolerances=DUFFING["true_model"],
        explain=DUFFING["explain"],
    script:
        "../scripts/duffing/attribute_duffing.py"
