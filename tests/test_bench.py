"""Pure parts of the benchmarks (no timing): statistics, ratios, goals, exponents, log
the markdown table; and the workflow rows of a tiny workflow whose
jobs burn a known amount of CPU."""

import os
import sys

import pytest

from xai_repro.bench.report import (
    curves_table,
    fit_exponent,
    interleaved,
    make_curve,
    make_row,
    ratio,
    rows_table,
    seconds_per_item,
    summary,
    verdict,
)
from xai_repro.bench.run import config_rows, read_benchmarks


def test_summary_min_median_max():
    assert summary([3.0, 1.0, 2.0, 10.0]) == {"min": 1.0, "median": 2.5, "max": 10.0, "n": 4}
    assert summary([5]) == {"min": 5.0, "median": 5.0, "max": 5.0, "n": 1}


@pytest.mark.parametrize("bad", [[], [1.0, float("nan")], [float("inf")]])
def test_summary_refuses_empty_or_nonfinite(bad):
    with pytest.raises(ValueError):
        summary(bad)


def test_seconds_per_item_calls_every_item_each_repeat():
    seen = []
    seconds = seconds_per_item(seen.append, [1, 2, 3], repeats=2)
    assert seen == [1, 2, 3, 1, 2, 3]
    assert len(seconds) == 2 and all(s >= 0 for s in seconds)


