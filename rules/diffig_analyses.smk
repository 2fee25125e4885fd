# The Moore-machine study's attributions, figures and metrics.json (rules/diffig.smk: models).


rule attribute_diffig:
    input:
        mmn="results/diffig/models/mmn.pt",
        modules=modules(
            "diffig.networks", "diffig.rollouts", "diffig.diff_ig", "diffig.io"
        ),
    output:
        diff_ig="results/diffig/diff_ig.json",
    log:
        logs("diffig/attribute_diffig"),
    benchmark:
        benchmarks("diffig/attribute_diffig")
    conda:
        "../envs/diffig.yaml"
    threads: 1
    resources:
        mem_mb=1024,
        runtime=15,
    params:
        seed=DIFFIG["seed"],
        diff_ig=DIFFIG["diff_ig"],
        observations=DIFFIG["pretrained"]["observations"],
    script:
        "../scripts/diffig/attribute_diffig.py"


rule plot_diff_ig:
    input:
        diff_ig=rules.attribute_diffig.output.diff_ig,
    output:
        pairs=report(
            expand("results/diffig/figures/diff_ig_{pair}.png", pair=DIFFIG_PAIRS),
            caption="../report/diffig/diff_ig_pair.rst",
            category=RUN,
            subcategory="diffig",
        ),
        matrix=report(
            "results/diffig/figures/diff_ig_matrix.png",
            caption="../report/diffig/diff_ig_matrix.rst",
            category=RUN,
            subcategory="diffig",
        ),
    log:
        logs("diffig/plot_diff_ig"),
    benchmark:
        benchmarks("diffig/plot_diff_ig")
    conda:
        "../envs/diffig.yaml"
    threads: 1
    resources:
        mem_mb=1024,
        runtime=5,
    script:
        "../scripts/diffig/plot_diff_ig.py"


rule plot_moore_machine:
    input:
        machine=rules.extract_moore_machine.output.machine,
    output:
        raw=report(
            "results/diffig/figures/moore_machine_raw.png",
            caption="../report/diffig/moore_machine.rst",
            category=RUN,
            subcategory="diffig",
        ),
        minimized=report(
            "results/diffig/figures/moore_machine_minimized.png",
            caption="../report/diffig/moore_machine.rst",
            category=RUN,
            subcategory="diffig",
        ),
    log:
        logs("diffig/plot_moore_machine"),
    benchmark:
        benchmarks("diffig/plot_moore_machine")
    conda:
        "../envs/diffig.yaml"
    threads: 1
    resources:
        mem_mb=1024,
        runtime=5,
    script:
        "../scripts/diffig/plot_moore_machine.py"


rule evaluate_gru:
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
        returns="results/diffig/gru_returns.json",
    log:
        logs("diffig/evaluate_gru"),
    benchmark:
        benchmarks("diffig/evaluate_gru")
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
        "../scripts/diffig/evaluate_gru.py"


rule summarize_diffig:
    input:
        **(
            {"returns": rules.evaluate_gru.output.returns}
            if DIFFIG_GRU_ONLY
            else {
                "returns": rules.evaluate_mmn.output.returns,
                "machine": rules.extract_moore_machine.output.machine,
            }
        ),
        **(
            {"diff_ig": "results/diffig/diff_ig.json"}
            if DIFFIG_CARTPOLE and not DIFFIG_GRU_ONLY
            else {}
        ),
        modules=modules("diffig.summary"),
    output:
        metrics="results/diffig/metrics.json",
    log:
        logs("diffig/summarize_diffig"),
    benchmark:
        benchmarks("diffig/summarize_diffig")
    conda:
        "../envs/diffig.yaml"
    threads: 1
    resources:
        mem_mb=1024,
        runtime=5,
    params:
        env=DIFFIG["env"],
    script:
        "../scripts/diffig/summarize_diffig.py"


if ATARI["model"]:

    rule analyze_atari_mmn:
        input:
            model=ATARI["model"],
            modules=modules(
                "diffig.networks",
                "diffig.rollouts",
                "diffig.moore_machine",
                "diffig.diff_ig",
                "diffig.atari",
                "diffig.io",
            ),
        output:
            metrics="results/diffig/atari/metrics.json",
            figures=ATARI_FIGURES,
        log:
            logs("diffig/analyze_atari_mmn"),
        benchmark:
            benchmarks("diffig/analyze_atari_mmn")
        conda:
            "../envs/diffig.yaml"
        threads: 1
        resources:
            mem_mb=4096,
            runtime=60,
        params:
            seed=DIFFIG["seed"],
            atari=ATARI,
            diff_ig=DIFFIG["diff_ig"],
            minimize_restarts=DIFFIG["machine"]["minimize_restarts"],
        script:
            "../scripts/diffig/analyze_atari_mmn.py"
