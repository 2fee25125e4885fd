"""Rule ``summarize_highway``: collects evaluation, training, benchmark and analysis results
into ``results/highway/metrics.json``."""

from xai_repro.common import InputError, read_json, setup_logging, write_json

POLICY_KEYS = ["mean_return", "std_return", "crash_rate", "arrival_rate", "episodes"]


def build_metrics(evaluation, train_stats, benchmark, analysis, source="evaluation"):
    try:
        ev = {
            p: {k: evaluation[p][k] for k in POLICY_KEYS}
            for p in ("trained", "untrained", "random")
        }
    except (KeyError, TypeError) as exc:
        raise InputError(f"{source}: missing policy or key {exc}") from exc
    metrics = {
        "evaluation": ev,
        "train_env_steps_per_s": train_stats.get("env_steps_per_s"),
        "train_steps": train_stats.get("total_steps"),
        "benchmark": {k: v for k, v in benchmark.items() if k != "runs"},
    }
    if analysis is not None:
        for key in ("attention", "ig_completeness_error_median"):
            if key not in analysis:
                raise InputError(f"analysis.json: missing key '{key}'")
            metrics[key] = analysis[key]
        metrics.update({k: v for k, v in analysis.items() if k not in metrics})
    return metrics


def main(evaluation, train_stats, benchmark, analysis, out_path):
    metrics = build_metrics(
        read_json(evaluation),
        read_json(train_stats),
        read_json(benchmark),
        read_json(analysis) if analysis else None,
        source=evaluation,
    )
    write_json(out_path, metrics)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    main(
        sm.input.evaluation,
        sm.input.train_stats,
        sm.input.benchmark,
        sm.input.get("analysis"),
        sm.output.metrics,
    )
