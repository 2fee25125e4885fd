# Opt-in (`--config bench=True`): `make bench`'s kernel rows and curves on this run's models,
# after every study's targets (no timing may run beside another job). docs/benchmarks.md.


rule benchmark_kernels:
    input:
        done=[path for study in STUDIES for path in STUDY_TARGETS[study]],
        modules=modules("bench.run", "bench.report"),
        # loaded by name in the groups' processes: each study's science and bench module
        code=sorted(
            os.path.relpath(path)
            for study in STUDIES
            for pattern in (f"{study}/*.py", f"bench/{study}.py")
            for path in glob.glob(f"{workflow.basedir}/src/xai_repro/{pattern}")
        ),
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
    # both cores of a 2-core machine: the rows time 1- and 2-thread variants
    threads: 2
    resources:
        mem_mb=8192,
        runtime=120,
    params:
        # the studies' sections only: bench's own keys would rerun the measurement for nothing
        config={key: config[key] for key in STUDIES},
        results=run_path("results"),
        repeats=config.get("bench_repeats", 3),
        quick=config.get("bench_quick", False),
    script:
        "../scripts/bench/benchmark_kernels.py"


EXTRA_TARGETS.extend(rules.benchmark_kernels.output)
