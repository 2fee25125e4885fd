"""Rule ``differentiate_models``: central finite differences of both models.

Reads ``points.csv``, ``train.csv``, ``scaler.json`` and the surrogate; writes
``finite_differences.csv``: one row per (point, model, output), model "ml" (the surrogate)
or "true" (the ODE), with grad_x0, grad_v0, grad_t, the derivative of the output (raw
units) with respect to each scaled feature, and taylor_x0, taylor_v0, taylor_t, the
first-order reference gradient x (feature - background mean), with the explainers'
background (same size and seed as attribute_duffing). Each model's attributions are set
beside its own reference. This completes the analytic reference the notebook planned
(``num_grad``) and left unfinished.
"""

import pandas as pd

from xai_repro.common import limit_threads, read_csv, setup_logging, write_csv
from xai_repro.duffing.explain import background_sample
from xai_repro.duffing.ode import FEATURES, TrueModel, central_differences, load_scaler
from xai_repro.duffing.tables import gradient_times_deviation, long_frame, read_points


def main(
    points_csv,
    train_csv,
    scaler_json,
    model_path,
    gradients_csv,
    *,
    ode,
    tolerances,
    delta,
    seed,
    size,
):
    from xai_repro.duffing.surrogate import keras_predictor, load_surrogate

    points = read_points(points_csv)
    scaler = load_scaler(scaler_json)
    Z_train = scaler.transform(read_csv(train_csv, columns=list(FEATURES))[list(FEATURES)])
    reference = background_sample(Z_train, size, seed).mean(axis=0)
    models = {
        "ml": keras_predictor(load_surrogate(model_path)),
        "true": TrueModel(scaler, ode, tolerances["rtol"], tolerances["atol"]).predict,
    }
    Z = points[list(FEATURES)].to_numpy()
    frames = []
    for name, predict in models.items():
        gradients = central_differences(predict, Z, delta)
        taylor = gradient_times_deviation(gradients, Z, reference)
        frames.append(long_frame(points, {"grad": gradients, "taylor": taylor}, model=name))
    write_csv(gradients_csv, pd.concat(frames, ignore_index=True))


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    limit_threads(sm.threads)
    main(
        sm.input.points,
        sm.input.train,
        sm.input.scaler,
        sm.input.model,
        sm.output.gradients,
        **sm.params,
    )
