"""The highway study's ``metrics.json``: evaluation, training, benchmark and the analysis
rules' JSON files in one dict.

Used by the rule summarize_highway.
"""

from xai_repro.common import InputError

POLICY_KEYS = [
    "mean_return",
    "std_return",
    "return_ci95",
    "crash_rate",
    "crash_rate_ci95",
    "arrival_rate",
    "arrival_rate_ci95",
    "episodes",
]

PRETRAINED_KEYS = ["network", "trained", "untrained", "trained_minus_untrained"]


def merge_analyses(parts):
    """One dict from the analysis rules' dicts {path: dict}; a key in two files is an error."""
    merged = {}
    for path, part in parts.items():
        if not isinstance(part, dict):
            raise InputError(f"{path}: expected a JSON object")
        twice = sorted(set(part) & set(merged))
        if twice:
            raise InputError(f"{path}: keys {twice} already come from another analysis")
        merged.update(part)
    return merged


def pretrained_metrics(pretrained, source="pretrained evaluation"):
    """evaluate_pretrained_highway's JSON without the per-episode returns."""
    try:
        out = {k: pretrained[k] for k in PRETRAINED_KEYS}
    except (KeyError, TypeError) as exc:
        raise InputError(f"{source}: missing key {exc}") from exc
    for m in ("trained", "untrained"):
        out[m] = {k: v for k, v in out[m].items() if k != "returns"}
    return out


def build_metrics(
    evaluation, train_stats, benchmark, analysis, source="evaluation", pretrained=None
):
    try:
        ev = {
            p: {k: evaluation[p][k] for k in POLICY_KEYS}
            for p in ("trained", "untrained", "random")
        }
        ev["trained_minus_untrained"] = evaluation["trained_minus_untrained"]
    except (KeyError, TypeError) as exc:
        raise InputError(f"{source}: missing policy or key {exc}") from exc
    metrics = {
        "evaluation": ev,
        "train_env_steps_per_s": train_stats.get("env_steps_per_s"),
        "train_steps": train_stats.get("total_steps"),
    }
    if benchmark is not None:  # None: the config does not run benchmark_highway_training
        metrics["benchmark"] = {k: v for k, v in benchmark.items() if k != "runs"}
    if pretrained is not None:  # None: the config names no pretrained checkpoint
        metrics["pretrained"] = pretrained_metrics(pretrained)
    if analysis is not None:
        for key in ("attention", "ig_completeness_error_median"):
            if key not in analysis:
                raise InputError(f"analysis JSON files: missing key '{key}'")
            metrics[key] = analysis[key]
        metrics.update({k: v for k, v in analysis.items() if k not in metrics})
    return metrics
