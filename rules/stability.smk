# Attribution stability over the training seeds of each seeds run (docs/stability.md): each
# study's attribution outputs of every seed (results/<run>/seed<k>/<study>/), compared pair by
# pair with rank correlation and top-k overlap, beside the sanity checks of the study's
# metrics.json. Included from the Snakefile after rules/common.smk (RUNS, SEEDED,
# seed_paths); STABILITY_TARGETS are the built seeds runs' outputs.
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
# each built seeds run's stability numbers and figure, per study it runs
STABILITY_TARGETS = [
    f"results/{run}/{study}/{name}"
    for run in RUNS
    if run in SEEDED and len(SEEDED[run]["seeds"]) >= 2
    for study in RUNS[run]["studies"]
    if study in STABILITY_FILES
    for name in ("stability.json", "figures/stability.png")
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
        json="results/{run}/{study}/stability.json",
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
        study=lambda w: w.study,
        seeds=lambda w: SEEDED[w.run]["seeds"],
        top_k_fraction=STABILITY_TOP_K_FRACTION,
        options=lambda w: STABILITY_OPTIONS[w.study](RUNS[w.run]),
    script:
        "../scripts/stability/measure_stability.py"
