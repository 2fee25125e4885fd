"""The workflow as a whole: config validation, dry-runs of every config, the test config end to end."""

import json
import shutil

import pytest
import yaml

from conftest import REPO, run_snakemake
from workflow_state import completed_test_run

CONFIGS = ["config/config.yaml", "config/test.yaml", "config/paper.yaml"]


@pytest.mark.parametrize("configfile", CONFIGS)
def test_dry_run(workflow_copy, configfile):
    proc = run_snakemake(workflow_copy, "--dry-run", "--configfile", configfile)
    config = yaml.safe_load((REPO / configfile).read_text())
    for study in config["studies"]:
        assert f"results/{study}/metrics.json" in proc.stdout, study


def _write_config(workdir, mutate):
    config = yaml.safe_load((REPO / "config/test.yaml").read_text())
    mutate(config)
    path = workdir / "config" / "bad.yaml"
    path.write_text(yaml.safe_dump(config))
    # replace the default configfile too, so no key of it is merged in
    shutil.copy(path, workdir / "config" / "config.yaml")
    return "config/bad.yaml"


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda c: c["duffing"]["sampling"].update(n_trajectoris=3), "n_trajectoris"),
        (lambda c: c["duffing"]["surrogate"].update(epochs="many"), "epochs"),
        (lambda c: c["duffing"]["explain"].update(explainers=["deep_shap"]), "deep_shap"),
        (lambda c: c["duffing"]["sampling"].update(test_fraction=1.5), "test_fraction"),
        (lambda c: c.update(studdies=["duffing"]), "studdies"),
        (lambda c: c["duffing"].pop("seed"), "seed"),
    ],
    ids=[
        "misspelled-key",
        "wrong-type",
        "bad-enum",
        "out-of-range",
        "top-level-key",
        "missing-key",
    ],
)
def test_invalid_config_is_refused_naming_the_key(workflow_copy, mutate, expected):
    configfile = _write_config(workflow_copy, mutate)
    proc = run_snakemake(workflow_copy, "--dry-run", "--configfile", configfile, check=False)
    assert proc.returncode != 0
    assert expected in proc.stdout
    assert not (workflow_copy / "results").exists()


def test_every_rule_has_log_benchmark_threads_resources_conda(workflow_copy):
    proc = run_snakemake(workflow_copy, "--lint", "--configfile", "config/test.yaml", check=False)
    assert "Lints for" not in proc.stdout, proc.stdout
    assert proc.returncode == 0, proc.stdout


@pytest.mark.slow
def test_test_config_end_to_end():
    """The whole DAG at toy size (the session's shared run): every study's metrics and
    figures and the scorecard; a second run has nothing to do. The report of this run is
    built and opened in a browser by tests/test_report.py."""
    work = completed_test_run()
    config = yaml.safe_load((REPO / "config/test.yaml").read_text())
    for study in config["studies"]:
        metrics = json.loads((work / "results" / study / "metrics.json").read_text())
        assert metrics, study
        figures = list((work / "results" / study / "figures").glob("*"))
        assert figures and all(f.stat().st_size > 1000 for f in figures), study
    card = json.loads((work / "results" / "scorecard.json").read_text())
    assert card["config"] == "test" and card["studies"] == config["studies"]
    assert (work / "results" / "scorecard.md").read_text().startswith("# Reproduction scorecard")
    again = run_snakemake(work, "--cores", "2", "--configfile", "config/test.yaml", "--dry-run")
    assert "Nothing to be done" in again.stdout
