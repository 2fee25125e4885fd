"""The opt-in rule ``benchmark_kernels`` and the bench entry point (xai_repro.bench.run): which
kernel groups a run's studies have, each group run in a fresh process of its own on the run's
merged config and results, the three outputs written only when every group measured, and
the workflow planning the rule only when asked (``--config bench=True``)."""

import json
from pathlib import Path

import pytest

import benchmark_kernels
from workflow_state import planned_jobs
from xai_repro.bench import run

STUDIES = ["duffing", "cfrl", "highway", "diffig"]


@pytest.fixture
def fake_groups(monkeypatch):
    """GROUPS of two fake groups (studies duffing and diffig): tests/fake_bench_group.py."""
    groups = {"duffing": "fake_bench_group", "diffig": "fake_bench_group"}
    monkeypatch.setattr(run, "GROUPS", groups)
    return groups


def outputs(tmp_path):
    return [tmp_path / "bench" / name for name in ("results.json", "results.md", "scaling.png")]


def test_groups_follow_the_studies_in_run_order():
    assert run.groups_for(STUDIES) == ["duffing", "cfrl", "highway", "diffig"]
    assert run.groups_for(["diffig", "duffing"]) == ["duffing", "diffig"]
    assert run.groups_for(["a_new_study"]) == []


def test_main_writes_the_three_outputs_from_children_on_the_runs_config(tmp_path, fake_groups):
    config = {"duffing": {"seed": 3}, "diffig": {"seed": 4}}
    results = tmp_path / "results"
    benchmark_kernels.main(
        *outputs(tmp_path),
        config=config,
        results=str(results),
        cores=1,
        repeats=2,
        quick=True,
    )
    got = json.loads(outputs(tmp_path)[0].read_text())
    notes = [row["notes"] for row in got["rows"]]
    # in run order, each on its own section
    assert notes == [
        f"seed 3 results {results.resolve()} quick True",
        f"seed 4 results {results.resolve()} quick True",
    ]
    assert got["failures"] == {} and len(got["curves"]) == 2
    assert "`fake.3`" in outputs(tmp_path)[1].read_text()
    assert outputs(tmp_path)[2].read_bytes()[:4] == b"\x89PNG"


def test_main_writes_nothing_when_a_group_fails(tmp_path, fake_groups):
    config = {"duffing": {"seed": 3}, "diffig": {"seed": 4, "fail": True}}
    with pytest.raises(RuntimeError, match="diffig: ValueError: planted failure"):
        benchmark_kernels.main(
            *outputs(tmp_path),
            config=config,
            results=str(tmp_path),
            cores=1,
            repeats=1,
            quick=True,
        )
    assert not any(p.exists() for p in outputs(tmp_path))


def test_groups_that_need_models_fail_without_results(tmp_path, fake_groups):
    config = {"duffing": {"seed": 1}, "diffig": {"seed": 2}}
    got = run.measure(
        tmp_path / "out",
        groups=["duffing", "diffig"],
        config=config,
        results=None,
        cores=1,
        repeats=1,
        quick=True,
    )
    assert [row["id"] for row in got["rows"]] == ["fake.1"]
    assert "no trained models" in got["failures"]["diffig"]
    with pytest.raises(RuntimeError, match="diffig: no trained models"):
        run.check_complete(got)


def test_the_workflow_plans_the_kernel_benchmarks_only_when_asked(workflow_copy: Path):
    assert "benchmark_kernels" not in planned_jobs(workflow_copy)
    asked = planned_jobs(workflow_copy, "--config", "bench=True", "bench_repeats=1")
    assert asked["benchmark_kernels"] == 1
