"""Rule ``summarize_cfrl``: metrics.json of the counterfactual study.

Reads the classifier and autoencoder, their metrics, CFRL's and the baseline's
counterfactuals and timings, and the fit summary. Scores both methods' counterfactuals
with the same (Keras 3) classifier and autoencoder; writes ``metrics.json``.
"""

import logging
from pathlib import Path

import numpy as np

from xai_repro.cfrl.data import load_dataset
from xai_repro.cfrl.metrics import (
    in_distribution,
    reconstruction_error,
    sparsity,
    validity,
    validity_per_target,
)
from xai_repro.cfrl.models import load_predictor_and_autoencoder, reconstruct
from xai_repro.common import InputError, limit_threads, read_json, setup_logging, write_json

log = logging.getLogger(__name__)


def read_npz(path, keys):
    """Arrays ``keys`` of an npz file; missing file or array -> InputError naming it."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [k for k in keys if k not in data.files]
            if missing:
                raise InputError(f"{path}: missing array(s) {missing}")
            return {k: data[k] for k in keys}
    except InputError:
        raise
    except (OSError, ValueError, EOFError) as err:
        raise InputError(f"{path}: not a readable npz file ({err})") from err


def score(x, instance, target, x_cf, predict, rec_error, l0_tolerance):
    """Validity, sparsity and reconstruction errors of counterfactuals x_cf of x[instance]."""
    cf_pred = predict(x_cf).argmax(axis=1)
    l1, l0 = sparsity(x[instance], x_cf, l0_tolerance)
    return {
        "cf_pred": cf_pred,
        "validity": validity(cf_pred, target),
        "validity_per_target": validity_per_target(cf_pred, target),
        "sparsity_l1": float(l1.mean()),
        "sparsity_l0": float(l0.mean()),
        "rec_error": rec_error(x_cf),
    }


def summarize(
    *, classifier_metrics, fit, cfrl, cfrl_timing, baseline, baseline_timing, test_errors, dataset
):
    """The metrics.json dict from the scored counterfactuals and timings."""
    cf_time = cfrl_timing["seconds_per_counterfactual"]
    base_time = baseline_timing["seconds_per_counterfactual"]
    return {
        "dataset": dataset,
        "backend": fit["backend"],
        "classifier_accuracy": classifier_metrics["test_accuracy"],
        "n_counterfactuals": cfrl_timing["n_counterfactuals"],
        "validity": cfrl["validity"],
        "validity_per_target": cfrl["validity_per_target"],
        "sparsity_l1": cfrl["sparsity_l1"],
        "sparsity_l0": cfrl["sparsity_l0"],
        "in_distribution": in_distribution(cfrl["rec_error"], test_errors),
        "seconds_per_counterfactual": cf_time["median"],
        "seconds_per_counterfactual_stats": cf_time,
        "baseline_method": baseline_timing["method"],
        "baseline_n_counterfactuals": baseline_timing["n_counterfactuals"],
        "baseline_validity": baseline["validity"],
        "baseline_validity_per_target": baseline["validity_per_target"],
        "validity_on_baseline_instances": baseline["cfrl_validity_same_instances"],
        "baseline_sparsity_l1": baseline["sparsity_l1"],
        "baseline_sparsity_l0": baseline["sparsity_l0"],
        "baseline_in_distribution": in_distribution(baseline["rec_error"], test_errors),
        "baseline_seconds_per_counterfactual": base_time["median"],
        "baseline_seconds_per_counterfactual_stats": base_time,
        "baseline_setup_seconds_per_target": baseline_timing["setup_seconds_per_target"]["median"],
        # ratio of medians; the range pairs the slowest CFRL run with the fastest search and back
        "speedup": base_time["median"] / cf_time["median"],
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
    fit_json,
    cf_npz,
    cf_timing_json,
    baseline_npz,
    baseline_timing_json,
    metrics_json,
    *,
    dataset,
    image_size,
    backend,
    autoencoder,
    l0_tolerance,
):
    data = load_dataset(dataset_npz)
    predict, encoder, decoder = load_predictor_and_autoencoder(
        classifier_path,
        autoencoder_path,
        image_size=image_size,
        autoencoder=autoencoder,
        backend=backend,
    )

    def rec_error(images):
        return reconstruction_error(images, reconstruct(encoder, decoder, images, backend=backend))

    cf = read_npz(cf_npz, ["x", "instance", "target", "x_cf"])
    base = read_npz(baseline_npz, ["instance", "target", "x_cf"])
    cfrl_scores = score(
        cf["x"], cf["instance"], cf["target"], cf["x_cf"], predict, rec_error, l0_tolerance
    )
    base_scores = score(
        cf["x"], base["instance"], base["target"], base["x_cf"], predict, rec_error, l0_tolerance
    )
    same = np.isin(cf["instance"], np.unique(base["instance"]))
    base_scores["cfrl_validity_same_instances"] = validity(
        cfrl_scores["cf_pred"][same], cf["target"][same]
    )
    metrics = summarize(
        classifier_metrics=read_json(classifier_json),
        fit=read_json(fit_json),
        cfrl=cfrl_scores,
        cfrl_timing=read_json(cf_timing_json),
        baseline=base_scores,
        baseline_timing=read_json(baseline_timing_json),
        test_errors=rec_error(data["x_test"]),
        dataset=dataset,
    )
    log.info(
        "validity %.3f (baseline %.3f); %.2e s vs %.2e s per counterfactual: %.0fx",
        metrics["validity"],
        metrics["baseline_validity"],
        metrics["seconds_per_counterfactual"],
        metrics["baseline_seconds_per_counterfactual"],
        metrics["speedup"],
    )
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
        i.fit,
        i.counterfactuals,
        i.cfrl_timing,
        i.baseline,
        i.baseline_timing,
        sm.output.metrics,
        **sm.params,
    )
