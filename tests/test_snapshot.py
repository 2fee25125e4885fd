"""Snapshots and `make verify` (xai_repro.scorecard.snapshot), and `make cost`
(xai_repro.common.cost): rows compared within their tolerance, the differences tabled, the
README's headline table generated, the test config checked against expected/test.json."""

import json

import pytest

from conftest import REPO
from xai_repro.common import InputError, read_yaml
from xai_repro.common.cost import (
    HEADROOM,
    lacking_headroom,
    memory_use,
    parse_jobs,
    summarize,
)
from xai_repro.common.cost import (
    main as cost_main,
)
from xai_repro.scorecard.snapshot import compare, differs, headline, main, snapshot_rows

TOLERANCES = [
    {"ids": ["a.*"], "abs": 0.1, "why": "trained"},
    {"ids": ["b.exact"], "abs": 0.0, "why": "fixed"},
]


def _card(value_a=1.0, value_b=2.0, verdict="reproduced", kind="published"):
    rows = [
        {
            "run": "r",
            "id": rid,
            "study": rid[0],
            "kind": kind,
            "claim": f"claim {rid}",
            "metric": "m",
            "value": value,
            "spread": None,
            "reference": 1.0,
            "tolerance": "± 1",
            "verdict": verdict,
            "source": "s",
        }
        for rid, value in (("a.x", value_a), ("b.exact", value_b))
    ]
    return {"runs": {"r": {"built": True, "size": "laptop", "studies": ["a"]}}, "rows": rows}


def test_within_tolerance_passes_and_beyond_fails():
    snap = snapshot_rows(_card(), "r")
    assert all(r["ok"] for r in compare(_card(value_a=1.09), snap, TOLERANCES))
    bad = {
        r["id"]: r["ok"] for r in compare(_card(value_a=1.2, value_b=2.0 + 1e-12), snap, TOLERANCES)
    }
    assert bad == {"a.x": False, "b.exact": False}


def test_a_changed_verdict_or_kind_or_a_vanished_value_fails():
    snap = snapshot_rows(_card(), "r")
    assert all(row["kind"] == "published" for row in snap["rows"].values())
    assert not all(r["ok"] for r in compare(_card(verdict="deviates"), snap, TOLERANCES))
    records = compare(_card(kind="goal"), snap, TOLERANCES)
    assert not any(r["ok"] for r in records) and records[0]["kind"] == "goal"
    assert differs(1.0, None, {"abs": 1.0}) == float("inf")
    assert differs([1.0, 2.0], [1.0], {"abs": 1.0}) == float("inf")
    assert differs(None, None, {}) is None


def test_a_snapshot_without_kinds_is_refused_naming_the_file():
    snap = snapshot_rows(_card(), "r")
    del snap["rows"]["a.x"]["kind"]
    with pytest.raises(InputError, match=r"expected/r.json: row a.x has no kind.*RUN=r"):
        compare(_card(), snap, TOLERANCES)


def test_unbuilt_run_cannot_be_snapshotted():
    card = _card()
    card["runs"]["r"]["built"] = False
    with pytest.raises(InputError, match="run r is not built"):
        snapshot_rows(card, "r")


def test_cli_writes_verifies_and_prints_differences(tmp_path, capsys):
    (tmp_path / "expected").mkdir()
    (tmp_path / "expected" / "tolerances.yaml").write_text(json.dumps({"tolerances": TOLERANCES}))
    scorecard = tmp_path / "scorecard.json"
    scorecard.write_text(json.dumps(_card()))
    common = ["--scorecard", str(scorecard), "--expected", str(tmp_path / "expected")]
    assert main(["snapshot", "--run", "r", *common]) == 0
    assert main(["verify", *common]) == 0
    scorecard.write_text(json.dumps(_card(value_a=5.0)))
    capsys.readouterr()
    assert main(["verify", *common]) == 1
    out = capsys.readouterr().out
    assert "1 of 2 rows within tolerance" in out and "NO" in out
    assert "| r | a.x | published | 1 | 5 |" in out
    scorecard.write_text(json.dumps(_card(kind="goal", verdict="met")))
    assert main(["verify", *common]) == 1
    out = capsys.readouterr().out
    assert "| r | a.x | published -> goal | 1 | 1 |" in out and "reproduced -> met" in out
    assert main(["headline", "--run", "r", "--expected", str(tmp_path / "expected")]) == 0
    out = capsys.readouterr().out
    assert "`make headline`): published: 2 of 2 reproduced." in out
    assert "| a | published | claim a.x | 1 | 1 | reproduced |" in out


def test_headline_skips_rows_not_run():
    snap = snapshot_rows(_card(verdict="not run at this scale"), "r")
    assert "claim" not in headline(snap).split("|---|")[-1]


