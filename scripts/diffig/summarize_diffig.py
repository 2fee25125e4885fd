"""Rule ``summarize_diffig``: the study's headline numbers in ``metrics.json``.

Reads ``returns.json``, ``moore_machine.json`` and (CartPole) ``diff_ig.json``; keys are
documented in docs/diffig.md ("metrics.json").
"""

from xai_repro.common import read_json, setup_logging, write_json


def _mean(values) -> float:
    return float(sum(values) / len(values))


def summarize(returns: dict, machine: dict, diff_ig: dict | None, env: str = "CartPole-v1") -> dict:
    returns = dict(returns)
    agreement = returns.pop("hidden_state_agreement", None)
    out = {name: r["mean"] for name, r in returns.items()}
    out["moore_machine"] = machine["table_returns"]["mean"]
    summary = {
        "env": env,
        "returns": out,
        "returns_std": {
            **{n: r["std"] for n, r in returns.items()},
            "moore_machine": machine["table_returns"]["std"],
        },
        "episodes": len(returns["mmn"]["returns"]),
        "hidden_state_agreement": agreement,
        "moore_machine": {
            "states_before": machine["raw"]["n_states"],
            "observations_before": machine["raw"]["n_observations"],
            "states_after": machine["minimized"]["n_states"],
            "observations_after": machine["minimized"]["n_observations"],
            "observations_after_wildcard": machine["minimized"]["n_observations_wildcard"],
            "unseen_codes_per_episode": _mean(machine["table_returns"]["unseen_codes"]),
            "replay_return": machine["replay_returns"]["mean"],
        },
    }
    if diff_ig is not None:
        summary["diff_ig"] = [
            {
                "input": p["input"],
                "baseline": p["baseline"],
                "attribution": dict(zip(diff_ig["features"], p["attribution"])),
            }
            for p in diff_ig["pairs"]
        ]
        summary["ig_completeness_error"] = diff_ig["completeness_error_median"]
        summary["ig_completeness_relative_error"] = diff_ig["completeness_relative_error_median"]
        summary["diff_ig_rule"] = {"m": diff_ig["m"], "rule": diff_ig["rule"]}
    return summary


def main(returns_json, machine_json, metrics_json, diff_ig_json=None, *, env):
    diff_ig = read_json(diff_ig_json) if diff_ig_json else None
    write_json(
        metrics_json, summarize(read_json(returns_json), read_json(machine_json), diff_ig, env)
    )


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    main(
        sm.input.returns,
        sm.input.machine,
        sm.output.metrics,
        sm.input.get("diff_ig"),
        **sm.params,
    )
