"""Incremental reruns: a finished workflow reruns exactly what a change makes stale.

Every test starts from a copy (mtimes and .snakemake metadata kept) of one local run of
the whole test config (``workflow_state.completed_test_run``) and uses Snakemake's default
``--rerun-triggers`` (mtime, params, input, software-env, code). The changes are made to
the Duffing study; "no other study's job" means no rule outside rules/duffing.smk.

Which jobs a change makes stale is read from ``snakemake --dry-run`` (its job headers);
two tests then run for real and check that exactly those jobs ran and nothing else
was rewritten.
"""

import os
import signal
import subprocess
import time
from collections import Counter

import pytest
import yaml

from conftest import REPO, SNAKEMAKE, workflow_env
from workflow_state import (
    TEST_CONFIG,
    clone_run,
    completed_test_run,
    executed_rules,
    planned_jobs,
    snapshot,
    study_rules,
)

pytestmark = pytest.mark.slow

DUFFING_RULES = study_rules("duffing", REPO)
# the scorecard reads every study's metrics.json: a new Duffing metrics.json rebuilds it once
SCORECARD = Counter(build_scorecard=1)
SCORECARD_FILES = {f"results/scorecard.{ext}" for ext in ("json", "md", "rst")}
EXPLAINERS = yaml.safe_load((REPO / TEST_CONFIG).read_text())["duffing"]["explain"]["explainers"]
N_EXPLAINERS = len(EXPLAINERS)
# Downstream of select_points (the attribution half of the Duffing DAG).
FROM_SELECT_POINTS = (
    Counter(
        select_points=1,
        attribute_duffing=N_EXPLAINERS,
        differentiate_models=1,
        plot_attributions=N_EXPLAINERS,
        plot_gradient_comparison=1,
        summarize_duffing=1,
    )
    + SCORECARD
)


@pytest.fixture
def finished(tmp_path):
    """A copy of a workflow on which the whole test config has run."""
    return clone_run(completed_test_run(), tmp_path / "workflow")


def _set_duffing(workdir, section, key, value):
    """Change one key of the Duffing section of the copy's config/test.yaml."""
    path = workdir / TEST_CONFIG
    config = yaml.safe_load(path.read_text())
    assert config["duffing"][section][key] != value
    config["duffing"][section][key] = value
    path.write_text(yaml.safe_dump(config, sort_keys=False))


