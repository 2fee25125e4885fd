"""The workflow as a whole: config validation, dry-runs of every run of the sheet and of
every config file, the script each job of the DAG runs, the test config end to end."""

import json
import re
import shutil
import subprocess
import sys

import pytest
import yaml

from conftest import REPO, run_snakemake, workflow_env
from workflow_state import completed_test_run

SHEET = yaml.safe_load((REPO / "config/runs.yaml").read_text())
# every run config: the sheet's overlays and any other config file (config/test.yaml)
CONFIGS = sorted(
    str(p.relative_to(REPO))
    for p in (REPO / "config").glob("*.yaml")
    if p.name not in ("runs.yaml", "downloads.yaml")
)


def _studies(configfile):
    """A config file's studies, as the run merges them (over config/config.yaml)."""
    for path in (REPO / configfile, REPO / "config/config.yaml"):
        studies = yaml.safe_load(path.read_text()).get("studies")
        if studies:
            return studies


def test_dry_run_of_the_whole_sheet(workflow_copy):
    """Every run of config/runs.yaml in one invocation, each under results/<run>/."""
    proc = run_snakemake(workflow_copy, "--dry-run", "--config", "runs=all")
    for run, entry in SHEET.items():
        # a seeds run writes each seed k under results/<run>/seed<k>/
        folders = [f"{run}/seed{k}" for k in entry["seeds"]] if "seeds" in entry else [run]
        for study in entry.get("studies") or _studies(entry["overlay"]):
            for folder in folders:
                assert f"results/{folder}/{study}/metrics.json" in proc.stdout, (folder, study)
    assert "results/scorecard.json" in proc.stdout
    # the external files are fetched as jobs of the DAG (the paper run's full MNIST too)
    for download in ("mnist/mnist.npz", "mnist/t10k-images-idx3-ubyte.gz", "mmn/pong_gru_32.p"):
        assert f"output: resources/{download}" in proc.stdout, download


@pytest.mark.parametrize("configfile", CONFIGS)
def test_dry_run(workflow_copy, configfile):
    """Each config file as a --configfile run, named by the sheet or by the file's stem."""
    proc = run_snakemake(workflow_copy, "--dry-run", "--configfile", configfile)
    # the first run of the sheet without seeds whose overlay is the file
    by_overlay = {e["overlay"]: r for r, e in reversed(SHEET.items()) if "seeds" not in e}
    run = by_overlay.get(configfile, configfile.removeprefix("config/").removesuffix(".yaml"))
    for study in _studies(configfile):
        assert f"results/{run}/{study}/metrics.json" in proc.stdout, study


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


# Snakemake evaluates a rule's script: expression twice: when the workflow is parsed (the path
# the DAG and --summary see) and again in the rule's generated run function when the job runs
# (the code trigger records the text of the script: line, not the path). A module-level name
# in it (a loop variable) is read then, after the loop has moved on, and the job runs another
# rule's script while every dry run shows its own. So: the run function reads no global
# besides `script` and `config` (its own call), and a job that writes
# highway/analysis/<stem>.json is of the rule <stem> and resolves scripts/highway/<stem>.py.
# The snippet reaches into Snakemake 9's DAG and jobs (no public API lists a job's script).
_SCRIPTS_OF_THE_DAG = """
import json
from pathlib import Path

from snakemake.api import SnakemakeApi
from snakemake.settings.types import (
    ConfigSettings, DAGSettings, OutputSettings, ResourceSettings,
)

with SnakemakeApi(OutputSettings(quiet={"all"})) as api:
    workflow = api.workflow(
        resource_settings=ResourceSettings(cores=1),
        config_settings=ConfigSettings(configfiles=[Path("config/test.yaml")]),
        snakefile=Path("Snakefile"),
    ).dag(dag_settings=DAGSettings()).workflow_api._workflow
    workflow._prepare_dag(forceall=False, ignore_incomplete=True, lock_warn_only=True)
    workflow._build_dag()
    jobs = [
        {
            "rule": job.rule.name,
            "outputs": list(map(str, job.output)),
            "script": str(
                Path(job._path_to_source_file(job.rule.script).get_path_or_uri(secret_free=True))
                .resolve()
                .relative_to(Path.cwd().resolve())
            ),
            "globals": sorted(set(job.rule.run_func.__code__.co_names) - {"script", "config"}),
        }
        for job in workflow.dag.jobs
        if job.rule.script
    ]
print("JOBS", json.dumps(jobs))
"""


def test_every_job_runs_its_own_rule_script(workflow_copy):
    proc = subprocess.run(
        [sys.executable, "-c", _SCRIPTS_OF_THE_DAG],
        cwd=workflow_copy,
        env=workflow_env(workflow_copy),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-6000:]
    jobs = json.loads(proc.stdout.split("JOBS ", 1)[1])
    late = {job["rule"]: job["globals"] for job in jobs if job["globals"]}
    assert not late, f"script paths read module globals when the job runs: {late}"
    analyses = {}
    for job in jobs:
        for output in job["outputs"]:
            if match := re.fullmatch(r"results/.+/highway/analysis/(\w+)\.json", output):
                analyses[job["rule"]] = (match[1], job["script"], f"scripts/highway/{match[1]}.py")
    assert len(analyses) > 8, analyses  # the eight analyses and collect_states_highway
    # the stem names the rule (<run>__<rule>, as tests/test_layout.py takes it) and its script
    assert {rule: a for rule, a in analyses.items() if not rule.endswith(f"__{a[0]}")} == {}
    assert {rule: a for rule, a in analyses.items() if a[1] != a[2]} == {}


def test_every_rule_has_log_benchmark_threads_resources_conda(workflow_copy):
    proc = run_snakemake(workflow_copy, "--lint", "--configfile", "config/test.yaml", check=False)
    assert "Lints for" not in proc.stdout, proc.stdout
    assert proc.returncode == 0, proc.stdout


@pytest.mark.slow
def test_test_config_end_to_end():
    """The whole DAG at toy size (the test run's shared workflow run): every study's metrics and
    figures and the scorecard; a second run has nothing to do. The report of this run is
    built and opened in a browser by tests/test_report.py."""
    work = completed_test_run()
    config = yaml.safe_load((REPO / "config/test.yaml").read_text())
    for study in config["studies"]:
        metrics = json.loads((work / "results" / "test" / study / "metrics.json").read_text())
        assert metrics, study
        figures = list((work / "results" / "test" / study / "figures").glob("*"))
        assert figures and all(f.stat().st_size > 1000 for f in figures), study
    card = json.loads((work / "results" / "scorecard.json").read_text())
    run = card["runs"]["test"]
    assert {k: run[k] for k in ("size", "built", "studies")} == {
        "size": "ad hoc",
        "built": True,
        "studies": config["studies"],
    }
    assert (work / "results" / "scorecard.md").read_text().startswith("# Reproduction scorecard")
    again = run_snakemake(work, "--cores", "2", "--configfile", "config/test.yaml", "--dry-run")
    assert "Nothing to be done" in again.stdout
