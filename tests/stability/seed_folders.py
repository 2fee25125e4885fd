"""Small constructed seed folders in each study's output format (results/<run>/seed<k>/<study>/),
for the tests of tests/stability/ (imported by name, like the rule scripts)."""

import numpy as np
import pandas as pd

from xai_repro.common import write_csv, write_json, write_npz

EXPLAINERS = ["kernel_shap", "exact", "lime"]


def _highway(folder, rng, shift):
    for name, value in {
        "explain_ig_highway.json": {
            "ig": {
                m: {
                    "abs_per_feature": np.abs(rng.normal(size=(3, 7))) + shift,
                    "signed_per_feature": rng.normal(size=(3, 7)),
                    "signed_per_slot": rng.normal(size=(3, 5, 7)),
                }
                for m in ("trained", "untrained")
            }
        },
        "explain_shap_highway.json": {
            "shap_feature_importance": {m: rng.random((3, 7)) for m in ("trained", "untrained")}
        },
    }.items():
        write_json(folder / "analysis" / name, value)
    for policy in ("trained", "untrained"):
        obs = rng.uniform(-1, 1, size=(4, 5, 7))
        obs[:, :, 0] = 1.0
        obs[:, -1, 0] = 0.0  # the last slot is always empty
        attention = rng.dirichlet(np.ones(5), size=(4, 2))
        write_npz(folder / "rollouts" / f"{policy}.npz", obs=obs, attention=attention)
    return {"randomisation_rank_correlation": 0.1 + shift}


def _duffing(folder, rng, shift):
    points = pd.DataFrame(
        {"slice": ["x0"] * 4 + ["t"] * 4, "value": [-1.0, -0.5, 0.5, 1.0, 0.0, 2.5, 5.0, 7.5]}
    )
    rows = []
    for model in ("ml", "true"):
        for output in ("xt", "vt"):
            frame = points.assign(model=model, output=output)
            for feature in ("x0", "v0", "t"):
                frame[f"attr_{feature}"] = rng.normal(size=len(points)) + shift
            rows.append(frame)
    table = pd.concat(rows, ignore_index=True)
    for explainer in EXPLAINERS:
        write_csv(folder / "attributions" / f"{explainer}.csv", table)
    return {"attribution_rank_correlation": {e: {"xt": 0.9, "vt": 0.8 + shift} for e in EXPLAINERS}}


def _diffig(folder, rng, shift):
    steps = [0, 10, 20]
    write_json(
        folder / "diff_ig.json",
        {
            "features": ["cart position", "cart velocity", "pole angle", "pole velocity"],
            "pairs": [{"input": 10, "baseline": 20, "attribution": rng.normal(size=4) + shift}],
            "matrix": {"steps": steps, "attribution": rng.normal(size=(3, 3, 4))},
        },
    )
    return {"ig_completeness_relative_error": 0.1 + shift}


def _cfrl(folder, rng, shift):
    x = rng.random((3, 4, 4, 1))
    instance = np.repeat(np.arange(3), 3)
    target = np.tile(np.arange(3), 3)
    x_cf = np.clip(x[instance] + rng.normal(scale=0.2, size=(9, 4, 4, 1)) + shift, 0, 1)
    write_npz(
        folder / "counterfactuals" / "cfrl.npz",
        x=x,
        test_index=np.array([0, 2, 5]),
        y_pred=np.array([0, 1, 2]),
        instance=instance,
        target=target,
        x_cf=x_cf,
        cf_pred=target,
    )
    return {"cfrl": {"sparsity_l0": 0.4 + shift}, "autoencoder_floor": {"sparsity_l0": 0.3}}


WRITERS = {"highway": _highway, "duffing": _duffing, "diffig": _diffig, "cfrl": _cfrl}
OPTIONS = {
    "highway": {},
    "duffing": {"explainers": EXPLAINERS},
    "diffig": {},
    "cfrl": {"l0_tolerance": 0.05},
}


def make_seed(root, study, seed, draw=None, shift=0.0):
    """Writes ``root``/results/run/seed<seed>/<study>/ and returns its metrics.json path.

    ``draw`` seeds the random content: two seeds with the same ``draw`` hold identical
    attributions; ``shift`` moves the sanity numbers (and some attributions) apart.
    """
    folder = root / "results" / "run" / f"seed{seed}" / study
    rng = np.random.default_rng(seed if draw is None else draw)
    metrics = WRITERS[study](folder, rng, shift)
    write_json(folder / "metrics.json", metrics)
    return folder / "metrics.json"
