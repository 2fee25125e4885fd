"""Rule ``evaluate_surrogate``: the surrogate's predictions and errors on the test set.

Reads ``test.csv``, ``scaler.json`` and ``surrogate.keras``; writes
``test_predictions.csv`` (scaled features, true and predicted xt, vt, relative error
of the state norm, relative state error) and ``surrogate_metrics.json`` (test MSE, Keras'
MSE over both outputs, and error quantiles). The notebook's norm error
| ||y_pred|| - ||y|| | / ||y|| cannot see a phase error (a state predicted on the right
orbit radius at the wrong angle scores 0); the state error ||y_pred - y|| / ||y|| can.
"""

import numpy as np
import pandas as pd

from xai_repro.common import limit_threads, read_csv, setup_logging, write_csv, write_json
from xai_repro.duffing.data import relative_norm_error, relative_state_error
from xai_repro.duffing.ode import FEATURES, TARGETS, load_scaler


def main(test_csv, scaler_json, model_path, predictions_csv, metrics_json):
    from xai_repro.duffing.surrogate import keras_predictor, load_surrogate

    data = read_csv(test_csv, columns=[*FEATURES, *TARGETS])
    scaler = load_scaler(scaler_json)
    model = load_surrogate(model_path)
    Z = scaler.transform(data[list(FEATURES)].to_numpy())
    y_true = data[list(TARGETS)].to_numpy()
    y_pred = keras_predictor(model)(Z)
    rel = relative_norm_error(y_pred, y_true)
    state = relative_state_error(y_pred, y_true)
    frame = pd.DataFrame(Z, columns=list(FEATURES))
    for k, target in enumerate(TARGETS):
        frame[target] = y_true[:, k]
        frame[f"{target}_pred"] = y_pred[:, k]
    frame["relative_error"] = rel
    frame["relative_state_error"] = state
    write_csv(predictions_csv, frame)
    write_json(
        metrics_json,
        {
            "test_mse": float(np.mean((y_pred - y_true) ** 2)),
            "test_mse_per_output": dict(zip(TARGETS, np.mean((y_pred - y_true) ** 2, axis=0))),
            "relative_error_median": float(np.median(rel)),
            "relative_error_p95": float(np.quantile(rel, 0.95)),
            "relative_state_error_median": float(np.median(state)),
            "relative_state_error_p95": float(np.quantile(state, 0.95)),
            "test_rows": len(frame),
        },
    )


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    limit_threads(sm.threads)
    main(sm.input.test, sm.input.scaler, sm.input.model, sm.output.predictions, sm.output.metrics)
