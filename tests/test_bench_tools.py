"""The benchmark's CPU instruments on a throw-away workflow: Snakemake run in-process by
tools/bench/snakemake_rusage.py reports its own CPU and its jobs' CPU from the OS, and the
record-bias row compares a job's benchmark record with the CPU the job itself reports."""

import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "tools" / "bench"


@pytest.fixture(scope="module")
def bench_tools():
    sys.path.insert(0, str(BENCH))
    try:
        import record_bias
        import workflow_rows

        yield record_bias, workflow_rows
    finally:
        sys.path.remove(str(BENCH))


def test_jobs_cpu_from_the_os_holds_what_the_job_burned(bench_tools, tmp_path):
    record_bias, workflow_rows = bench_tools
    row = record_bias.record_bias_row(tmp_path, workflow_rows.snakemake, budgets=(1.5,))
    usage = json.loads((tmp_path / "bench_record_bias.rusage.json").read_text())
    burned = json.loads((tmp_path / "burn_1.5.json").read_text())["cpu_s"]
    assert burned >= 1.5
    # the OS counts the job (plus its interpreter start-up), Snakemake's own process apart
    assert burned <= usage["jobs_cpu_s"] < burned + 5
    assert 0 < usage["snakemake_cpu_s"] < 30
    assert usage["wall_s"] > 1.5
    # a short job is sampled every 0.5 s: its record holds most, never more, of its CPU
    assert 0.5 < row["ours"]["median"] <= 1.05
    assert "1.5 s job" in row["notes"]


def test_a_failing_run_names_the_workdir(bench_tools, tmp_path):
    _, workflow_rows = bench_tools
    (tmp_path / "Snakefile").write_text('rule all:\n    shell: "exit 3"\n')
    with pytest.raises(RuntimeError, match=str(tmp_path)):
        workflow_rows.snakemake(tmp_path, "--cores", "1", log_name="fails")
