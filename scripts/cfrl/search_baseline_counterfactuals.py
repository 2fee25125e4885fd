"""Rule ``search_baseline_counterfactuals``: the optimization baseline, alibi's ``Counterfactual``.

alibi's ``Counterfactual`` (Wachter et al.: gradient search on
lambda * (p_target - target_proba)^2 + L1 distance, with a search over lambda) builds a
TensorFlow 1 graph, so this job runs in its own process in graph mode with tf-keras
(``TF_USE_LEGACY_KERAS=1``) and the classifier rebuilt there from the same weights.
Reads ``dataset.npz`` and the classifier. The images are the first ``n_instances`` of
the test images CFRL explains (the same seeded choice); each is searched toward
``targets_per_image`` seeded classes other than its predicted class. The searches are
sharded over jobs by target class (shard k of n: targets t with t % n == k). Writes
``baseline_{shard}.npz`` (instance, target, x_cf, found, seconds) and
``baseline_{shard}_timing.json`` (seconds per search; graph construction reported apart).
"""

import logging
import os
import sys
import time

import numpy as np

from xai_repro.cfrl.data import explained_indices, load_dataset
from xai_repro.cfrl.metrics import baseline_pairs
from xai_repro.cfrl.models import build_classifier, load_weights, set_keras_weights
from xai_repro.common import (
    InputError,
    limit_threads,
    seed_everything,
    setup_logging,
    write_json,
    write_npz,
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


def search(model, x, instance, target, *, settings: dict):
    """alibi Counterfactual for image x[instance[k]] toward target[k], for every k.

    One search object (one graph) per target class. Returns (x_cf, found, seconds per
    search, setup seconds per target class); x_cf keeps the original where none is found.
    """
    from alibi.explainers import Counterfactual

    shape = (1, *x.shape[1:])
    x_cf = x[instance].astype(np.float32)
    found = np.zeros(len(target), dtype=bool)
    seconds = np.zeros(len(target))
    setup = []
    start_all = time.perf_counter()
    for t in np.unique(target):
        start = time.perf_counter()
        cf = Counterfactual(
            model, shape=shape, target_class=int(t), feature_range=(0.0, 1.0), **settings
        )
        setup.append(time.perf_counter() - start)
        for row in np.flatnonzero(target == t):
            start = time.perf_counter()
            explanation = cf.explain(x[instance[row] : instance[row] + 1])
            seconds[row] = time.perf_counter() - start
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
    return x_cf, found, seconds, np.asarray(setup)


def main(
    dataset_npz,
    classifier_path,
    baseline_npz,
    timing_json,
    *,
    seed,
    image_size,
    n_explained,
    baseline,
    shard,
):
    data = load_dataset(dataset_npz)
    n, shards = baseline["n_instances"], baseline["shards"]
    if n > n_explained:
        raise InputError(
            f"config cfrl.baseline.n_instances = {n} exceeds the {n_explained} images "
            "explained by CFRL (cfrl.explain.n_instances)"
        )
    x = data["x_test"][explained_indices(data, n_explained, seed, dataset_npz)[:n]]
    _, keras = graph_mode_keras()
    seed_everything(seed)
    model = build_classifier(keras, image_size, probabilities=True)
    set_keras_weights(model, load_weights(classifier_path), classifier_path)
    y_pred = model.predict(x, verbose=0).argmax(axis=1)
    instance, target = baseline_pairs(
        y_pred, baseline["targets_per_image"], seed, shard=int(shard), shards=shards
    )
    settings = {
        k: v for k, v in baseline.items() if k not in ("n_instances", "targets_per_image", "shards")
    }
    x_cf, found, seconds, setup = search(model, x, instance, target, settings=settings)
    log.info(
        "shard %s of %d: %d searches, %.1f%% found, median %.3f s each (setup %.2f s per target)",
        shard,
        shards,
        len(seconds),
        100 * found.mean() if len(found) else float("nan"),
        np.median(seconds) if len(seconds) else float("nan"),
        np.median(setup) if len(setup) else float("nan"),
    )
    write_npz(
        baseline_npz, instance=instance, target=target, x_cf=x_cf, found=found, seconds=seconds
    )
    write_json(
        timing_json,
        {
            "method": "alibi.explainers.Counterfactual (TF1 graph mode, tf-keras)",
            "n_counterfactuals": len(seconds),
            "seconds_total": float(seconds.sum() + setup.sum()),
            "setup_seconds": setup.tolist(),
        },
    )


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    limit_threads(sm.threads)
    args = (sm.input.dataset, sm.input.classifier, *sm.output)
    main(*args, shard=sm.wildcards.shard, **sm.params)