def _run(workdir, *args, timeout=1200):
    env = workflow_env(workdir)
    return subprocess.run(
        [SNAKEMAKE, "--cores", "2", "--configfile", TEST_CONFIG, *args],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_nothing_changed_runs_nothing_quickly(finished):
    before = snapshot(finished)
    assert planned_jobs(finished) == Counter()
    times = []
    for _ in range(3):
        start = time.perf_counter()
        proc = _run(finished)
        times.append(time.perf_counter() - start)
        assert proc.returncode == 0, proc.stdout[-3000:]
        assert "Nothing to be done" in proc.stdout
        assert executed_rules(proc.stdout) == Counter()
    times.sort()
    print(
        f"no-op run wall time: min {times[0]:.2f} s, median {times[1]:.2f} s, max {times[2]:.2f} s"
    )
    assert snapshot(finished) == before  # not one file touched
    # the goal is < 5 s; the bound here is generous because the machine is shared
    assert times[0] < 20, times


def test_parameter_change_reruns_exactly_its_downstream(finished):
    # benchmark.repeats reaches only benchmark_true_model (through params)
    _set_duffing(finished, "benchmark", "repeats", 2)
    assert (
        planned_jobs(finished) == Counter(benchmark_true_model=1, summarize_duffing=1) + SCORECARD
    )


def test_upstream_parameter_change_stays_inside_its_study(finished):
    # surrogate.epochs: the surrogate and everything fed by it, not the data nor the ODE benchmark
    _set_duffing(finished, "surrogate", "epochs", 3)
    jobs = planned_jobs(finished)
    expected = FROM_SELECT_POINTS + Counter(
        train_surrogate=1, evaluate_surrogate=1, plot_surrogate=1
    )
    assert jobs == expected
    assert set(jobs) <= DUFFING_RULES | set(SCORECARD)  # no other study's job


def test_script_change_reruns_its_rule_and_downstream(finished):
    script = finished / "scripts" / "duffing" / "select_points.py"
    script.write_text(script.read_text() + "\n# changed\n")
    assert planned_jobs(finished) == FROM_SELECT_POINTS


def test_deleted_intermediate_reruns_only_its_dependents(finished):
    lost = "results/test/duffing/attributions/finite_differences.csv"
    final = "results/test/duffing/metrics.json"
    before = snapshot(finished)
    (finished / lost).unlink()
    # Snakemake's rule: a missing intermediate whose dependents are up to date is not needed
    # (as for temp() files), so asking for the final results runs nothing
    assert planned_jobs(finished) == Counter()
    # once a dependent needs it again, exactly it and what depends on it rerun
    (finished / final).unlink()
    expected = (
        Counter(differentiate_models=1, plot_gradient_comparison=1, summarize_duffing=1) + SCORECARD
    )
    assert planned_jobs(finished) == expected
    proc = _run(finished)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert executed_rules(proc.stdout) == expected
    after = snapshot(finished)
    rewritten = {path for path in before if after[path][1] != before[path][1]}
    assert rewritten == {
        lost,
        final,
        "results/test/duffing/figures/attribution_vs_gradient.png",
        *SCORECARD_FILES,
    }
    # the recomputed intermediate is the same bytes (the job is deterministic)
    assert after[lost][2] == before[lost][2]
    assert planned_jobs(finished) == Counter()


def test_regenerated_identical_intermediate_reruns_nothing_downstream(finished):
    lost = "results/test/duffing/attributions/finite_differences.csv"
    (finished / lost).unlink()
    proc = _run(finished, "--", lost)  # asked for by name: only its own job
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert executed_rules(proc.stdout) == Counter(differentiate_models=1)
    # newer, but the same bytes: Snakemake's mtime trigger checks the recorded checksum of
    # small inputs, so the dependents stay up to date
    assert planned_jobs(finished) == Counter()


def _incomplete_markers(workdir):
    return list((workdir / ".snakemake" / "incomplete").glob("*"))


def test_killed_job_is_rerun_and_never_taken_as_output(finished):
    target = "results/test/duffing/models/surrogate.keras"
    before = snapshot(finished)
    env = workflow_env(finished)
    proc = subprocess.Popen(
        [SNAKEMAKE, "--cores", "2", "--configfile", TEST_CONFIG]
        + ["--forcerun", "test__train_surrogate", "--", target],
        cwd=finished,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: the kill reaches the job too
    )
    try:
        deadline = time.monotonic() + 120
        while not _incomplete_markers(finished):  # the job has started
            assert proc.poll() is None, proc.stdout.read()[-3000:]
            assert time.monotonic() < deadline, "train_surrogate never started"
            time.sleep(0.05)
        time.sleep(1.0)  # mid-run: the job is importing TensorFlow or training
        assert proc.poll() is None, "the job ended before it could be killed"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # no chance to clean up
        proc.wait(timeout=60)
        proc.stdout.close()

    # the killed job's output is not there or is marked incomplete: never taken as done
    output = finished / target
    assert not output.exists() or _incomplete_markers(finished)
    jobs = planned_jobs(finished, "--", target)
    assert jobs == Counter(train_surrogate=1)

    # the killed snakemake left its lock: the next run refuses until told it is stale
    locked = _run(finished, "--", target)
    assert locked.returncode != 0 and "--unlock" in locked.stdout, locked.stdout[-3000:]
    assert _run(finished, "--unlock").returncode == 0
    rerun = _run(finished, "--", target)
    assert rerun.returncode == 0, rerun.stdout[-3000:]
    assert executed_rules(rerun.stdout) == Counter(train_surrogate=1)
    assert _incomplete_markers(finished) == []
    assert output.stat().st_size > 1000
    after = snapshot(finished)
    assert after[target][1] > before[target][1]
    # and the rest of the DAG is now stale only because the surrogate is newer
    assert set(planned_jobs(finished)) <= DUFFING_RULES | set(SCORECARD)
