# The Duffing study's model comparison, figures and metrics.json (rules/duffing.smk: models).


rule differentiate_models:
    input:
        points=rules.select_points.output.points,
        train=rules.split_duffing.output.train,
        scaler=SCALER,
        model=SURROGATE,
        modules=modules(
            "duffing.explain", "duffing.ode", "duffing.surrogate", "duffing.tables"
        ),
    output:
        gradients="results/duffing/attributions/finite_differences.csv",
    log:
        logs("duffing/differentiate_models"),
    benchmark:
        benchmarks("duffing/differentiate_models")
    conda:
        "../envs/duffing.yaml"
    threads: 1
    resources:
        mem_mb=2048,
        runtime=10,
    params:
        ode=DUFFING["ode"],
        tolerances=DUFFING["true_model"],
        delta=DUFFING["explain"]["fd_delta"],
        seed=DUFFING["seed"],
        size=DUFFING["explain"]["background_size"],
    script:
        "../scripts/duffing/differentiate_models.py"


rule plot_surrogate:
    input:
        # an imported network comes without its training history
        history=[] if PRETRAINED else rules.train_surrogate.output.history,
        predictions=rules.evaluate_surrogate.output.predictions,
    output:
        figure=report(
            "results/duffing/figures/surrogate_summary.png",
            caption="../report/duffing/surrogate_summary.rst",
            category=RUN,
            subcategory="duffing",
        ),
    log:
        logs("duffing/plot_surrogate"),
    benchmark:
        benchmarks("duffing/plot_surrogate")
    conda:
        "../envs/duffing.yaml"
    threads: 1
    resources:
        mem_mb=1024,
        runtime=5,
    script:
        "../scripts/duffing/plot_surrogate.py"


rule plot_attributions:
    input:
        attributions=rules.attribute_duffing.output.attributions,
        modules=modules("duffing.ode", "duffing.tables"),
    output:
        contributions=report(
            "results/duffing/figures/contributions_{explainer}.png",
            caption="../report/duffing/contributions.rst",
            category=RUN,
            subcategory="duffing: {explainer}",
        ),
        aggregate=report(
            "results/duffing/figures/aggregate_{explainer}.png",
            caption="../report/duffing/aggregate.rst",
            category=RUN,
            subcategory="duffing: {explainer}",
        ),
    log:
        logs("duffing/plot_attributions/{explainer}"),
    benchmark:
        benchmarks("duffing/plot_attributions/{explainer}")
    conda:
        "../envs/duffing.yaml"
    threads: 1
    resources:
        mem_mb=1024,
        runtime=5,
    script:
        "../scripts/duffing/plot_attributions.py"


rule plot_gradient_comparison:
    input:
        attributions=ATTRIBUTIONS,
        gradients=rules.differentiate_models.output.gradients,
        modules=modules("duffing.ode", "duffing.tables"),
    output:
        figure=report(
            "results/duffing/figures/attribution_vs_gradient.png",
            caption="../report/duffing/attribution_vs_gradient.rst",
            category=RUN,
            subcategory="duffing",
        ),
    log:
        logs("duffing/plot_gradient_comparison"),
    benchmark:
        benchmarks("duffing/plot_gradient_comparison")
    conda:
        "../envs/duffing.yaml"
    threads: 1
    resources:
        mem_mb=1024,
        runtime=5,
    script:
        "../scripts/duffing/plot_gradient_comparison.py"


rule summarize_duffing:
    input:
        surrogate=rules.evaluate_surrogate.output.metrics,
        benchmark=rules.benchmark_true_model.output.benchmark,
        attributions=ATTRIBUTIONS,
        queries=QUERIES,
        gradients=rules.differentiate_models.output.gradients,
        modules=modules("duffing.ode", "duffing.summary", "duffing.tables"),
    output:
        metrics="results/duffing/metrics.json",
    log:
        logs("duffing/summarize_duffing"),
    benchmark:
        benchmarks("duffing/summarize_duffing")
    conda:
        "../envs/duffing.yaml"
    threads: 1
    resources:
        mem_mb=1024,
        runtime=5,
    script:
        "../scripts/duffing/summarize_duffing.py"
