"""Rule ``plot_cfrl_reconstructions``: test images over their autoencoder reconstructions.

Reads ``dataset.npz`` and the generating autoencoder (the one CFRL acts through); writes
``reconstructions.png``: ``n_examples`` seeded test images (top, x) over the
autoencoder's reconstructions (bottom, x_hat), as alibi's CFRL-on-MNIST example shows
before it trains CFRL. Each reconstruction is labelled with its L1 change from x.
"""

import logging

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from xai_repro.cfrl.data import load_dataset  # noqa: E402
from xai_repro.cfrl.metrics import select_instances  # noqa: E402
from xai_repro.cfrl.models import load_autoencoder, reconstruct  # noqa: E402
from xai_repro.common import limit_threads, save_figure, setup_logging  # noqa: E402

log = logging.getLogger(__name__)


def _plot_reconstructions(x, x_rec):
    """Originals (top row, 'x') over reconstructions (bottom row, 'x_hat', L1 in the title)."""
    n = len(x)
    fig, axes = plt.subplots(2, n, figsize=(1.6 * n, 3.6), squeeze=False)
    l1 = np.abs(x_rec.astype(np.float64) - x).reshape(n, -1).sum(axis=1)
    for i in range(n):
        for row, (image, title) in enumerate(((x[i], ""), (x_rec[i], f"L1 {l1[i]:.1f}"))):
            ax = axes[row, i]
            ax.imshow(image.squeeze(-1), cmap="gray", vmin=0.0, vmax=1.0)
            ax.set_title(title, fontsize=8)
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0, 0].set_ylabel("x")
    axes[1, 0].set_ylabel("x_hat")
    fig.suptitle("Test images through the autoencoder CFRL acts in", fontsize=9)
    fig.tight_layout()
    return fig


def main(
    dataset_npz, autoencoder_path, figure, *, seed, image_size, backend, autoencoder, n_examples
):
    x_test = load_dataset(dataset_npz)["x_test"]
    x = x_test[select_instances(len(x_test), min(n_examples, len(x_test)), seed)]
    encoder, decoder = load_autoencoder(
        autoencoder_path, backend=backend, image_size=image_size, autoencoder=autoencoder
    )
    x_rec = reconstruct(encoder, decoder, x, backend=backend)
    save_figure(_plot_reconstructions(x, x_rec), figure)
    log.info("wrote %s (%d images)", figure, len(x))


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    limit_threads(sm.threads)
    main(sm.input.dataset, sm.input.autoencoder, sm.output.figure, **sm.params)
