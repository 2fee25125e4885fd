# Attribution stability and training curves over the training seeds of each seeds run
# (docs/stability.md): each study's attribution outputs of every seed
# (results/<run>/seed<k>/<study>/), compared pair by pair with rank correlation and top-k
# overlap, beside the sanity checks of the study's metrics.json, into the run's own
# results/<run>/<study>/metrics.json; and every seed's training curves in one figure.
# Included from the Snakefile after rules/common.smk (RUNS, SEEDED, seed_paths);
# STABILITY_TARGETS are the built seeds runs' outputs. The scorecard reads each seed's
# metrics.json (rules/scorecard.smk), never the run's.

# The share of a vector's entries that counts as its top k (at least one entry).
STABILITY_TOP_K_FRACTION = 0.1
# The files of one seed's study folder that the study's reader opens (metrics.json aside),
# from the run's config.
STABILITY_FILES = {
    "highway": lambda run_config: [
        "analysis/explain_ig_highway.json",
        "analysis/explain_shap_highway.json",
        "rollouts/trained.npz",
        "rollouts/untrained.npz",
    ],
    "duffing": lambda run_config: [
        f"attributions/{explainer}.csv"
        for explainer in run_config["duffing"]["explain"]["explainers"]
    ],
    "diffig": lambda run_config: ["diff_ig.json"],
    "cfrl": lambda run_config: ["counterfactuals/cfrl.npz"],
}
# The reader's settings of each study (xai_repro.stability.measure.measure).
STABILITY_OPTIONS = {
    "highway": lambda run_config: {},
    "duffing": lambda run_config: {
        "explainers": run_config["duffing"]["explain"]["explainers"]
    },
    "diffig": lambda run_config: {},
    "cfrl": lambda run_config: {
        "l0_tolerance": run_config["cfrl"]["explain"]["l0_tolerance"]
    },
}
# The training histories of one seed's study folder that xai_repro.stability.histories
# reads, for the run's config: none for a network imported rather than trained. Highway's
# reader opens the SB3 checkpoints beside models/train_stats.json (the training's length).
TRAINING_HISTORIES = {
    "duffing": lambda run_config: (
        []
        if run_config["duffing"]["pretrained"]["checkpoint"]
        else ["models/history.csv"]
    ),
    "cfrl": lambda run_config: [
        "models/classifier.json",
        "models/autoencoder.json",
        "training_log.csv",
        "models/fit.json",
    ],
    # the GRU unless imported; the QBNs and the MMN unless the MMN is imported or only the
    # GRU is played (diffig.gru_only)
    "diffig": lambda run_config: (
        [] if run_config["diffig"]["pretrained"]["gru"] else ["models/gru_history.csv"]
    )
    + (
        []
        if run_config["diffig"]["pretrained"]["model"]
        or run_config["diffig"].get("gru_only", False)
        else [
            "models/obs_qbn_history.csv",
            "models/hx_qbn_history.csv",
            "models/mmn_history.csv",
        ]
    ),
    "highway": lambda run_config: (
        []
        if (run_config["highway"].get("pretrained") or {}).get("checkpoint")
        else ["models/train_stats.json"]
    ),
}
# each built seeds run's metrics.json and figures, per study it runs
STABILITY_TARGETS = [
    f"results/{run}/{study}/{name}"
    for run in RUNS
    if run in SEEDED and len(SEEDED[run]["seeds"]) >= 2
    for study in RUNS[run]["studies"]
    if study in STABILITY_FILES
    for name in ("metrics.json", "figures/stability.png")
] + [
    f"results/{run}/{study}/figures/training_over_seeds.png"
    for run in RUNS
    if run in SEEDED
    for study in RUNS[run]["studies"]
    if TRAINING_HISTORIES.get(study, lambda run_config: [])(RUNS[run])
]


rule measure_stability:
    input:
        metrics=lambda w: seed_paths(w.run, f"results/{w.study}/metrics.json"),
        files=lambda w: [
            path
            for name in STABILITY_FILES[w.study](RUNS[w.run])
            for path in seed_paths(w.run, f"results/{w.study}/{name}")
        ],
        modules=modules("stability.measure", "stability.measures", "stability.readers"),
    output:
        metrics="results/{run}/{study}/metrics.json",
        figure=report(
            "results/{run}/{study}/figures/stability.png",
            caption="../report/stability/stability.rst",
            category="stability",
            subcategory="{run}",
        ),
    log:
        logs("stability/measure_stability/{run}/{study}"),
    benchmark:
        benchmarks("stability/measure_stability/{run}/{study}")
    wildcard_constraints:
        run="|".join(SEEDED) or "no-run",
        study="|".join(STABILITY_FILES),
    conda:
        "../envs/stability.yaml"
    threads: 1
    resources:
        mem_mb=1024,
        runtime=10,
    params:
        run=lambda w: w.run,
        study=lambda w: w.study,
        seeds=lambda w: SEEDED[w.run]["seeds"],
        top_k_fraction=STABILITY_TOP_K_FRACTION,
        options=lambda w: STABILITY_OPTIONS[w.study](RUNS[w.run]),
    script:
        "../scripts/stability/measure_stability.py"


rule plot_training_over_seeds:
    input:
        # each seed's metrics.json locates its study folder, as for measure_stability
        metrics=lambda w: seed_paths(w.run, f"results/{w.study}/metrics.json"),
        histories=lambda w: [
            path
            for name in TRAINING_HISTORIES[w.study](RUNS[w.run])
            for path in seed_paths(w.run, f"results/{w.study}/{name}")
        ],
        modules=modules("stability.curves", "stability.histories"),
    output:
        report(
            "results/{run}/{study}/figures/training_over_seeds.png",
            caption="../report/stability/training_over_seeds.rst",
            category="stability",
            subcategory="{run}",
        ),
    log:
        logs("stability/plot_training_over_seeds/{run}/{study}"),
    benchmark:
        benchmarks("stability/plot_training_over_seeds/{run}/{study}")
    wildcard_constraints:
        run="|".join(SEEDED) or "no-run",
        study="|".join(TRAINING_HISTORIES),
    conda:
        "../envs/stability.yaml"
    threads: 1
    resources:
        mem_mb=1024,
        runtime=10,
    params:
        run=lambda w: w.run,
        study=lambda w: w.study,
        seeds=lambda w: SEEDED[w.run]["seeds"],
        files=lambda w: TRAINING_HISTORIES[w.study](RUNS[w.run]),
    script:
        "../scripts/stability/plot_training_over_seeds.py"
