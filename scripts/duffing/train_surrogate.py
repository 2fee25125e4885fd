"""Rule ``train_surrogate``: fit the Keras MLP surrogate on the scaled training set.

Reads ``train.csv`` and ``scaler.json``; writes ``surrogate.keras`` and ``history.csv``
(epoch, loss, val_loss). Early stopping watches both loss and val_loss with the notebook's
patience; the validation set is the last ``validation_split`` of the rows, i.e. whole
held-out trajectories (rows are stored trajectory by trajectory).
"""

import logging

from xai_repro.common import (
    atomic_output,
    limit_threads,
    read_csv,
    setup_logging,
    write_csv,
)
from xai_repro.duffing.ode import FEATURES, TARGETS, load_scaler
from xai_repro.duffing.surrogate import train_surrogate

log = logging.getLogger(__name__)


def main(train_csv, scaler_json, model_path, history_csv, *, seed, surrogate):
    data = read_csv(train_csv, columns=[*FEATURES, *TARGETS])
    scaler = load_scaler(scaler_json)
    Z = scaler.transform(data[list(FEATURES)].to_numpy())
    y = data[list(TARGETS)].to_numpy()
    model, history = train_surrogate(Z, y, surrogate=surrogate, seed=seed)
    log.info(
        "stopped after %d epochs: loss %.4g, val_loss %.4g",
        len(history),
        history["loss"].iloc[-1],
        history["val_loss"].iloc[-1],
    )
    with atomic_output(model_path) as tmp:
        model.save(tmp)
    write_csv(history_csv, history)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    limit_threads(sm.threads)
    main(sm.input.train, sm.input.scaler, sm.output.model, sm.output.history, **sm.params)
