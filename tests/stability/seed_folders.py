"""Small constructed seed folders in each study's output format (results/<run>/seed<k>/<study>/),
for the tests of tests/stability/ (imported by name, like the rule scripts)."""

import base64
import collections
import json
import pickle
import zipfile

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


# Training histories, in each study's format, whose values tell the seeds apart: seed s ends
# at a different epoch or step (as early stopping would) and its values are offset by s.
def _epochs(seed, start=1, every=1):
    return np.arange(start, start + every * (5 + seed), every)


def _duffing_training(folder, seed):
    epoch = _epochs(seed)
    loss = np.exp(-epoch / 3) + seed
    frame = pd.DataFrame({"epoch": epoch, "loss": loss, "val_loss": loss + 0.1})
    write_csv(folder / "models" / "history.csv", frame)


def _cfrl_training(folder, seed):
    epoch = _epochs(seed)
    history = {"loss": list(2.0 / epoch + seed), "val_accuracy": list(0.1 * seed + epoch / 100)}
    write_json(folder / "models" / "classifier.json", {"test_accuracy": 0.9, "history": history})
    write_json(folder / "models" / "autoencoder.json", {"loss_per_epoch": [0.5 + seed, 0.4]})
    step = np.arange(100, 600, 100)
    log = pd.DataFrame(
        {
            "step": step,
            "seconds": step / 10,
            "reward": 0.1 * seed + step / 1000,
            "coeff_sparsity": 3.0,
            "critic_loss": 0.1 + seed,
            "actor_loss": -0.1 * seed,
            "sparsity_loss": 0.2 + seed,
            "consistency_loss": np.nan,
        }
    )
    write_csv(folder / "training_log.csv", log)
    validation = [{"step": s, "validity": 0.2 * seed, "n": 90} for s in (250, 500)]
    write_json(folder / "models" / "fit.json", {"validation": validation})


def _diffig_training(folder, seed):
    models = folder / "models"
    iteration = np.arange(2 + seed)
    gru = pd.DataFrame(
        {
            "iteration": iteration,
            "sequences": 4 * iteration,
            "mean_return": 100.0 * seed + iteration,
        }
    )
    write_csv(models / "gru_history.csv", gru)
    for kind in ("obs", "hx"):
        epoch = _epochs(seed, start=10, every=10)
        qbn = pd.DataFrame({"epoch": epoch, "mse": 0.1 / epoch + seed, "mean_return": 500.0 - seed})
        write_csv(models / f"{kind}_qbn_history.csv", qbn)
    mmn = pd.DataFrame(
        {"step": [0, 1], "loss": [None, 0.5 + seed], "mean_return": [400.0 + seed, 500.0]}
    )
    write_csv(models / "mmn_history.csv", mmn)


def checkpoint_zip(path, steps, returns, lengths=None, ep_info=None):
    """An SB3 checkpoint zip as its ``data`` member stores it: JSON with ``num_timesteps`` and
    the episode buffer pickled and base64-encoded (``ep_info``: another object to pickle)."""
    lengths = lengths if lengths is not None else [10] * len(returns)
    if ep_info is None:
        ep_info = collections.deque(
            [{"r": float(r), "l": int(n), "t": 1.0} for r, n in zip(returns, lengths)], maxlen=100
        )
    blob = base64.b64encode(pickle.dumps(ep_info)).decode()
    data = {
        "num_timesteps": steps,
        "ep_info_buffer": {":type:": "<class 'collections.deque'>", ":serialized:": blob},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("data", json.dumps(data))
        archive.writestr("policy.pth", b"not read")


def _highway_training(folder, seed, total_steps=60):
    write_json(folder / "models" / "train_stats.json", {"total_steps": total_steps, "episodes": 9})
    for steps in range(15, total_steps + 1, 15):
        returns = [seed + steps / 100, seed + steps / 50]
        checkpoint_zip(folder / "checkpoints" / f"dqn_{steps}_steps.zip", steps, returns)


TRAINING_WRITERS = {
    "duffing": _duffing_training,
    "cfrl": _cfrl_training,
    "diffig": _diffig_training,
    "highway": _highway_training,
}
# the history files the rule lists for the default config (rules/stability.smk)
TRAINING_FILES = {
    "duffing": ["models/history.csv"],
    "cfrl": [
        "models/classifier.json",
        "models/autoencoder.json",
        "training_log.csv",
        "models/fit.json",
    ],
    "diffig": [
        "models/gru_history.csv",
        "models/obs_qbn_history.csv",
        "models/hx_qbn_history.csv",
        "models/mmn_history.csv",
    ],
    "highway": ["models/train_stats.json"],
}


def make_training(root, study, seed):
    """Writes the training histories of ``root``/results/run/seed<seed>/<study>/ and returns
    the path of its metrics.json (which locates the folder; its content is not read)."""
    folder = root / "results" / "run" / f"seed{seed}" / study
    TRAINING_WRITERS[study](folder, seed)
    return folder / "metrics.json"
