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


def train_scorers(x, y, *, hidden_dim, latent_dim, epochs, batch_size, learning_rate, seed):
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


def score_counterfactuals(x, y_pred, instance, target, x_cf, cf_pred, scorers, l0_tolerance):
    """Validity (Wilson 95 %), sparsity and in-distribution of counterfactuals x_cf of x[instance].

    IM1/IM2 are averaged over the valid counterfactuals (class = target, original class =
    the prediction on the original image), as in Van Looveren & Klaise (2019).
    """
    from xai_repro.cfrl.metrics import sparsity, validity_per_target, validity_summary

    l1, l0 = sparsity(x[instance], x_cf, l0_tolerance)
    valid = cf_pred == target
    return {
        "validity": validity_summary(cf_pred, target),
        "validity_per_target": validity_per_target(cf_pred, target),
        "sparsity_l1": float(l1.mean()),
        "sparsity_l0": float(l0.mean()),
        "in_distribution": in_distribution(
            scorers, x_cf[valid], target[valid], y_pred[instance][valid]
        ),
    }
