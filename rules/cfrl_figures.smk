# The counterfactual study's figures and metrics.json (rules/cfrl.smk: data, models, searches).


rule plot_cfrl_training:
    input:
        log_csv=rules.fit_cfrl.output.log_csv,
        modules=modules("cfrl.explainer", "cfrl.metrics", "cfrl.models"),
    output:
        figure=report(
            "results/cfrl/figures/training_curves.png",
            caption="../report/cfrl/training_curves.rst",
            category=RUN,
            subcategory="cfrl",
        ),
    log:
        logs("cfrl/plot_cfrl_training"),
    benchmark:
        benchmarks("cfrl/plot_cfrl_training")
    conda:
        "../envs/cfrl.yaml"
    threads: 1
    resources:
        mem_mb=1024,
        runtime=5,
    script:
        "../scripts/cfrl/plot_cfrl_training.py"


rule plot_counterfactuals:
    input:
        counterfactuals=rules.explain_cfrl.output.counterfactuals,
    output:
        pairs=report(
            "results/cfrl/figures/counterfactuals.png",
            caption="../report/cfrl/counterfactuals.rst",
            category=RUN,
            subcategory="cfrl",
        ),
        grid=report(
            "results/cfrl/figures/target_grid.png",
            caption="../report/cfrl/target_grid.rst",
            category=RUN,
            subcategory="cfrl",
        ),
        differences=report(
            "results/cfrl/figures/difference_maps.png",
            caption="../report/cfrl/difference_maps.rst",
            category=RUN,
            subcategory="cfrl",
        ),
    log:
        logs("cfrl/plot_counterfactuals"),
    benchmark:
        benchmarks("cfrl/plot_counterfactuals")
    conda:
        "../envs/cfrl.yaml"
    threads: 1
    resources:
        mem_mb=1024,
        runtime=5,
    params:
        plot_target=CFRL["explain"]["plot_target"],
        n_examples=CFRL["explain"]["n_examples"],
    script:
        "../scripts/cfrl/plot_counterfactuals.py"


rule plot_cfrl_reconstructions:
    input:
        dataset=rules.prepare_cfrl_data.output.dataset,
        autoencoder=rules.train_cfrl_autoencoder.output.weights,
        modules=modules("cfrl.data", "cfrl.metrics", "cfrl.models"),
    output:
        figure=report(
            "results/cfrl/figures/reconstructions.png",
            caption="../report/cfrl/reconstructions.rst",
            category=RUN,
            subcategory="cfrl",
        ),
    log:
        logs("cfrl/plot_cfrl_reconstructions"),
    benchmark:
        benchmarks("cfrl/plot_cfrl_reconstructions")
    conda:
        "../envs/cfrl.yaml"
    threads: 1
    resources:
        mem_mb=1024 * CFRL_MEM,
        runtime=5,
    params:
        seed=CFRL["seed"],
        image_size=CFRL_IMAGE_SIZE,
        backend=CFRL["cfrl"]["backend"],
        autoencoder=CFRL["autoencoder"],
        n_examples=CFRL["explain"]["n_examples"],
    script:
        "../scripts/cfrl/plot_cfrl_reconstructions.py"


rule summarize_cfrl:
    input:
        dataset=rules.prepare_cfrl_data.output.dataset,
        classifier=rules.train_cfrl_classifier.output.weights,
        classifier_metrics=rules.train_cfrl_classifier.output.metrics,
        autoencoder=rules.train_cfrl_autoencoder.output.weights,
        autoencoder_metrics=rules.train_cfrl_autoencoder.output.metrics,
        scorers=rules.train_cfrl_scorers.output.scorers,
        fit=rules.fit_cfrl.output.fit,
        counterfactuals=rules.explain_cfrl.output.counterfactuals,
        timing=rules.time_counterfactuals.output.timing,
        baseline=expand(
            rules.search_baseline_counterfactuals.output.baseline, shard=CFRL_SHARDS
        ),
        modules=modules("cfrl.data", "cfrl.metrics", "cfrl.models", "cfrl.scoring"),
    output:
        metrics="results/cfrl/metrics.json",
    log:
        logs("cfrl/summarize_cfrl"),
    benchmark:
        benchmarks("cfrl/summarize_cfrl")
    conda:
        "../envs/cfrl.yaml"
    threads: 1
    resources:
        mem_mb=2048 * CFRL_MEM,
        runtime=10,
    params:
        dataset=CFRL["dataset"],
        image_size=CFRL_IMAGE_SIZE,
        backend=CFRL["cfrl"]["backend"],
        autoencoder=CFRL["autoencoder"],
        scoring=CFRL["scoring"],
        acceptance={k: CFRL["baseline"][k] for k in ("target_proba", "tol")},
        l0_tolerance=CFRL["explain"]["l0_tolerance"],
    script:
        "../scripts/cfrl/summarize_cfrl.py"
