"""The counterfactual study's rule scripts through main() on tmp_path (slow: alibi, training).

A tiny pipeline on the 8x8 digits: classifier and autoencoder for a few epochs, CFRL for
a few dozen steps (far too few to be valid: these tests check plumbing and properties,
not quality), then explanation, plots, the baseline in its own process, and metrics.
"""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import explain_cfrl
import fit_cfrl
import plot_cfrl_reconstructions
import plot_cfrl_training
import plot_counterfactuals
import prepare_cfrl_data
import summarize_cfrl
import time_counterfactuals
import train_cfrl_autoencoder
import train_cfrl_classifier
import train_cfrl_scorers
from conftest import REPO
from xai_repro.cfrl.training import AutoencoderError
from xai_repro.common import InputError

pytestmark = pytest.mark.slow

AE = {"latent_dim": 8, "hidden_dim": 32}
CFRL = {
    "coeff_sparsity": 7.5,
    "sparsity_warmup_steps": 20,
    "coeff_consistency": 0.0,
    "train_steps": 40,
    "batch_size": 32,
    "actor_hidden_dim": 32,
    "critic_hidden_dim": 32,
    "replay_buffer_size": 100,
    "exploration_steps": 10,
    "update_after": 5,
    "log_every": 10,
}
EXPLAIN = {"n_instances": 4, "batch_size": 100, "repeats": 2}
VALIDATION = {"n_instances": 3, "every": 20}
BASELINE = {
    "n_instances": 2,
    "targets_per_image": 2,
    "shards": 2,
    "target_proba": 1.0,
    "tol": 0.05,
    "max_iter": 30,
    "early_stop": 10,
    "lam_init": 0.1,
    "max_lam_steps": 2,
    "learning_rate_init": 0.1,
}
SCORING = {
    "hidden_dim": 16,
    "latent_dim": 4,
    "epochs": 2,
    "batch_size": 32,
    "learning_rate": 1e-3,
    "seed_offset": 1000,
}
METRIC_KEYS = {
    "classifier",
    "autoencoder",
    "test_images",
    "cfrl",
    "cfrl_own_class",
    "paired",
    "autoencoder_floor",
    "acceptance",
    "validation",
    "speed",
}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Dataset and classifier shared by the tests of this module."""
    d = tmp_path_factory.mktemp("cfrl")
    prepare_cfrl_data.main(
        d / "dataset.npz",
        dataset="digits",
        seed=0,
        digits={"test_fraction": 0.2},
        mnist={},
        validation_fraction=0.1,
    )
    train_cfrl_classifier.main(
        d / "dataset.npz",
        d / "classifier.npz",
        d / "classifier.json",
        seed=0,
        epochs=3,
        batch_size=64,
        learning_rate=1e-3,
    )
    return d


def _settings(backend):
    """fit/explain keyword arguments of the 8x8 test pipeline."""
    return {"seed": 0, "image_size": 8, "autoencoder": AE, "cfrl": {**CFRL, "backend": backend}}


def _run_backend(d, backend):
    ext = "npz" if backend == "tensorflow" else "pt"
    out = {
        name: d / f"{backend}_{name}"
        for name in ("ae", "ae.json", "actor", "log.csv", "fit.json", "cf.npz", "cf.json")
    }
    out["ae"] = d / f"{backend}_autoencoder.{ext}"
    out["actor"] = d / f"{backend}_actor.{ext}"
    train_cfrl_autoencoder.main(
        d / "dataset.npz",
        out["ae"],
        out["ae.json"],
        seed=0,
        backend=backend,
        epochs=2,
        batch_size=64,
        learning_rate=1e-3,
        max_val_mse_ratio=None,  # 2 epochs: plumbing only, not yet past the mean image
        **AE,
    )
    settings = _settings(backend)
    models = (d / "dataset.npz", d / "classifier.npz", out["ae"], out["actor"])
    fit_cfrl.main(*models, out["log.csv"], out["fit.json"], validation=VALIDATION, **settings)
    explain_cfrl.main(*models, out["cf.npz"], out["cf.json"], explain=EXPLAIN, **settings)
    return out


def test_autoencoder_no_better_than_the_mean_image_fails_and_writes_nothing(trained):
    out = trained / "stalled"
    with pytest.raises(AutoencoderError, match="training mean image.*max_val_mse_ratio = 1e-06"):
        train_cfrl_autoencoder.main(
            trained / "dataset.npz",
            out.with_suffix(".pt"),
            out.with_suffix(".json"),
            seed=0,
            backend="pytorch",
            epochs=1,
            batch_size=64,
            learning_rate=1e-3,
            max_val_mse_ratio=1e-6,  # a bound no autoencoder of this size meets
            **AE,
        )
    assert not out.with_suffix(".pt").exists() and not out.with_suffix(".json").exists()


@pytest.mark.parametrize("backend", ["tensorflow", "pytorch"])
def test_fit_and_explain_every_target(trained, backend):
    out = _run_backend(trained, backend)
    log = pd.read_csv(out["log.csv"])
    assert list(log["step"])[:3] == [10, 20, 30] and log["step"].iloc[-1] == 39
    assert log["reward"].between(0, 1).all() and log["actor_loss"].notna().all()
    # the sparsity coefficient ramps up over the first 20 steps (stairs of 0.75; step 10 used 3.75), then holds
    assert list(log["coeff_sparsity"])[:3] == pytest.approx([3.75, 7.5, 7.5])
    with np.load(out["cf.npz"]) as cf:
        assert cf["x_cf"].shape == (40, 8, 8, 1)
        np.testing.assert_array_equal(cf["target"], np.tile(np.arange(10), 4))
        assert cf["x_cf"].min() >= 0 and cf["x_cf"].max() <= 1
    timing = json.loads(out["cf.json"].read_text())
    assert timing["n_counterfactuals"] == 40 and timing["seconds_per_counterfactual"]["n"] == 2
    fit = json.loads(out["fit.json"].read_text())
    # validity on 3 validation images x 9 other classes at step 20 and after the last step
    assert [row["step"] for row in fit["validation"]] == [20, 39]
    assert all(row["n"] == 27 and 0 <= row["validity"] <= 1 for row in fit["validation"])
    assert 0 < fit["cpu_seconds"] and fit["validation_cpu_seconds"] > 0


def test_explanations_do_not_depend_on_the_batch_size(trained):
    """CFRL is one deterministic forward pass: batched equals unbatched."""
    out = _run_backend(trained, "tensorflow")
    small = trained / "cf_small.npz"
    models = (trained / "dataset.npz", trained / "classifier.npz", out["ae"], out["actor"])
    explain = {**EXPLAIN, "batch_size": 7}
    explain_cfrl.main(
        *models, small, trained / "cf_small.json", explain=explain, **_settings("tensorflow")
    )
    with np.load(out["cf.npz"]) as a, np.load(small) as b:
        np.testing.assert_allclose(a["x_cf"], b["x_cf"], atol=1e-5)


def test_bad_actor_checkpoint_is_refused_and_nothing_written(trained):
    out = _run_backend(trained, "pytorch")
    bad = trained / "bad_actor.pt"
    bad.write_bytes(out["actor"].read_bytes()[:64])
    target = trained / "never.npz"
    with pytest.raises(InputError, match="bad_actor.pt"):
        models = (trained / "dataset.npz", trained / "classifier.npz", out["ae"], bad)
        explain_cfrl.main(
            *models, target, trained / "never.json", explain=EXPLAIN, **_settings("pytorch")
        )
    assert not target.exists()


def _baseline_shard(d, shard, baseline=BASELINE, n_explained=EXPLAIN["n_instances"]):
    """One baseline shard in its own process (TF1 graph mode), as under Snakemake."""
    code = (
        "import search_baseline_counterfactuals;"
        f"search_baseline_counterfactuals.main({str(d / 'dataset.npz')!r}, {str(d / 'classifier.npz')!r}, "
        f"{str(d / f'baseline_{shard}.npz')!r}, {str(d / f'baseline_{shard}.json')!r}, "
        f"seed=0, image_size=8, n_explained={n_explained}, baseline={baseline!r}, "
        f"shard={shard!r})"
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO / "scripts" / "cfrl", capture_output=True, text=True
    )


def test_baseline_plots_and_metrics(trained):
    out = _run_backend(trained, "tensorflow")
    d = trained
    shards = []
    for shard in ("0", "1"):
        proc = _baseline_shard(d, shard)
        assert proc.returncode == 0, proc.stderr[-3000:]
        shards.append(dict(np.load(d / f"baseline_{shard}.npz")))
    target = np.concatenate([s["target"] for s in shards])
    instance = np.concatenate([s["instance"] for s in shards])
    found = np.concatenate([s["found"] for s in shards])
    x_cf = np.concatenate([s["x_cf"] for s in shards])
    assert len(target) == BASELINE["n_instances"] * BASELINE["targets_per_image"]
    assert all((s["target"] % 2 == k).all() for k, s in enumerate(shards))
    with np.load(out["cf.npz"]) as cf:
        y_pred = cf["y_pred"]
    assert (target != y_pred[instance]).all()  # never the image's own class

    train_cfrl_scorers.main(
        d / "dataset.npz", d / "scorers.pt", d / "scorers.json", seed=0, scoring=SCORING
    )
    plot_cfrl_training.main(out["log.csv"], d / "training.png")
    plot_counterfactuals.main(
        out["cf.npz"], d / "pairs.png", d / "grid.png", d / "diff.png", plot_target=2, n_examples=3
    )
    plot_cfrl_reconstructions.main(
        d / "dataset.npz", out["ae"], d / "rec.png", seed=0, image_size=8,
        backend="tensorflow", autoencoder=AE, n_examples=4,
    )  # fmt: skip
    for name in ("training.png", "pairs.png", "grid.png", "diff.png", "rec.png"):
        assert (d / name).stat().st_size > 1000

    time_counterfactuals.main(
        d / "dataset.npz", d / "classifier.npz", out["ae"], out["actor"], d / "timing.json",
        explain=EXPLAIN, baseline=BASELINE, speed={"n_searches": 3, "rounds": 2},
        **_settings("tensorflow"),
    )  # fmt: skip
    timing = json.loads((d / "timing.json").read_text())
    assert timing["baseline"]["cpu"]["n"] == 3 and timing["cfrl"]["cpu"]["n"] == 2
    assert timing["n_cfrl_counterfactuals"] == 10 * EXPLAIN["n_instances"]
    # a search is an optimization per counterfactual, CFRL one forward pass of a batch
    assert timing["baseline"]["cpu"]["median"] > timing["cfrl"]["cpu"]["median"] > 0

    acceptance = {"target_proba": BASELINE["target_proba"], "tol": BASELINE["tol"]}
    summarize_cfrl.main(
        d / "dataset.npz", d / "classifier.npz", d / "classifier.json", out["ae"],
        out["ae.json"], d / "scorers.pt", out["fit.json"], out["cf.npz"], d / "timing.json",
        [d / "baseline_0.npz", d / "baseline_1.npz"], d / "metrics.json",
        dataset="digits", image_size=8, backend="tensorflow", autoencoder=AE, scoring=SCORING,
        acceptance=acceptance, l0_tolerance=0.05,
    )  # fmt: skip
    metrics = json.loads((d / "metrics.json").read_text())
    assert METRIC_KEYS <= set(metrics)
    cfrl = metrics["cfrl"]
    n_own = EXPLAIN["n_instances"]
    assert cfrl["validity"]["n"] == 9 * n_own
    assert metrics["cfrl_own_class"]["validity"]["n"] == n_own
    assert metrics["paired"]["n"] == len(target)
    paired = metrics["paired"]
    for part in (cfrl, paired["cfrl"], paired["baseline"]):
        for rule in ("validity", "validity_strict"):
            v = part[rule]
            assert v["wilson95"][0] <= v["validity"] <= v["wilson95"][1]
        # alibi's rule (tol < 0.5) implies the top class; quality over the valid ones only
        assert part["validity_strict"]["valid"] <= part["validity"]["valid"]
        assert part["sparsity_n"] == part["validity"]["valid"]
    both = paired["both_valid"]
    assert both["n"] <= min(
        paired["cfrl"]["validity"]["valid"], paired["baseline"]["validity"]["valid"]
    )
    assert both["cfrl"]["sparsity_n"] == both["baseline"]["sparsity_n"] == both["n"]
    speed = metrics["speed"]
    cpu = speed["baseline_seconds_per_counterfactual"]["cpu"]["median"]
    assert speed["speedup"] == pytest.approx(
        cpu / speed["cfrl_seconds_per_counterfactual"]["cpu"]["median"]
    )
    assert speed["amortised"]["n"] == cfrl["validity"]["n"]
    assert speed["amortised"]["training_seconds"] == speed["fit_cpu_seconds"]
    assert speed["amortised_with_autoencoder"]["training_seconds"] == pytest.approx(
        speed["fit_cpu_seconds"] + speed["autoencoder_cpu_seconds"]
    )
    assert metrics["validation"]["cfrl_validity"]["step"] == CFRL["train_steps"] - 1
    # a search that alibi reports as found has p_target >= 1 - tol > 0.5: the same
    # classifier must assign it to its target
    from xai_repro.cfrl.models import keras_predictor, load_classifier

    pred = keras_predictor(load_classifier(d / "classifier.npz", 8))(x_cf).argmax(axis=1)
    assert (pred[found] == target[found]).all()
    assert metrics["paired"]["baseline"]["validity"]["valid"] >= found.sum()


def test_baseline_refuses_more_instances_than_explained(trained):
    proc = _baseline_shard(trained, "0", n_explained=1)
    assert proc.returncode != 0 and "n_instances" in proc.stderr


@pytest.mark.parametrize("backend", ["tensorflow", "pytorch"])
def test_mnist_sized_pipeline_from_idx_files(tmp_path, backend):
    """28x28 images in MNIST's IDX files through the seed's networks (both backends)."""
    from scipy.ndimage import zoom
    from sklearn.datasets import load_digits

    from xai_repro.cfrl.data import IDX_FILES, write_idx

    digits = load_digits()
    # 8x8 digits (0-16) scaled up to MNIST's 28x28 uint8 format
    images = np.clip(zoom(digits.images[:300], (1, 3.5, 3.5), order=1) * 16, 0, 255)
    images = images.astype(np.uint8)
    assert images.shape == (300, 28, 28)
    labels = digits.target[:300].astype(np.uint8)
    raw = {
        "x_train": images[:240],
        "y_train": labels[:240],
        "x_test": images[240:],
        "y_test": labels[240:],
    }
    mnist_dir = tmp_path / "mnist"
    mnist_dir.mkdir()
    for key, name in IDX_FILES.items():
        write_idx(mnist_dir / name, raw[key])
    d = tmp_path
    mnist = {
        "path": str(mnist_dir),
        "format": "idx",
        "allow_download": False,
        "from_test_set": None,
    }
    prepare_cfrl_data.main(
        d / "dataset.npz", dataset="mnist", seed=0, digits={}, mnist=mnist, validation_fraction=0.1
    )
    train_cfrl_classifier.main(
        d / "dataset.npz", d / "classifier.npz", d / "classifier.json",
        seed=0, epochs=1, batch_size=64, learning_rate=1e-3,
    )  # fmt: skip
    ae = {"latent_dim": 16, "hidden_dim": 32}
    ext = "npz" if backend == "tensorflow" else "pt"
    train_cfrl_autoencoder.main(
        d / "dataset.npz", d / f"ae.{ext}", d / "ae.json", seed=0, backend=backend,
        epochs=1, batch_size=64, learning_rate=1e-3, max_val_mse_ratio=None, **ae,
    )  # fmt: skip
    cfrl = {**CFRL, "backend": backend, "train_steps": 20}
    fit_cfrl.main(
        d / "dataset.npz", d / "classifier.npz", d / f"ae.{ext}", d / f"actor.{ext}",
        d / "log.csv", d / "fit.json", seed=0, image_size=28, autoencoder=ae, cfrl=cfrl,
        validation=VALIDATION,
    )  # fmt: skip
    explain_cfrl.main(
        d / "dataset.npz", d / "classifier.npz", d / f"ae.{ext}", d / f"actor.{ext}",
        d / "cf.npz", d / "cf.json", seed=0, image_size=28, autoencoder=ae, cfrl=cfrl,
        explain={**EXPLAIN, "n_instances": 2},
    )  # fmt: skip
    with np.load(d / "cf.npz") as cf:
        assert cf["x_cf"].shape == (20, 28, 28, 1)
        assert np.isfinite(cf["x_cf"]).all()
