# Attribution stability over the training seeds of a seeds run (docs/stability.md): each
# study's attribution outputs of every seed, compared pair by pair with rank correlation and
# top-k overlap, beside the sanity checks of the study's metrics.json. Included from
# rules/run.smk for a run whose config lists its seeds (config["seeds"]); seed k's outputs
# lie in results/seed<k>/<study>/ under the run's folder, with a normal run's file names.
SEEDS = config.get("seeds") or []
# The share of a vector's entries that counts as its top k (at least one entry).
STABILITY_TOP_K_FRACTION = config.get("stability", {}).get("top_k_fraction", 0.1)
# The studies that have an attribution reader (xai_repro.stability.readers).
STABILITY_STUDIES = [
    s for s in STUDIES if s in ("duffing", "cfrl", "diffig", "highway")
]


# The reader's settings of each study (xai_repro.stability.measure.measure).
STABILITY_OPTIONS = {study: {} for study in STABILITY_STUDIES}
if "duffing" in STABILITY_OPTIONS:
    STABILITY_OPTIONS["duffing"] = {
        "explainers": config["duffing"]["explain"]["explainers"]
    }
if "cfrl" in STABILITY_OPTIONS:
    STABILITY_OPTIONS["cfrl"] = {
        "l0_tolerance": config["cfrl"]["explain"]["l0_tolerance"]
    }
# The files of one seed's study folder that the study's reader opens (metrics.json aside).
STABILITY_FILES = {
    "highway": [
        "analysis/explain_ig_highway.json",
        "analysis/explain_shap_highway.json",
        "rollouts/trained.npz",
        "rollouts/untrained.npz",
    ],
    "duffing": [
        f"attributions/{explainer}.csv"
        for explainer in STABILITY_OPTIONS.get("duffing", {}).get("explainers", [])
    ],
    "diffig": ["diff_ig.json"],
    "cfrl": ["counterfactuals/cfrl.npz"],
}


rule measure_stability:
    input:
        metrics=lambda wildcards: [
            f"results/seed{seed}/{wildcards.study}/metrics.json" for seed in SEEDS
        ],
        files=lambda wildcards: [
            f"results/seed{seed}/{wildcards.study}/{path}"
            for seed in SEEDS
            for path in STABILITY_FILES[wildcards.study]
        ],
        modules=modules("stability.measure", "stability.measures", "stability.readers"),
    output:
        json="results/{study}/stability.json",
        figure=report(
            "results/{study}/figures/stability.png",
            caption="../report/stability/stability.rst",
            category=RUN,
            subcategory="{study}",
        ),
    log:
        logs("{study}/measure_stability"),
    benchmark:
        benchmarks("{study}/measure_stability")
    wildcard_constraints:
        study="|".join(STABILITY_STUDIES) or "no-study",
    conda:
        "../envs/stability.yaml"
    threads: 1
    resources:
        mem_mb=1024,
        runtime=10,
    params:
        study=lambda wildcards: wildcards.study,
        seeds=SEEDS,
        top_k_fraction=STABILITY_TOP_K_FRACTION,
        options=lambda wildcards: STABILITY_OPTIONS[wildcards.study],
    script:
        "../scripts/stability/measure_stability.py"


# a seeds run's final outputs: each study's stability numbers and figure
STABILITY_TARGETS = (
    expand(
        "results/{study}/{name}",
        study=STABILITY_STUDIES,
        name=["stability.json", "figures/stability.png"],
    )
    if len(SEEDS) >= 2
    else []
)
EXTRA_TARGETS.extend(STABILITY_TARGETS)