def test_every_tolerance_entry_is_well_formed():
    entries = read_yaml(REPO / "expected" / "tolerances.yaml")["tolerances"]
    for entry in entries:
        assert set(entry) <= {"ids", "abs", "rel", "why"} and entry["ids"] and entry["why"]
        assert entry.get("abs", 0) >= 0 and entry.get("rel", 0) >= 0


DRY_RUN = """
rule mnist__fit_cfrl:
    input: a
    output: b
    jobid: 3
    benchmark: benchmarks/mnist/cfrl/fit_cfrl.tsv
    threads: 2
    resources: tmpdir=/tmp, mem_mb=8192, mem=8.6 GB, runtime=240

rule fetch:
    output: resources/mnist/mnist.npz
    resources: tmpdir=/tmp, mem_mb=256, runtime=30

rule mnist__summarize_cfrl:
    benchmark: benchmarks/mnist/cfrl/summarize_cfrl.tsv
    threads: 1
    resources: tmpdir=/tmp, mem_mb=1024, runtime=5

rule all:
    input: x
"""


def test_cost_from_a_dry_run():
    jobs = parse_jobs(DRY_RUN)
    assert [(j["run"], j["rule"]) for j in jobs] == [
        ("mnist", "fit_cfrl"),
        ("", "fetch"),
        ("mnist", "summarize_cfrl"),
    ]
    summary = summarize(jobs)
    assert summary["mnist"]["core_hours"] == pytest.approx((2 * 240 + 5) / 60)
    assert summary["mnist"]["peak_mem_gb"] == 8.0
    assert summary["mnist"]["longest_job"] == ("fit_cfrl", 240)
    assert summary["(workflow)"]["jobs"] == 1


def _benchmark(path, *max_rss):
    path.parent.mkdir(parents=True, exist_ok=True)
    head = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time"
    rows = [f"1.0\t0:00:01\t{v}\t1\t1\t1\t0\t0\t50\t1" for v in max_rss]
    path.write_text("\n".join([head, *rows]) + "\n")


def test_measured_memory_against_the_requests(tmp_path):
    """A job whose benchmark max_rss exceeds HEADROOM of its mem_mb is listed; a job
    without a benchmark file (not run yet) is skipped; repeats take their largest value."""
    _benchmark(tmp_path / "benchmarks/mnist/cfrl/fit_cfrl.tsv", "NA", 2000.5, 7000)
    _benchmark(tmp_path / "benchmarks/mnist/cfrl/summarize_cfrl.tsv", 700)
    measured = memory_use(parse_jobs(DRY_RUN), tmp_path)
    assert {m["rule"]: m["max_rss_mb"] for m in measured} == {
        "fit_cfrl": 7000.0,
        "summarize_cfrl": 700.0,
    }
    bad = lacking_headroom(measured)
    assert [m["rule"] for m in bad] == ["fit_cfrl"]  # 7000 / 8192 = 85 %
    assert 700 / 1024 <= HEADROOM < 7000 / 8192


@pytest.mark.slow
def test_every_job_of_the_test_run_has_memory_headroom(monkeypatch, capsys):
    """The finished test run's jobs, measured, each within HEADROOM of its mem_mb: the
    SLURM test runs each job in a cgroup that kills it at mem_mb."""
    from workflow_state import completed_test_run

    work = completed_test_run()
    monkeypatch.chdir(work)
    capsys.readouterr()  # drop what the shared run printed
    status = cost_main(["--configfile", "config/test.yaml", "--measured"])
    out = capsys.readouterr().out
    assert status == 0, out
    assert int(out.split()[0]) >= 40, out  # the jobs were found and measured


@pytest.mark.slow
def test_test_config_matches_its_snapshot():
    """CI's check of expected/test.json: the test config's finished run, row by row."""
    from workflow_state import completed_test_run

    work = completed_test_run()
    card = json.loads((work / "results" / "scorecard.json").read_text())
    snap = json.loads((REPO / "expected" / "test.json").read_text())
    tolerances = read_yaml(REPO / "expected" / "tolerances.yaml")["tolerances"]
    records = compare(card, snap, tolerances)
    assert records and all(r["ok"] for r in records), records


@pytest.mark.parametrize("run", ["default", "highway_seeds", "diffig_seeds"])
def test_the_readme_headline_tables_are_the_snapshots(run):
    """README.md carries `make headline`'s output for expected/<run>.json verbatim: the
    default run, and the highway and diffig headlines over training seeds; so its numbers
    cannot drift from the snapshots (regenerate both together)."""
    snap = json.loads((REPO / "expected" / f"{run}.json").read_text())
    assert headline(snap).strip() in (REPO / "README.md").read_text()
