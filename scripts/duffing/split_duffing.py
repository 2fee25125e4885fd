"""Rule ``split_duffing``: train/test split by trajectory, and the feature scaler.

Reads ``samples.csv``; writes ``train.csv`` and ``test.csv`` (same columns) and
``scaler.json`` (mean and scale of x0, v0, t on the training rows). Splitting by
trajectory keeps rows of one trajectory on one side, so the test set measures
generalisation to new initial states.
"""

import logging

import numpy as np

from xai_repro.common import read_csv, setup_logging, write_csv, write_json
from xai_repro.duffing.data import split_by_trajectory
from xai_repro.duffing.ode import FEATURES, TARGETS, StandardScaler

log = logging.getLogger(__name__)


def main(samples_csv, train_csv, test_csv, scaler_json, *, seed, test_fraction):
    samples = read_csv(samples_csv, columns=["trajectory", *FEATURES, *TARGETS])
    test = split_by_trajectory(
        samples["trajectory"].to_numpy(), test_fraction, np.random.default_rng(seed)
    )
    scaler = StandardScaler.fit(samples.loc[~test, list(FEATURES)].to_numpy())
    log.info("train rows %d, test rows %d", (~test).sum(), test.sum())
    write_csv(train_csv, samples[~test])
    write_csv(test_csv, samples[test])
    write_json(scaler_json, scaler.to_dict())


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    main(sm.input.samples, sm.output.train, sm.output.test, sm.output.scaler, **sm.params)
