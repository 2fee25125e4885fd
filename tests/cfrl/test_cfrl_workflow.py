"""The counterfactual study through Snakemake: config validation and the test config end to end."""

import json

import numpy as np
import pytest
import yaml

from conftest import REPO, run_snakemake

TARGETS = [
    "results/test/cfrl/metrics.json",
    "results/test/cfrl/figures/training_curves.png",
    "results/test/cfrl/figures/counterfactuals.png",
    "results/test/cfrl/figures/target_grid.png",
    "results/test/cfrl/figures/difference_maps.png",
    "results/test/cfrl/figures/reconstructions.png",
]


def _config(workdir, mutate):
    config = yaml.safe_load((REPO / "config/test.yaml").read_text())
    mutate(config)
    path = workdir / "config" / "cfrl_case.yaml"
    path.write_text(yaml.safe_dump(config))
    (workdir / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    return "config/cfrl_case.yaml"


CASES = {
    "bad-backend": (lambda c: c["cfrl"]["cfrl"].update(backend="jax"), "jax"),
    "negative-coefficient": (
        lambda c: c["cfrl"]["cfrl"].update(coeff_sparsity=-1),
        "coeff_sparsity",
    ),
    "misspelled-key": (lambda c: c["cfrl"]["mnist"].update(fromat="idx"), "fromat"),
    "bad-class": (lambda c: c["cfrl"]["explain"].update(plot_target=10), "plot_target"),
    "missing-section": (lambda c: c["cfrl"].pop("baseline"), "baseline"),
    "bad-dataset": (lambda c: c["cfrl"].update(dataset="cifar"), "cifar"),
    "ten-targets": (lambda c: c["cfrl"]["baseline"].update(targets_per_image=10), "targets_per"),
    "no-scorers": (lambda c: c["cfrl"].pop("scoring"), "scoring"),
    "no-validation-split": (lambda c: c["cfrl"]["validation"].update(fraction=0), "fraction"),
    "no-speed": (lambda c: c["cfrl"].pop("speed"), "speed"),
}


@pytest.mark.parametrize(("mutate", "expected"), CASES.values(), ids=CASES.keys())
def test_invalid_cfrl_config_is_refused_naming_the_key(workflow_copy, mutate, expected):
    args = ("--dry-run", "--configfile", _config(workflow_copy, mutate))
    proc = run_snakemake(workflow_copy, *args, check=False)
    assert proc.returncode != 0 and expected in proc.stdout


@pytest.mark.slow
def test_missing_mnist_fails_naming_the_path_and_writes_nothing(workflow_copy):
    def use_mnist(c):
        c["cfrl"]["dataset"] = "mnist"
        c["cfrl"]["mnist"]["path"] = "data/nowhere/mnist.npz"

    configfile = _config(workflow_copy, use_mnist)
    target = "results/cfrl_case/cfrl/data/dataset.npz"
    proc = run_snakemake(
        workflow_copy, target, "--cores", "1", "--configfile", configfile, check=False
    )
    # the MNIST file is an input of prepare_cfrl_data: missing, the DAG is refused
    assert proc.returncode != 0
    assert "MissingInputException" in proc.stdout and "data/nowhere/mnist.npz" in proc.stdout
    assert not (workflow_copy / "results").exists()


@pytest.mark.slow
def test_cfrl_test_config_end_to_end(workflow_copy):
    run_snakemake(workflow_copy, *TARGETS, "--cores", "2", "--configfile", "config/test.yaml")
    metrics = json.loads((workflow_copy / "results/test/cfrl/metrics.json").read_text())
    for key in ("classifier", "cfrl", "cfrl_own_class", "paired", "autoencoder_floor", "speed"):
        assert key in metrics, key
    assert 0.5 < metrics["classifier"]["accuracy"] <= 1
    # 2 images x 1 seeded non-own target, over 2 shards; CFRL: 10 images x 9 non-own targets
    assert metrics["paired"]["n"] == 2 and metrics["cfrl"]["validity"]["n"] == 90
    speed = metrics["speed"]
    cpu = {
        m: speed[f"{m}_seconds_per_counterfactual"]["cpu"]["median"] for m in ("cfrl", "baseline")
    }
    assert 0 < cpu["cfrl"] < cpu["baseline"]
    assert speed["amortised"]["n"] == 90 and speed["amortised"]["training_seconds"] > 0
    assert metrics["validation"]["cfrl_validity"]["n"] == 20 * 9
    for target in TARGETS[1:]:
        assert (workflow_copy / target).stat().st_size > 1000
    log = (workflow_copy / "results/test/cfrl/training_log.csv").read_text().splitlines()
    assert log[0].startswith("step,seconds,reward") and len(log) > 2
    with np.load(workflow_copy / "results/test/cfrl/counterfactuals/cfrl.npz") as cf:
        assert cf["x_cf"].shape[0] == 10 * cf["x"].shape[0]
    again = run_snakemake(workflow_copy, *TARGETS, "--dry-run", "--configfile", "config/test.yaml")
    assert "Nothing to be done" in again.stdout
