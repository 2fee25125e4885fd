"""CFRL against alibi's ``Counterfactual`` search, timed side by side in one job.

The search needs TensorFlow 1 graph mode with tf-keras and CFRL a Keras 3 classifier, so
each method runs in a worker process of its own (spawned, one thread), both started by
the same job. The two alternate in rounds: CFRL explains its whole batch once, then the
search runs the round's share of its pairs, so both see the same machine load. Each
worker reports wall-clock and its own CPU seconds (``time.process_time``). Training cost
and the amortised speed-up are ``metrics.amortised``.
"""

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from xai_repro.cfrl.metrics import timing_stats

_WORKER = {}


def _init_cfrl(classifier_path, autoencoder_path, actor_path, settings):
    from xai_repro.cfrl.explainer import load_cfrl
    from xai_repro.common import limit_threads

    limit_threads(1)
    _, _WORKER["explainer"] = load_cfrl(
        classifier_path, autoencoder_path, actor_path=actor_path, **settings
    )
    limit_threads(1)


def _time_cfrl(x, targets, batch_size):
    """One CFRL batch in the worker: (wall seconds, CPU seconds)."""
    start, cpu = time.perf_counter(), time.process_time()
    _WORKER["explainer"].explain(x, Y_t=targets, batch_size=batch_size)
    return time.perf_counter() - start, time.process_time() - cpu


def _init_search(classifier_path, image_size):
    from xai_repro.cfrl.baseline import graph_mode_keras
    from xai_repro.cfrl.models import build_classifier, load_weights, set_keras_weights
    from xai_repro.common import limit_threads

    limit_threads(1)
    _, keras = graph_mode_keras()
    model = build_classifier(keras, image_size, probabilities=True)
    set_keras_weights(model, load_weights(classifier_path), classifier_path)
    _WORKER["model"] = model
    limit_threads(1)


def _time_search(x, instance, target, settings):
    """Searches in the worker: (wall seconds, CPU seconds) per search, setup excluded."""
    from xai_repro.cfrl.baseline import search

    out = search(_WORKER["model"], x, instance, target, settings=settings)
    return out["seconds"], out["cpu_seconds"]


def _worker(initializer, *args):
    context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(1, mp_context=context, initializer=initializer, initargs=args)


def time_side_by_side(
    x_cfrl,
    targets_cfrl,
    x_search,
    instance,
    target,
    *,
    classifier_path,
    autoencoder_path,
    actor_path,
    cfrl_settings: dict,
    search_settings: dict,
    image_size: int,
    batch_size: int,
    rounds: int,
) -> dict:
    """Seconds per counterfactual of CFRL and of the search, measured in alternating rounds.

    CFRL explains ``x_cfrl`` toward ``targets_cfrl`` (one batch, after an untimed warm-up)
    once per round; the search runs the pairs (x_search[instance[k]], target[k]) split into
    ``rounds`` consecutive chunks, one per round. Returns {"cfrl": ..., "baseline": ...},
    each with ``wall`` and ``cpu`` timing_stats of seconds per counterfactual.
    """
    if not 1 <= rounds <= len(target):
        raise ValueError(f"need 1 <= rounds <= {len(target)} searches, got {rounds}")
    n_cf = len(targets_cfrl)
    cfrl = {"wall": [], "cpu": []}
    base = {"wall": [], "cpu": []}
    with (
        _worker(_init_cfrl, classifier_path, autoencoder_path, actor_path, cfrl_settings) as cw,
        _worker(_init_search, classifier_path, image_size) as sw,
    ):
        cw.submit(_time_cfrl, x_cfrl, targets_cfrl, batch_size).result()  # warm-up (tracing)
        for chunk in np.array_split(np.arange(len(target)), rounds):
            wall, cpu = cw.submit(_time_cfrl, x_cfrl, targets_cfrl, batch_size).result()
            cfrl["wall"].append(wall / n_cf)
            cfrl["cpu"].append(cpu / n_cf)
            wall, cpu = sw.submit(
                _time_search, x_search, instance[chunk], target[chunk], search_settings
            ).result()
            base["wall"].extend(wall)
            base["cpu"].extend(cpu)
    return {
        "cfrl": {k: timing_stats(v) for k, v in cfrl.items()},
        "baseline": {k: timing_stats(v) for k, v in base.items()},
    }
