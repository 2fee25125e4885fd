"""Rule ``search_baseline_counterfactuals``: the optimization baseline, alibi's ``Counterfactual``.

alibi's ``Counterfactual`` (Wachter et al.: gradient search on
lambda * (p_target - target_proba)^2 + L1 distance, with a search over lambda) builds a
TensorFlow 1 graph, so this job runs in its own process in graph mode with tf-keras
(``TF_USE_LEGACY_KERAS=1``) and the classifier rebuilt there from the same weights.
Reads the classifier and ``cfrl.npz`` (the same test images and targets as CFRL: the
first ``n_instances`` images, every target); writes ``baseline.npz`` (instance, target,
x_cf, found) and ``baseline_timing.json`` (seconds per counterfactual; the one graph
construction per target is reported apart as setup).
"""

import logging
import os
import sys
import time

import numpy as np

from xai_repro.cfrl.metrics import timing_stats
from xai_repro.cfrl.models import build_classifier, load_weights, set_keras_weights
from xai_repro.common import (
    InputError,
    atomic_output,
    limit_threads,
    seed_everything,
    setup_logging,
    write_json,
)

log = logging.getLogger(__name__)


def graph_mode_keras():
    """TensorFlow in TF1 graph mode with tf-keras; refuses if TF was already imported."""
    if "tensorflow" in sys.modules and os.environ.get("TF_USE_LEGACY_KERAS") != "1":
        raise RuntimeError(
            "the baseline needs TensorFlow imported with TF_USE_LEGACY_KERAS=1 in a fresh process"
        )
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    import tensorflow as tf

    tf.compat.v1.disable_eager_execution()
    return tf, tf.keras


def read_counterfactual_set(path, n_instances: int):
    """x (n, S, S, 1) of the first ``n_instances`` images explained by CFRL, from ``path``."""
    from pathlib import Path

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: CFRL counterfactuals not found")
    with np.load(path, allow_pickle=False) as data:
        if "x" not in data.files:
            raise InputError(f"{path}: no array 'x'")
        x = data["x"]
    if n_instances > len(x):
        raise InputError(
            f"config cfrl.baseline.n_instances = {n_instances} exceeds the {len(x)} images "
            f"explained by CFRL (cfrl.explain.n_instances, {path})"
        )
    return x[:n_instances]


def search(model, x, *, n_classes: int, settings: dict):
    """alibi Counterfactual for every image in x toward every class (instance-major order).

    Returns (instance, target, x_cf, found, seconds per search, setup seconds per target).
    """
    from alibi.explainers import Counterfactual

    shape = (1, *x.shape[1:])
    n = len(x)
    x_cf = np.repeat(x, n_classes, axis=0).astype(np.float32)  # unchanged where none is found
    found = np.zeros(n * n_classes, dtype=bool)
    seconds = np.zeros(n * n_classes)
    setup = []
    start_all = time.perf_counter()
    for t in range(n_classes):
        start = time.perf_counter()
        cf = Counterfactual(
            model, shape=shape, target_class=t, feature_range=(0.0, 1.0), **settings
        )
        setup.append(time.perf_counter() - start)
        for i in range(n):
            row = i * n_classes + t
            start = time.perf_counter()
            explanation = cf.explain(x[i : i + 1])
            seconds[row] = time.perf_counter() - start
            if explanation.cf is not None:
                x_cf[row] = np.asarray(explanation.cf["X"]).reshape(x.shape[1:])
                found[row] = True
        done = t + 1
        rate = done / (time.perf_counter() - start_all)
        log.info(
            "target %d: %d/%d found, %.2f s per search (%.2f targets/s, ETA %.0f s)",
            t,
            found[t::n_classes].sum(),
            n,
            seconds[t::n_classes].mean(),
            rate,
            (n_classes - done) / rate,
        )
    instance = np.repeat(np.arange(n), n_classes)
    target = np.tile(np.arange(n_classes), n)
    return instance, target, x_cf, found, seconds, np.asarray(setup)


def main(classifier_path, cf_npz, baseline_npz, timing_json, *, seed, image_size, baseline):
    x = read_counterfactual_set(cf_npz, baseline["n_instances"])
    _, keras = graph_mode_keras()
    seed_everything(seed)
    model = build_classifier(keras, image_size, probabilities=True)
    set_keras_weights(model, load_weights(classifier_path), classifier_path)
    settings = {k: v for k, v in baseline.items() if k != "n_instances"}
    instance, target, x_cf, found, seconds, setup = search(
        model, x, n_classes=10, settings=settings
    )
    log.info(
        "%d searches: %.1f%% found, median %.3f s each (setup %.2f s per target)",
        len(seconds),
        100 * found.mean(),
        np.median(seconds),
        np.median(setup),
    )
    with atomic_output(baseline_npz) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, instance=instance, target=target, x_cf=x_cf, found=found)
    write_json(
        timing_json,
        {
            "method": "alibi.explainers.Counterfactual (TF1 graph mode, tf-keras)",
            "n_counterfactuals": len(seconds),
            "seconds_per_counterfactual": timing_stats(seconds),
            "setup_seconds_per_target": timing_stats(setup),
            "found_share": float(found.mean()),
        },
    )


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    limit_threads(sm.threads)
    main(
        sm.input.classifier,
        sm.input.counterfactuals,
        sm.output.baseline,
        sm.output.timing,
        **sm.params,
    )
