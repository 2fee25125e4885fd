"""The run sheet (config/runs.yaml): runs side by side under results/<run>/, their names,
the selection, a changed overlay rerunning only its own run's jobs, and seeds runs: each
seed k under results/<run>/seed<k>/ with every study's training seed set to k."""

import pytest
import yaml

from conftest import run_snakemake
from workflow_state import executed_jobs
from xai_repro.common import InputError
from xai_repro.common.runs import (
    TRAINING_SEEDS,
    adhoc_name,
    in_run,
    instances,
    merge,
    read_sheet,
    run_folder,
    seed_of,
    seed_paths,
    seeded_config,
    selected_names,
)

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


def _seeds_sheet(workdir, **entry):
    """A sheet of run a (no seeds) and seeds run r (seeds 0 and 2), both small duffing."""
    overlay = {"studies": ["duffing"], "duffing": {"sampling": {"n_trajectories": 12}}}
    _write(workdir, "config/a.yaml", overlay)
    sheet = {
        "a": {"overlay": "config/a.yaml", "size": "laptop", "cost": "seconds"},
        "r": {
            "overlay": "config/a.yaml",
            "size": "laptop",
            "cost": "seconds",
            "seeds": [0, 2],
            "compare_as": "a",
            **entry,
        },
    }
    _write(workdir, "config/runs.yaml", sheet)


def test_seeds_run_layout_in_a_dry_run(workflow_copy):
    """Each seed k of run r: results/, logs/, benchmarks/ under r/seed<k>/, rules named
    r_seed<k>__<rule>; the run without seeds keeps results/a/<study>/; the scorecard reads
    every seed's metrics and draws the run's seeds figure; the stability rules compare them
    into the run's own metrics.json, which the scorecard does not read."""
    _seeds_sheet(workflow_copy)
    proc = run_snakemake(workflow_copy, "--dry-run", "--config", "runs=a,r")
    for k in (0, 2):
        assert f"results/r/seed{k}/duffing/metrics.json" in proc.stdout
        assert f"logs/r/seed{k}/duffing/train_surrogate.log" in proc.stdout
        assert f"benchmarks/r/seed{k}/duffing/train_surrogate.tsv" in proc.stdout
        assert f"rule r_seed{k}__train_surrogate:" in proc.stdout
    assert "results/r/seed1/" not in proc.stdout
    # under results/r/<study>/ only what compares the seeds: the run's metrics.json holds
    # their attribution stability, and their training curves are drawn together
    assert "rule r__" not in proc.stdout
    assert "output: results/r/duffing/metrics.json, results/r/duffing/figures/stability.png" in (
        proc.stdout
    )
    assert "output: results/r/duffing/figures/training_over_seeds.png" in proc.stdout
    # the scorecard reads each seed's metrics.json, never the run's
    scorecard_input = proc.stdout.split("rule build_scorecard:\n")[1].splitlines()[0]
    assert "results/r/seed2/duffing/metrics.json" in scorecard_input
    assert "results/r/duffing/metrics.json" not in scorecard_input
    assert "results/a/duffing/metrics.json" in proc.stdout
    assert "rule a__train_surrogate:" in proc.stdout
    assert "output: results/r/seeds.png" in proc.stdout
    # the selection word: every run that lists seeds, nothing else
    proc = run_snakemake(workflow_copy, "--dry-run", "--config", "runs=seeds")
    assert "results/r/seed2/duffing/metrics.json" in proc.stdout
    assert "results/a/" not in proc.stdout


def test_each_seed_trains_at_its_own_seed(workflow_copy):
    """Seed k's jobs run at duffing.seed = k: seed 2 of r simulates exactly what run a does
    at seed 2, and differently from seed 0."""
    _seeds_sheet(workflow_copy)
    overlay = yaml.safe_load((workflow_copy / "config/a.yaml").read_text())
    _write(workflow_copy, "config/a.yaml", merge(overlay, {"duffing": {"seed": 2}}))
    targets = [SAMPLES.format(run=run) for run in ("a", "r/seed0", "r/seed2")]
    run_snakemake(workflow_copy, "--cores", "1", "--config", "runs=a,r", "--", *targets)
    a, seed0, seed2 = ((workflow_copy / t).read_text() for t in targets)
    assert seed2 == a and seed0 != a
    assert (workflow_copy / "logs/r/seed2/duffing/simulate_duffing.log").exists()


