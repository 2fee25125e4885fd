"""The study's tables and headline numbers: a Moore machine's transitions as rows, and
``metrics.json`` gathered from the outputs of the evaluation, the Moore machine extraction
and (CartPole) differential IG; keys documented in docs/diffig.md."""

import pandas as pd


def _mean(values) -> float:
    return float(sum(values) / len(values))


def summarize(
    returns: dict, machine: dict | None, diff_ig: dict | None, env: str = "CartPole-v1"
) -> dict:
    """The ``metrics.json`` of the study: mean returns of every network and of the Moore
    machine, the machine's sizes before and after minimization and, if ``diff_ig`` is
    given, the differential-IG attributions by feature and their completeness errors.
    Without a ``machine`` (``diffig.gru_only``) only the networks' returns."""
    returns = dict(returns)
    agreement = returns.pop("hidden_state_agreement", None)
    summary = {
        "env": env,
        "returns": {name: r["mean"] for name, r in returns.items()},
        "returns_std": {n: r["std"] for n, r in returns.items()},
        "episodes": len(next(iter(returns.values()))["returns"]),
        "hidden_state_agreement": agreement,
    }
    if machine is not None:
        summary["returns"]["moore_machine"] = machine["table_returns"]["mean"]
        summary["returns_std"]["moore_machine"] = machine["table_returns"]["std"]
        summary["moore_machine"] = {
            "states_before": machine["raw"]["n_states"],
            "observations_before": machine["raw"]["n_observations"],
            "states_after": machine["minimized"]["n_states"],
            "observations_after": machine["minimized"]["n_observations"],
            "observations_after_wildcard": machine["minimized"]["n_observations_wildcard"],
            "unseen_codes_per_episode": _mean(machine["table_returns"]["unseen_codes"]),
            "replay_return": machine["replay_returns"]["mean"],
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


def transition_table(machine: dict) -> pd.DataFrame:
    """One row per transition of ``machine``: state, observation, next state and the
    action emitted by the next state."""
    rows = [
        {
            "state": int(s),
            "observation": int(o),
            "next_state": int(n),
            "action": machine["actions"][int(n)],
        }
        for s, d in machine["transitions"].items()
        for o, n in d.items()
    ]
    return pd.DataFrame(rows, columns=["state", "observation", "next_state", "action"])
