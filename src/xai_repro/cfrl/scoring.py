"""Independent in-distribution scorers: autoencoders that did not generate CFRL's outputs.

Van Looveren & Klaise (2019) score how in-distribution a counterfactual is with one
autoencoder per class plus one over all classes (IM1, IM2 in ``metrics``). Here these
11 autoencoders are dense PyTorch networks, a different architecture (and seed) from the
convolutional or dense autoencoder whose decoder produces CFRL's counterfactuals, so the
scores do not favour CFRL by construction. Images are NHWC (n, S, S, 1) in [0, 1].
"""

import logging
import time

import numpy as np

from xai_repro.cfrl.models import N_CLASSES, fit_torch_autoencoder, load_torch_state
from xai_repro.common import InputError, read_npz

log = logging.getLogger(__name__)
NAMES = ("all", *(f"class{c}" for c in range(N_CLASSES)))


def build_dense_autoencoder(image_size: int, hidden_dim: int, latent_dim: int):
    """Flatten -> hidden (ReLU) -> latent -> hidden (ReLU) -> sigmoid pixels, NHWC out."""
    from torch import nn

    pixels = image_size * image_size
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(pixels, hidden_dim),
        nn.ReLU(),
        nn.Linear(hidden_dim, latent_dim),
        nn.Linear(latent_dim, hidden_dim),
        nn.ReLU(),
        nn.Linear(hidden_dim, pixels),
        nn.Sigmoid(),
        nn.Unflatten(1, (image_size, image_size, 1)),
    )


def build_scorers(image_size: int, hidden_dim: int, latent_dim: int):
    """The 11 scoring autoencoders as a ModuleDict keyed by NAMES."""
    from torch import nn

    return nn.ModuleDict(
        {name: build_dense_autoencoder(image_size, hidden_dim, latent_dim) for name in NAMES}
    )


def train_scorers(
    x, y, *, hidden_dim, latent_dim, epochs, batch_size, learning_rate, seed, device="cpu"
):
    """Fit the all-class autoencoder on x and one per class on x[y == c]: (ModuleDict, losses).

    Weights are initialised from ``seed``; scorer k shuffles with seed + k.
    """
    import torch

    torch.manual_seed(seed)
    scorers = build_scorers(x.shape[1], hidden_dim, latent_dim)
    losses = {}
    start = time.perf_counter()
    for k, name in enumerate(NAMES):
        images = x if name == "all" else x[y == int(name[len("class") :])]
        losses[name] = fit_torch_autoencoder(
            scorers[name],
            images,
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            seed=seed + k,
            device=device,
        )[-1]
        log.info(
            "scorer %s: %d images, final loss %.4f (%.0f s so far)",
            name,
            len(images),
            losses[name],
            time.perf_counter() - start,
        )
    return scorers, losses


def load_scorers(path, *, image_size: int, hidden_dim: int, latent_dim: int):
    """Rebuild the 11 scoring autoencoders and load their weights from ``path``."""
    scorers = build_scorers(image_size, hidden_dim, latent_dim)
    load_torch_state(scorers, path)
    scorers.eval()
    return scorers


def reconstruct_all(scorers, x: np.ndarray) -> dict:
    """{name: x through that scorer} for every one of the 11 autoencoders (numpy)."""
    import torch

    with torch.no_grad():
        data = torch.from_numpy(np.asarray(x, dtype=np.float32))
        return {name: scorers[name](data).numpy() for name in NAMES}


def pick_class(recs: dict, classes: np.ndarray) -> np.ndarray:
    """Row i of the class-``classes[i]`` autoencoder's reconstructions."""
    stacked = np.stack([recs[f"class{c}"] for c in range(N_CLASSES)])
    return stacked[np.asarray(classes), np.arange(len(classes))]


def in_distribution(scorers, x_cf, cf_class, orig_class) -> dict:
    """Mean IM1, IM2 (``metrics.im1_im2``) and all-class reconstruction MSE of x_cf."""
    from xai_repro.cfrl.metrics import im1_im2, reconstruction_error

    if len(x_cf) == 0:
        return {"im1": None, "im2": None, "reconstruction_mse": None, "n": 0}
    recs = reconstruct_all(scorers, x_cf)
    im1, im2 = im1_im2(x_cf, pick_class(recs, cf_class), pick_class(recs, orig_class), recs["all"])
    return {
        "im1": float(im1.mean()),
        "im2": float(im2.mean()),
        "reconstruction_mse": float(reconstruction_error(x_cf, recs["all"]).mean()),
        "n": len(x_cf),
    }


def quality(x, x_cf, cf_class, orig_class, scorers, l0_tolerance) -> dict:
    """Mean sparsity (L1, L0) and in-distribution scores of counterfactuals x_cf of images x
    (both (n, S, S, 1), row k a pair), with their count ``sparsity_n``; None when n is 0."""
    from xai_repro.cfrl.metrics import sparsity

    l1, l0 = sparsity(x, x_cf, l0_tolerance)
    n = len(l1)
    return {
        "sparsity_l1": float(l1.mean()) if n else None,
        "sparsity_l0": float(l0.mean()) if n else None,
        "sparsity_n": n,
        "in_distribution": in_distribution(scorers, x_cf, cf_class, orig_class),
    }


