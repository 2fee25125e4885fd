"""The optimization baseline: alibi's ``Counterfactual`` (Wachter et al.) in TF1 graph mode.

alibi's ``Counterfactual`` minimises lambda * (p_target - target_proba)^2 + L1 distance by
gradient steps with a search over lambda, and keeps a result only where
|p_target - target_proba| <= tol. It builds a TensorFlow 1 graph, so it runs in a process
of its own with tf-keras (``graph_mode_keras``) and the classifier rebuilt there from the
same weights. Images are NHWC (n, S, S, 1) in [0, 1].
"""

import logging
import os
import sys
import time

import numpy as np

log = logging.getLogger(__name__)


def graph_mode_keras():
    """TensorFlow in TF1 graph mode with tf-keras: (tf, keras); refuses if TF was already
    imported without ``TF_USE_LEGACY_KERAS=1``."""
    if "tensorflow" in sys.modules and os.environ.get("TF_USE_LEGACY_KERAS") != "1":
        raise RuntimeError(
            "the baseline needs TensorFlow imported with TF_USE_LEGACY_KERAS=1 in a fresh process"
        )
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    import tensorflow as tf

    tf.compat.v1.disable_eager_execution()
    return tf, tf.keras


def search(model, x, instance, target, *, settings: dict):
    """alibi ``Counterfactual`` for image x[instance[k]] toward target[k], for every k.

    ``model``: a tf-keras classifier with softmax outputs, built under ``graph_mode_keras``;
    ``settings``: the keyword arguments of ``Counterfactual`` (target_proba, tol, max_iter,
    early_stop, lam_init, max_lam_steps, learning_rate_init). One search object (one graph)
    per target class. Returns a dict: ``x_cf`` (n, S, S, 1; the original image where alibi
    found none), ``found`` (n,) bool, ``seconds`` and ``cpu_seconds`` (n,) per search
    (wall clock and this process's CPU time), ``setup_seconds`` per target class.
    """
    from alibi.explainers import Counterfactual

    shape = (1, *x.shape[1:])
    x_cf = x[instance].astype(np.float32)
    found = np.zeros(len(target), dtype=bool)
    seconds = np.zeros(len(target))
    cpu_seconds = np.zeros(len(target))
    setup = []
    start_all = time.perf_counter()
    for t in np.unique(target):
        start = time.perf_counter()
        cf = Counterfactual(
            model, shape=shape, target_class=int(t), feature_range=(0.0, 1.0), **settings
        )
        setup.append(time.perf_counter() - start)
        for row in np.flatnonzero(target == t):
            start, cpu = time.perf_counter(), time.process_time()
            explanation = cf.explain(x[instance[row] : instance[row] + 1])
            seconds[row] = time.perf_counter() - start
            cpu_seconds[row] = time.process_time() - cpu
            if explanation.cf is not None:
                x_cf[row] = np.asarray(explanation.cf["X"]).reshape(x.shape[1:])
                found[row] = True
        done = int(np.sum(target <= t))
        rate = done / (time.perf_counter() - start_all)
        log.info(
            "target %d: %d/%d found, %.2f s per search (%d/%d searches, ETA %.0f s)",
            t,
            found[target == t].sum(),
            np.sum(target == t),
            seconds[target == t].mean(),
            done,
            len(target),
            (len(target) - done) / rate,
        )
    return {
        "x_cf": x_cf,
        "found": found,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "setup_seconds": np.asarray(setup),
    }


SEARCH_KEYS = ("n_instances", "targets_per_image", "shards")


def counterfactual_settings(baseline: dict) -> dict:
    """alibi ``Counterfactual``'s keyword arguments from the config's ``baseline`` section."""
    return {k: v for k, v in baseline.items() if k not in SEARCH_KEYS}
