"""Rule ``summarize_cfrl``: metrics.json of the counterfactual study.

Reads the dataset, the classifier, the generating autoencoder, the 11 independent scoring
autoencoders, CFRL's counterfactuals and timing, the fit summary and every shard of the
baseline. Scores (same Keras 3 classifier for both methods):
- ``cfrl``: every explained image toward every class other than its predicted one
  (own-class targets apart, in ``cfrl_own_class``);
- ``paired``: CFRL and the baseline on exactly the baseline's (image, target) pairs;
- ``autoencoder_floor``: the explained images passed unchanged through the generating
  autoencoder (CFRL's outputs are decoder outputs, so this is its floor).
Validity carries a Wilson 95 % interval; in-distribution is IM1/IM2 from the independent
scorers. Writes ``metrics.json``.
"""

import logging

import numpy as np

from xai_repro.cfrl.data import load_dataset
from xai_repro.cfrl.metrics import (
    reconstruction_error,
    sparsity,
    timing_stats,
    validity_summary,
)
from xai_repro.cfrl.models import load_predictor_and_autoencoder, reconstruct
from xai_repro.cfrl.scoring import in_distribution, load_scorers, score_counterfactuals
from xai_repro.common import (
    InputError,
    limit_threads,
    read_json,
    read_npz,
    setup_logging,
    write_json,
)

log = logging.getLogger(__name__)
CF_KEYS = ["x", "y_pred", "instance", "target", "x_cf"]
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


def score_all(cf, base, predict, decode, scorers, l0_tolerance):
    """The scored parts of metrics.json: cfrl, cfrl_own_class, paired, autoencoder_floor."""
    x, y_pred = cf["x"], cf["y_pred"]
    cf_pred = predict(cf["x_cf"]).argmax(axis=1)
    other = cf["target"] != y_pred[cf["instance"]]

    def part(rows, x_cf, pred):
        return score_counterfactuals(
            x, y_pred, cf["instance"][rows], cf["target"][rows], x_cf, pred, scorers, l0_tolerance
        )

    rows = pair_rows(cf["instance"], cf["target"], base["instance"], base["target"])
    base_pred = predict(base["x_cf"]).argmax(axis=1)
    baseline = score_counterfactuals(
        x, y_pred, base["instance"], base["target"], base["x_cf"], base_pred, scorers, l0_tolerance
    )
    baseline["found_share"] = float(base["found"].mean())
    floor = decode(x)
    floor_pred = predict(floor).argmax(axis=1)
    l1, l0 = sparsity(x, floor, l0_tolerance)
    return {
        "cfrl": part(other, cf["x_cf"][other], cf_pred[other]),
        "cfrl_own_class": {"validity": validity_summary(cf_pred[~other], cf["target"][~other])},
        "paired": {
            "n": len(rows),
            "cfrl": part(rows, cf["x_cf"][rows], cf_pred[rows]),
            "baseline": baseline,
        },
        "autoencoder_floor": {
            "sparsity_l1": float(l1.mean()),
            "sparsity_l0": float(l0.mean()),
            "keeps_prediction": float(np.mean(floor_pred == y_pred)),
            "in_distribution": in_distribution(scorers, floor, y_pred, y_pred),
        },
    }


def speed(cf_timing, base_seconds, fit) -> dict:
    """Seconds per counterfactual of both methods and CFRL's speed-up (ratio of medians)."""
    cf_time = cf_timing["seconds_per_counterfactual"]
    base_time = timing_stats(base_seconds)
    return {
        "cfrl_seconds_per_counterfactual": cf_time,
        "baseline_seconds_per_counterfactual": base_time,
        "speedup": base_time["median"] / cf_time["median"],
        # the slowest CFRL repeat against the fastest search, and the other way round
        "speedup_range": [base_time["min"] / cf_time["max"], base_time["max"] / cf_time["min"]],
        "fit_seconds": fit["seconds"],
        "fit_steps": fit["train_steps"],
        "fit_steps_per_second": fit["steps_per_second"],
    }


def main(
    dataset_npz,
    classifier_path,
    classifier_json,
    autoencoder_path,
    scorers_path,
    fit_json,
    cf_npz,
    cf_timing_json,
    baseline_npzs,
    metrics_json,
    *,
    dataset,
    image_size,
    backend,
    autoencoder,
    scoring,
    baseline_tol,
    l0_tolerance,
):
    data = load_dataset(dataset_npz)
    paths = (classifier_path, autoencoder_path)
    predict, encoder, decoder = load_predictor_and_autoencoder(
        *paths, image_size=image_size, autoencoder=autoencoder, backend=backend
    )
    scorers = load_scorers(
        scorers_path,
        image_size=image_size,
        hidden_dim=scoring["hidden_dim"],
        latent_dim=scoring["latent_dim"],
    )
    cf = read_npz(cf_npz, CF_KEYS)
    base = read_baseline(baseline_npzs)
    fit = read_json(fit_json)
    test_rec = reconstruct(encoder, decoder, data["x_test"], backend=backend)
    metrics = {
        "dataset": dataset,
        "backend": backend,
        "classifier": {"accuracy": read_json(classifier_json)["test_accuracy"]},
        "autoencoder": {
            "test_reconstruction_mse": float(reconstruction_error(data["x_test"], test_rec).mean())
        },
        "test_images": {
            "in_distribution": in_distribution(scorers, cf["x"], cf["y_pred"], cf["y_pred"])
        },
        **score_all(
            cf,
            base,
            predict,
            lambda x: reconstruct(encoder, decoder, x, backend=backend),
            scorers,
            l0_tolerance,
        ),
        "baseline_tol": baseline_tol,
        "speed": speed(read_json(cf_timing_json), base["seconds"], fit),
    }
    cfrl, paired = metrics["cfrl"]["validity"], metrics["paired"]
    log.info("CFRL validity over non-own targets: %s", cfrl)
    log.info("paired (n=%d): CFRL %s", paired["n"], paired["cfrl"]["validity"])
    log.info("paired (n=%d): baseline %s", paired["n"], paired["baseline"]["validity"])
    log.info("speed: %s", metrics["speed"])
    write_json(metrics_json, metrics)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    limit_threads(sm.threads)
    i = sm.input
    main(
        i.dataset,
        i.classifier,
        i.classifier_metrics,
        i.autoencoder,
        i.scorers,
        i.fit,
        i.counterfactuals,
        i.cfrl_timing,
        list(i.baseline),
        sm.output.metrics,
        **sm.params,
    )