def test_seeded_config_sets_training_seeds_only():
    config = {
        "run": "r",
        "studies": ["duffing"],
        "duffing": {"seed": 0, "sampling": {"n": 3}},
        "diffig": {"seed": 0, "evaluation": {"seed": 1000}},
        "highway": {"seed": 0, "analysis": {"episode_seed": 7}},
    }
    out = seeded_config(config, 3)
    assert out["run"] == "r_seed3"
    assert [out[s]["seed"] for s in ("duffing", "diffig", "highway")] == [3, 3, 3]
    assert "cfrl" not in out  # a study section the config lacks is not created
    assert out["diffig"]["evaluation"]["seed"] == 1000  # evaluation seeds stay fixed
    assert out["highway"]["analysis"]["episode_seed"] == 7
    assert config["duffing"]["seed"] == 0  # a copy
    assert {key.split(".")[0] for key in TRAINING_SEEDS} == {"duffing", "cfrl", "diffig", "highway"}


def test_instances_and_their_folders():
    sheet = {"r": {"seeds": [0, 4]}, "a": {}}
    runs = {"a": {"run": "a"}, "r": {"run": "r", "duffing": {"seed": 0}}}
    assert list(instances(runs, sheet)) == ["a", "r_seed0", "r_seed4"]
    assert instances(runs, sheet)["r_seed4"]["duffing"]["seed"] == 4
    assert run_folder("r_seed4") == "r/seed4" and run_folder("a") == "a"
    assert seed_of("my_run_seed12") == ("my_run", 12) and seed_of("seeds") is None
    assert in_run("results/duffing/x.csv", "r_seed4") == "results/r/seed4/duffing/x.csv"
    assert in_run("results/r/seed4/duffing/x.csv", "r_seed4") == "results/r/seed4/duffing/x.csv"
    assert in_run("logs/duffing/x.log", "r_seed4") == "logs/r/seed4/duffing/x.log"


def test_seed_paths_name_each_seed_folder_in_order():
    seeded = {"r": {"seeds": [3, 0]}}
    assert seed_paths(seeded, "r", "results/cfrl/metrics.json") == [
        "results/r/seed3/cfrl/metrics.json",
        "results/r/seed0/cfrl/metrics.json",
    ]


def test_seeds_words_and_names_refused():
    sheet = {
        "a": {"overlay": "config/config.yaml", "size": "laptop", "cost": ""},
        "r": {"overlay": "config/config.yaml", "size": "laptop", "cost": "", "seeds": [0, 1]},
    }
    assert selected_names("seeds", sheet, "s") == ["r"]
    # a size selects the runs of one training each; seeds runs only by name or "seeds"
    assert selected_names("laptop", sheet, "s") == ["a"]
    assert selected_names("all", sheet, "s") == ["a", "r"]
    # the default config names the run without seeds, whatever order the sheet has
    assert adhoc_name("config/config.yaml", {}, {"r": sheet["r"], "a": sheet["a"]}) == "a"
    with pytest.raises(InputError, match="'r' is a seeds run"):
        adhoc_name("x.yaml", {"run": "r"}, sheet)
    with pytest.raises(InputError, match="'a_seed1' is a seeds run"):
        adhoc_name("config/a_seed1.yaml", {}, sheet)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"compare_as": "nope"}, "r.compare_as: 'nope' must be a run of the sheet"),
        ({"compare_as": "r"}, "r.compare_as: 'r' lists seeds itself"),
        ({"seeds": [1]}, "seeds"),
    ],
)
def test_bad_seeds_entries_are_refused(tmp_path, entry, message):
    sheet = {
        "a": {"overlay": "a.yaml", "size": "laptop", "cost": ""},
        "r": {"overlay": "a.yaml", "size": "laptop", "cost": "", "seeds": [0, 1], **entry},
    }
    path = tmp_path / "runs.yaml"
    path.write_text(yaml.safe_dump(sheet))
    with pytest.raises(InputError, match=message):
        read_sheet(path, "config/schema/runs.schema.yaml")


def test_a_run_named_like_a_seed_is_refused(tmp_path):
    path = tmp_path / "runs.yaml"
    path.write_text(yaml.safe_dump({"x_seed1": {"overlay": "a", "size": "laptop", "cost": ""}}))
    with pytest.raises(InputError, match="x_seed1"):
        read_sheet(path, "config/schema/runs.schema.yaml")
