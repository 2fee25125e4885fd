"""Rule ``summarize_cfrl``: metrics.json of the counterfactual study.

Reads the dataset, the classifier and its training summary, the generating autoencoder
and its summary, the 11 independent scoring autoencoders, the fit summary, CFRL's
counterfactuals, the side-by-side timing and every shard of the baseline. Scores (same
Keras 3 classifier for both methods):
- ``cfrl``: every explained image toward every class other than its predicted one
  (own-class targets apart, in ``cfrl_own_class``);
- ``paired``: CFRL and the baseline on exactly the baseline's (image, target) pairs, and
  ``paired.both_valid`` on the pairs where both are valid;
- ``autoencoder_floor``: the explained images passed unchanged through the generating
  autoencoder (CFRL's outputs are decoder outputs, so this is its floor).
Validity under both acceptance rules (top class = target; alibi's |p_target -
target_proba| <= tol) with Wilson 95 % intervals; sparsity and IM1/IM2 over the valid
counterfactuals only, with their n; speed from ``time_counterfactuals`` with CFRL's
training counted in the amortised rows. Writes ``metrics.json``.
"""

import logging

from xai_repro.cfrl.data import load_dataset
from xai_repro.cfrl.metrics import reconstruction_error, speed_summary
from xai_repro.cfrl.models import load_predictor_and_autoencoder, reconstruct
from xai_repro.cfrl.scoring import in_distribution, load_scorers, read_baseline, score_all
from xai_repro.common import (
    limit_threads,
    read_json,
    read_npz,
    setup_logging,
    write_json,
)

log = logging.getLogger(__name__)
CF_KEYS = ["x", "y_pred", "instance", "target", "x_cf"]


def _log_headlines(metrics: dict) -> None:
    cfrl, paired = metrics["cfrl"], metrics["paired"]
    log.info("CFRL validity over non-own targets: %s", cfrl["validity"])
    log.info("CFRL validity under alibi's rule: %s", cfrl["validity_strict"])
    for method in ("cfrl", "baseline"):
        part = paired[method]
        log.info(
            "paired %s: %s; alibi's rule %s", method, part["validity"], part["validity_strict"]
        )
    log.info("speed: %s", metrics["speed"])


def main(
    dataset_npz,
    classifier_path,
    classifier_json,
    autoencoder_path,
    autoencoder_json,
    scorers_path,
    fit_json,
    cf_npz,
    timing_json,
    baseline_npzs,
    metrics_json,
    *,
    dataset,
    image_size,
    backend,
    autoencoder,
    scoring,
    acceptance,
    l0_tolerance,
):
    from scipy.special import softmax

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
    classifier = read_json(classifier_json)
    ae = read_json(autoencoder_json)
    test_rec = reconstruct(encoder, decoder, data["x_test"], backend=backend)
    scored = score_all(
        cf,
        base,
        lambda x: softmax(predict(x), axis=1),
        lambda x: reconstruct(encoder, decoder, x, backend=backend),
        scorers,
        l0_tolerance,
        acceptance,
    )
    metrics = {
        "dataset": dataset,
        "backend": backend,
        "classifier": {
            "accuracy": classifier["test_accuracy"],
            "val_accuracy": classifier["val_accuracy"],
        },
        "autoencoder": {
            "test_reconstruction_mse": float(reconstruction_error(data["x_test"], test_rec).mean()),
            "val_reconstruction_mse": ae["val_reconstruction_mse"],
            "val_mean_image_mse": ae["val_mean_image_mse"],
            "val_mse_ratio_to_mean_image": ae["val_mse_ratio_to_mean_image"],
        },
        "validation": {
            "cfrl_validity": fit["validation"][-1] if fit["validation"] else None,
            "cfrl_validity_curve": fit["validation"],
        },
        "test_images": {
            "in_distribution": in_distribution(scorers, cf["x"], cf["y_pred"], cf["y_pred"])
        },
        **scored,
        "acceptance": acceptance,
        "speed": speed_summary(
            read_json(timing_json), fit, ae["cpu_seconds"], scored["cfrl"]["validity"]["n"]
        ),
    }
    _log_headlines(metrics)
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
        i.autoencoder_metrics,
        i.scorers,
        i.fit,
        i.counterfactuals,
        i.timing,
        list(i.baseline),
        sm.output.metrics,
        **sm.params,
    )
