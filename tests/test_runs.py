"""The run sheet (config/runs.yaml): runs side by side under results/<run>/, their names,
the selection, and a changed overlay rerunning only its own run's jobs."""

import pytest
import yaml

from conftest import run_snakemake
from workflow_state import executed_jobs
from xai_repro.common import InputError
from xai_repro.common.runs import adhoc_name, in_run, merge, selected_names

# Duffing's data simulation only: seconds per run, no TensorFlow
SAMPLES = "results/{run}/duffing/data/samples.csv"


def _write(workdir, rel, data):
    path = workdir / rel
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return rel


def _two_runs(workdir):
    """A sheet of two small runs, a and b, with their own overlays."""
    overlay = {"studies": ["duffing"], "duffing": {"sampling": {"n_trajectories": 12}}}
    _write(workdir, "config/a.yaml", overlay)
    _write(workdir, "config/b.yaml", overlay)
    sheet = {
        name: {"overlay": f"config/{name}.yaml", "size": "laptop", "cost": "seconds"}
        for name in ("a", "b")
    }
    _write(workdir, "config/runs.yaml", sheet)


def test_changed_overlay_reruns_only_its_run(workflow_copy):
    _two_runs(workflow_copy)
    targets = [SAMPLES.format(run=run) for run in ("a", "b")]
    run_snakemake(workflow_copy, "--cores", "1", "--config", "runs=a,b", "--", *targets)
    for target in targets:
        assert (workflow_copy / target).stat().st_size > 0
    assert (workflow_copy / "logs/a/duffing/simulate_duffing.log").exists()
    assert (workflow_copy / "benchmarks/b/duffing/simulate_duffing.tsv").exists()
    dry = ("--dry-run", "--config", "runs=a,b", "--", *targets)
    assert executed_jobs(run_snakemake(workflow_copy, *dry).stdout) == {}
    overlay = yaml.safe_load((workflow_copy / "config/b.yaml").read_text())
    overlay["duffing"]["sampling"]["n_trajectories"] = 13
    _write(workflow_copy, "config/b.yaml", overlay)
    assert executed_jobs(run_snakemake(workflow_copy, *dry).stdout) == {
        ("b", "simulate_duffing"): 1
    }


def test_adhoc_run_is_named_by_its_run_key_or_file(workflow_copy):
    overlay = {"studies": ["duffing"]}
    _write(workflow_copy, "config/my_trial.yaml", overlay)
    proc = run_snakemake(workflow_copy, "--dry-run", "--configfile", "config/my_trial.yaml")
    assert "results/my_trial/duffing/metrics.json" in proc.stdout
    _write(workflow_copy, "config/my_trial.yaml", {**overlay, "run": "renamed"})
    proc = run_snakemake(workflow_copy, "--dry-run", "--configfile", "config/my_trial.yaml")
    assert "results/renamed/duffing/metrics.json" in proc.stdout
    assert "results/my_trial/" not in proc.stdout


def test_default_invocation_is_the_default_run_and_selections_combine(workflow_copy):
    proc = run_snakemake(workflow_copy, "--dry-run")
    assert "results/default/highway/metrics.json" in proc.stdout
    assert "results/mnist/" not in proc.stdout
    proc = run_snakemake(workflow_copy, "--dry-run", "--config", "runs=default,mnist")
    assert "results/mnist/cfrl/metrics.json" in proc.stdout
    assert "results/paper/" not in proc.stdout
    proc = run_snakemake(workflow_copy, "--dry-run", "--config", "runs=laptop")
    assert "results/mmn_pong_400/diffig/metrics.json" in proc.stdout
    assert "results/paper/" not in proc.stdout


def test_unknown_run_is_refused_naming_the_sheet(workflow_copy):
    proc = run_snakemake(workflow_copy, "--dry-run", "--config", "runs=nope", check=False)
    assert proc.returncode != 0
    assert "'nope' is not a run of config/runs.yaml" in proc.stdout


def test_bad_sheet_is_refused_naming_the_key(workflow_copy):
    _write(
        workflow_copy, "config/runs.yaml", {"x": {"overlay": "config/test.yaml", "size": "huge"}}
    )
    proc = run_snakemake(workflow_copy, "--dry-run", check=False)
    assert proc.returncode != 0
    assert "huge" in proc.stdout or "cost" in proc.stdout


def test_merge_replaces_leaves_and_keeps_other_sections():
    base = {"a": {"b": 1, "c": [1, 2]}, "d": 3}
    merged = merge(base, {"a": {"c": [5]}, "e": {"f": 1}})
    assert merged == {"a": {"b": 1, "c": [5]}, "d": 3, "e": {"f": 1}}
    assert base == {"a": {"b": 1, "c": [1, 2]}, "d": 3}  # a copy


def test_in_run_moves_run_folders_only_once():
    assert in_run("results/cfrl/x.npz", "mnist") == "results/mnist/cfrl/x.npz"
    assert in_run("logs/fetch/a.log", "r") == "logs/r/fetch/a.log"
    assert in_run("results/mnist/cfrl/x.npz", "mnist") == "results/mnist/cfrl/x.npz"
    assert in_run("resources/mmn/pong_gru_32.p", "mnist") == "resources/mmn/pong_gru_32.p"


def test_selection_words():
    sheet = {
        "a": {"overlay": "a.yaml", "size": "laptop", "cost": ""},
        "b": {"overlay": "b.yaml", "size": "cluster", "cost": ""},
    }
    assert selected_names("a, b,a", sheet, "s") == ["a", "b"]
    assert selected_names(["cluster"], sheet, "s") == ["b"]
    assert selected_names("all", sheet, "s") == ["a", "b"]
    with pytest.raises(InputError, match="'c' is not a run of s"):
        selected_names("c", sheet, "s")
    assert adhoc_name("config/b.yaml", {}, {"x": {"overlay": "config/b.yaml"}}) == "x"
    assert adhoc_name("config/b.yaml", {"run": "y"}, {}) == "y"
    assert adhoc_name("other/b.yaml", {}, {}) == "b"
