"""Rule ``differentiate_true_model``: central finite differences of the true model.

Reads ``points.csv`` and ``scaler.json``; writes ``finite_differences.csv``: one row
per (point, output) with grad_x0, grad_v0, grad_t, the derivative of the output (raw
units) with respect to each scaled feature. This is the analytic reference the seed
notebook planned ("num_grad") and left unfinished.
"""

from xai_repro.common import limit_threads, setup_logging, write_csv
from xai_repro.duffing.ode import FEATURES, TrueModel, central_differences, load_scaler
from xai_repro.duffing.tables import long_frame, read_points


def main(points_csv, scaler_json, gradients_csv, *, ode, tolerances, delta):
    points = read_points(points_csv)
    model = TrueModel(load_scaler(scaler_json), ode, tolerances["rtol"], tolerances["atol"])
    gradients = central_differences(model.predict, points[list(FEATURES)].to_numpy(), delta)
    write_csv(gradients_csv, long_frame(points, {"grad": gradients}))


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    limit_threads(sm.threads)
    main(sm.input.points, sm.input.scaler, sm.output.gradients, **sm.params)
