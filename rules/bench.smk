# Opt-in (`--config bench=True`): `make bench`'s kernel rows and scaling curves on this run's own
# trained models, so `snakemake --report` shows the curves (category "bench") beside the
# studies. docs/benchmarks.md lists the rows; `make bench` also times the workflow itself.
# the trained models the kernel groups read, per study (tools/bench/rows_*.py)
BENCH_MODELS = {
    "duffing": [],
    "cfrl": [
        rules.prepare_cfrl_data.output.dataset,
        rules.train_cfrl_classifier.output.weights,
        rules.train_cfrl_autoencoder.output.weights,
        rules.fit_cfrl.output.actor,
    ],
    "highway": [rules.train_highway.output.trained],
    "diffig": ["results/diffig/models/mmn.pt"],
}


rule benchmark_kernels:
    input:
        models=[path for study in STUDIES for path in BENCH_MODELS[study]],
        run_py=os.path.relpath(f"{workflow.basedir}/tools/bench/run.py"),
        # the bench programs are tools, not rule scripts: listed here so editing them reruns
        code=bench_code(),
    output:
        json="results/bench/results.json",
        md="results/bench/results.md",
        figure=report(
            "results/bench/scaling.png",
            caption="../report/bench/scaling.rst",
            category=RUN,
            subcategory="bench",
        ),
    log:
        logs("bench/benchmark_kernels"),
    benchmark:
        benchmarks("bench/benchmark_kernels")
    conda:
        "../envs/bench.yaml"
    # both cores of a 2-core machine: the rows time 1- and 2-thread variants, and nothing else
    # may run beside a timing (it then runs after every other job)
    threads: 2
    resources:
        mem_mb=8192,
        runtime=120,
    params:
        # the settings the kernels read (the studies' sections; not bench's own keys, which
        # would rerun the measurement for nothing)
        config={key: config[key] for key in STUDIES},
        studies=STUDIES,
        repeats=config.get("bench_repeats", 3),
        quick=config.get("bench_quick", False),
    script:
        "../scripts/bench/benchmark_kernels.py"


if config.get("bench", False):
    EXTRA_TARGETS.extend(rules.benchmark_kernels.output)