def test_interleaved_alternates_variants_and_divides_per_item():
    calls = []
    got = interleaved({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, 2, {"b": 4})
    assert calls == ["a", "b", "a", "b"] and sorted(got) == ["a", "b"]
    assert all(len(v) == 2 and min(v) >= 0 for v in got.values())


def test_ratio_rates_and_costs():
    fast = summary([90, 100, 110])
    slow = summary([1, 2, 4])
    r = ratio(fast, slow, higher_is_better=True)
    assert r == {"median": 50.0, "low": 22.5, "high": 110.0}
    # costs: the smaller is better, so slow/fast
    r = ratio(summary([0.5, 1.0]), summary([10.0, 20.0]), higher_is_better=False)
    assert r["median"] == pytest.approx(15.0 / 0.75)
    assert r["low"] == pytest.approx(10.0 / 1.0)
    assert r["high"] == pytest.approx(20.0 / 0.5)


def test_verdict_says_by_how_much():
    assert verdict(150, {"min": 100}) == "met"
    assert verdict(80, {"min": 100}) == "missed: 80 < 100 (0.80 of goal)"
    assert verdict(1e-7, {"max": 1e-6}) == "met"
    assert verdict(3e-6, {"max": 1e-6}).startswith("missed: 3e-06 > 1e-06 (3.00x")
    assert verdict(5, None) == "no goal"
    assert verdict(None, {"min": 1}) == "not measured"
    with pytest.raises(ValueError):
        verdict(1, {"about": 1})


@pytest.mark.parametrize("b", [0.5, 1.0, 2.0])
def test_fit_exponent_recovers_power_law(b):
    sizes = [1e3, 1e4, 1e5, 1e6]
    assert fit_exponent(sizes, [3e-4 * n**b for n in sizes]) == pytest.approx(b)


def test_fit_exponent_needs_two_sizes_and_positive_costs():
    with pytest.raises(ValueError):
        fit_exponent([10, 10], [1, 2])
    with pytest.raises(ValueError):
        fit_exponent([10, 100], [0.0, 1.0])


def test_make_row_goal_on_ratio_and_on_value():
    row = make_row(
        "x.speed",
        "speed",
        "rows/s",
        ("new", [1000, 1200]),
        ("old", [10, 14]),
        goal={"min": 100},
    )
    assert row["ratio"]["median"] == pytest.approx(1100 / 12)
    assert row["verdict"].startswith("missed")
    row = make_row("x.err", "error", "abs", ("e", [2e-7]), goal={"max": 1e-6})
    assert row["ratio"] is None and row["verdict"] == "met"
    # an existing summary is taken as is
    row = make_row("x.s", "s", "s", {"label": "s", "min": 1, "median": 2, "max": 3, "n": 5})
    assert row["ours"]["n"] == 5


def test_tables_render_every_row_and_curve():
    rows = [
        make_row("a.b", "thing", "s", ("p", [1, 2, 3]), goal={"max": 2.5}),
        make_row(
            "c.d",
            "other",
            "x/s",
            ("q", [100]),
            ("r", [1]),
            goal={"min": 1000},
        ),
    ]
    table = rows_table(rows)
    lines = table.splitlines()
    assert len(lines) == 4 and all(line.count("|") == 9 for line in lines)
    assert "1 / **2** / 3 (n=3)" in table and "100x [100, 100]" in table
    assert "missed: 100 < 1e+03" in table
    curve = make_curve("k", "kernel", "rows", {10: [1.0], 100: [10.0], 1000: [100.0]})
    assert curve["exponent"] == pytest.approx(1.0)
    assert "| `k` kernel | rows: 10, 100, 1e+03 |" in curves_table([curve])


def test_read_benchmarks(tmp_path):
    header = "s\th:m:s\tmax_rss\tcpu_time\n"
    (tmp_path / "a").mkdir()
    (tmp_path / "a/job1.tsv").write_text(header + "10.0\t0:00:10\t1\t8.0\n")
    (tmp_path / "job2.tsv").write_text(header + "5.0\t0:00:05\t1\t4.0\n")
    (tmp_path / "other.tsv").write_text("a\tb\n1\t2\n")  # not a Snakemake benchmark
    jobs = read_benchmarks(tmp_path)
    assert jobs == {
        "a/job1.tsv": {"s": 10.0, "cpu_time": 8.0},
        "job2.tsv": {"s": 5.0, "cpu_time": 4.0},
    }


TINY_WORKFLOW = """
configfile: "config/tiny.yaml"


rule all:
    input:
        expand("burn_{i}.txt", i=range(config["jobs"])),


rule burn:
    output:
        "burn_{i}.txt",
    log:
        "logs/burn_{i}.log",
    benchmark:
        "benchmarks/burn_{i}.tsv"
    shell:
        "{PYTHON} -c 'import time, logging; "
        "logging.basicConfig(filename=\\"{log}\\", format=\\"%(asctime)s %(message)s\\", "
        "datefmt=\\"%H:%M:%S\\", level=20); logging.info(\\"start\\"); "
        "t = time.process_time()\\n"
        "while time.process_time() - t < 1.0: pass' && touch {output}"
"""


def test_config_rows_of_a_tiny_workflow(tmp_path):
    repo, work = tmp_path / "repo", tmp_path / "work"
    (repo / "config").mkdir(parents=True)
    (repo / "config/tiny.yaml").write_text("jobs: 2\n")
    (repo / "Snakefile").write_text(TINY_WORKFLOW.replace("{PYTHON}", sys.executable))
    (repo / "results").mkdir()  # not a workflow source: not copied
    (repo / "results/old.txt").write_text("")
    rows = {row["id"]: row for row in config_rows(repo, work, "config/tiny.yaml", 1)}
    assert not (work / "results").exists() and (work / "burn_1.txt").exists()
    name = "workflow.tiny."
    assert sorted(rows) == sorted(name + k for k in ("wall", "efficiency", "utilisation"))
    wall = rows[name + "wall"]["ours"]["median"]
    # two jobs of 1 CPU s each: the OS counts at least their 2 s (and Snakemake's own CPU)
    cpu = rows[name + "utilisation"]["ours"]["median"] * wall
    assert 2.0 <= cpu <= (os.cpu_count() or 1) * wall
    assert rows[name + "efficiency"]["ours"]["median"] * wall <= cpu
    assert rows[name + "wall"]["extra"]["jobs"].keys() == {"burn_0.tsv", "burn_1.tsv"}
