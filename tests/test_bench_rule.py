"""The opt-in rule ``benchmark_kernels`` (scripts/bench/benchmark_kernels.py): which groups it
measures, how it calls tools/bench/run.py, that it writes its three outputs only when every
group measured, and that the workflow plans it only when asked (``--config bench=True``)."""

import json
import sys
import textwrap
from pathlib import Path

import pytest

from benchmark_kernels import bench_command, check_results, kernel_groups, main
from workflow_state import planned_jobs

STUDIES = ["duffing", "cfrl", "highway", "diffig"]


def test_kernel_groups_follow_the_studies_in_run_py_order():
    assert kernel_groups(STUDIES) == ["duffing", "baseline", "cfrl", "highway", "diffig"]
    assert kernel_groups(["diffig", "duffing"]) == ["duffing", "diffig"]
    # the CFRL rows load the TensorFlow models: another backend has none to load
    assert kernel_groups(STUDIES, cfrl_backend="pytorch") == ["duffing", "highway", "diffig"]


def test_bench_command_reads_this_run_without_a_nested_workflow():
    cmd = bench_command(
        "tools/bench/run.py",
        groups=["duffing", "diffig"],
        out_dir="/o",
        config_path="/c.yaml",
        cores=2,
        repeats=3,
        quick=False,
    )
    assert cmd[0] == sys.executable
    joined = " ".join(cmd)
    assert "--groups duffing,diffig" in joined and "workflow" not in joined
    assert "--artifacts ." in joined and "--out-dir /o" in joined and "--config /c.yaml" in joined
    assert "--quick" not in cmd
    quick = bench_command(
        "r", groups=["x"], out_dir="o", config_path="c", cores=1, repeats=1, quick=True
    )
    assert quick[-1] == "--quick"


def test_check_results_names_every_failed_group(tmp_path):
    path = tmp_path / "results.json"
    path.write_text(
        json.dumps({"rows": [], "curves": [{}], "failures": {"cfrl": "boom", "diffig": "x"}})
    )
    with pytest.raises(RuntimeError, match="cfrl: boom; diffig: x"):
        check_results(path)
    path.write_text(json.dumps({"rows": [{}], "curves": [], "failures": {}}))
    with pytest.raises(RuntimeError, match="no scaling curve"):
        check_results(path)


FAKE_RUN_PY = """\
import argparse, json, pathlib, sys, yaml
p = argparse.ArgumentParser()
for name in ("--groups", "--artifacts", "--out-dir", "--config", "--cores", "--repeats"):
    p.add_argument(name)
p.add_argument("--quick", action="store_true")
a = p.parse_args()
out = pathlib.Path(a.out_dir)
out.mkdir(parents=True)
seen = {"groups": a.groups, "studies": sorted(yaml.safe_load(open(a.config)))}
failures = {"diffig": "no model"} if "FAIL" in a.groups else {}
(out / "results.json").write_text(json.dumps(
    {"rows": [seen], "curves": [{"id": "c"}], "failures": failures}))
(out / "results.md").write_text("table")
(out / "scaling.png").write_bytes(b"png")
sys.exit(3 if "EXIT" in a.groups else 0)
"""


@pytest.fixture
def fake_run_py(tmp_path):
    path = tmp_path / "run.py"
    path.write_text(textwrap.dedent(FAKE_RUN_PY))
    return path


def outputs(tmp_path):
    return [tmp_path / "bench" / name for name in ("results.json", "results.md", "scaling.png")]


def test_main_writes_the_three_outputs_with_the_runs_config(tmp_path, fake_run_py):
    config = {"duffing": {"seed": 0}, "diffig": {"seed": 1}}
    main(
        *outputs(tmp_path),
        run_py=fake_run_py,
        config=config,
        studies=["duffing", "diffig"],
        cores=2,
        repeats=1,
        quick=True,
    )
    results = json.loads(outputs(tmp_path)[0].read_text())
    assert results["rows"] == [{"groups": "duffing,diffig", "studies": ["diffig", "duffing"]}]
    assert outputs(tmp_path)[2].read_bytes() == b"png"


@pytest.mark.parametrize("how", ["failed group", "exit status"])
def test_main_writes_nothing_when_a_group_fails(tmp_path, fake_run_py, monkeypatch, how):
    import benchmark_kernels

    group = "FAIL" if how == "failed group" else "EXIT"
    monkeypatch.setattr(benchmark_kernels, "kernel_groups", lambda studies, backend: [group])
    with pytest.raises(RuntimeError):
        main(
            *outputs(tmp_path),
            run_py=fake_run_py,
            config={},
            studies=["duffing"],
            cores=1,
            repeats=1,
            quick=True,
        )
    assert not any(p.exists() for p in outputs(tmp_path))
    assert not (tmp_path / "bench").exists() or not list((tmp_path / "bench").iterdir())


def test_the_workflow_plans_the_kernel_benchmarks_only_when_asked(workflow_copy: Path):
    assert "benchmark_kernels" not in planned_jobs(workflow_copy)
    asked = planned_jobs(workflow_copy, "--config", "bench=True", "bench_repeats=1")
    assert asked["benchmark_kernels"] == 1
