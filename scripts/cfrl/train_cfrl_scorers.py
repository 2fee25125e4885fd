"""Rule ``train_cfrl_scorers``: the independent autoencoders that score in-distribution.

Reads ``dataset.npz``; trains 11 dense PyTorch autoencoders (one over all training
images, one per class: Van Looveren & Klaise 2019's IM1/IM2 scorers), a different
architecture and seed from the autoencoder whose decoder produces CFRL's outputs. Writes
``scorers.pt`` (weights-only state_dict) and ``scorers.json`` (final losses, test
reconstruction MSE of the all-class scorer).
"""

import logging

import torch

from xai_repro.cfrl.data import load_dataset
from xai_repro.cfrl.metrics import reconstruction_error
from xai_repro.cfrl.scoring import reconstruct_all, train_scorers
from xai_repro.common.io import atomic_output, write_json
from xai_repro.common.runtime import (
    limit_threads,
    resolve_device,
    seed_everything,
    setup_logging,
)

log = logging.getLogger(__name__)


def main(dataset_npz, scorers_path, metrics_json, *, seed, scoring, device="auto"):
    data = load_dataset(dataset_npz)
    seed_everything(seed + scoring["seed_offset"])
    scorers, losses = train_scorers(
        data["x_train"],
        data["y_train"],
        seed=seed + scoring["seed_offset"],
        device=resolve_device(device),
        **{k: v for k, v in scoring.items() if k != "seed_offset"},
    )
    rec = reconstruct_all(scorers, data["x_test"])["all"]
    mse = float(reconstruction_error(data["x_test"], rec).mean())
    log.info("all-class scorer: test reconstruction MSE %.5f", mse)
    with atomic_output(scorers_path) as tmp:
        torch.save(scorers.state_dict(), tmp)
    write_json(metrics_json, {"final_loss": losses, "test_reconstruction_mse": mse})


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    limit_threads(sm.threads)
    main(sm.input.dataset, sm.output.scorers, sm.output.metrics, **sm.params)