def score_counterfactuals(
    x, y_pred, instance, target, x_cf, cf_proba, scorers, l0_tolerance, acceptance
):
    """Validity under both rules and quality of counterfactuals x_cf of x[instance] toward target.

    ``cf_proba``: (n, 10) class probabilities of x_cf; ``acceptance``: alibi's rule,
    {"target_proba", "tol"}. ``validity``: top class = target, and ``validity_strict``:
    |p_target - target_proba| <= tol, each with a Wilson 95 % interval. Sparsity and IM1/IM2
    are averaged over the valid (top class) counterfactuals only, with their n, as in Van
    Looveren & Klaise (2019): a failed search that returns the original image would
    otherwise count as "no change".
    """
    from xai_repro.cfrl.metrics import (
        accepted,
        share_summary,
        validity_per_target,
        validity_summary,
    )

    cf_pred = np.asarray(cf_proba).argmax(axis=1)
    valid = cf_pred == target
    return {
        "validity": validity_summary(cf_pred, target),
        "validity_strict": share_summary(accepted(cf_proba, target, **acceptance)),
        "validity_per_target": validity_per_target(cf_pred, target),
        **quality(
            x[instance][valid],
            x_cf[valid],
            target[valid],
            y_pred[instance][valid],
            scorers,
            l0_tolerance,
        ),
    }


BASELINE_KEYS = ["instance", "target", "x_cf", "found", "seconds"]


def read_baseline(paths) -> dict:
    """The baseline's shards concatenated (instance, target, x_cf, found, seconds)."""
    shards = [read_npz(p, BASELINE_KEYS) for p in paths]
    return {k: np.concatenate([s[k] for s in shards]) for k in BASELINE_KEYS}


def pair_rows(cf_instance, cf_target, instance, target):
    """Rows of CFRL's (instance, target) grid holding the given pairs."""
    lookup = {(int(i), int(t)): row for row, (i, t) in enumerate(zip(cf_instance, cf_target))}
    missing = [(int(i), int(t)) for i, t in zip(instance, target) if (i, t) not in lookup]
    if missing:
        raise InputError(f"baseline pairs {missing[:3]} are not among CFRL's counterfactuals")
    return np.array([lookup[(int(i), int(t))] for i, t in zip(instance, target)], dtype=int)


def score_all(cf, base, proba, decode, scorers, l0_tolerance, acceptance):
    """The scored parts of metrics.json: cfrl, cfrl_own_class, paired, autoencoder_floor.

    ``cf``: CFRL's counterfactuals (cfrl.npz), ``base``: the baseline's (``read_baseline``);
    ``proba``: images -> class probabilities; ``decode``: images -> their reconstruction
    by the generating autoencoder; ``acceptance``: alibi's {"target_proba", "tol"}.
    """
    from xai_repro.cfrl.metrics import sparsity, validity_summary

    x, y_pred = cf["x"], cf["y_pred"]
    cf_proba = proba(cf["x_cf"])
    cf_pred = cf_proba.argmax(axis=1)
    other = cf["target"] != y_pred[cf["instance"]]

    def part(rows, x_cf, p):
        return score_counterfactuals(
            x, y_pred, cf["instance"][rows], cf["target"][rows], x_cf, p, scorers, l0_tolerance,
            acceptance,
        )  # fmt: skip

    rows = pair_rows(cf["instance"], cf["target"], base["instance"], base["target"])
    base_proba = proba(base["x_cf"])
    baseline = score_counterfactuals(
        x, y_pred, base["instance"], base["target"], base["x_cf"], base_proba, scorers,
        l0_tolerance, acceptance,
    )  # fmt: skip
    baseline["found_share"] = float(base["found"].mean())
    both = (cf_pred[rows] == base["target"]) & (base_proba.argmax(axis=1) == base["target"])
    orig, target = y_pred[base["instance"]][both], base["target"][both]
    x_both = x[base["instance"]][both]
    floor = decode(x)
    floor_pred = proba(floor).argmax(axis=1)
    l1, l0 = sparsity(x, floor, l0_tolerance)
    return {
        "cfrl": part(other, cf["x_cf"][other], cf_proba[other]),
        "cfrl_own_class": {"validity": validity_summary(cf_pred[~other], cf["target"][~other])},
        "paired": {
            "n": len(rows),
            "cfrl": part(rows, cf["x_cf"][rows], cf_proba[rows]),
            "baseline": baseline,
            "both_valid": {
                "n": int(both.sum()),
                "cfrl": quality(
                    x_both, cf["x_cf"][rows][both], target, orig, scorers, l0_tolerance
                ),
                "baseline": quality(
                    x_both, base["x_cf"][both], target, orig, scorers, l0_tolerance
                ),
            },
        },
        "autoencoder_floor": {
            "sparsity_l1": float(l1.mean()),
            "sparsity_l0": float(l0.mean()),
            "keeps_prediction": float(np.mean(floor_pred == y_pred)),
            "in_distribution": in_distribution(scorers, floor, y_pred, y_pred),
        },
    }
