"""The scorecard over every run (xai_repro.scorecard.runs): each reference row at each run
it names in its kind's words, "not run" only for runs without results, a row without a metric
once and not comparable, counts per kind (all runs and each run) and per study and run, the
landing page in that order, and the rst tables render without a docutils error. Runs of the
sheet outside the invocation: read from the results an earlier invocation left on disk and
marked so (a whole run, a partly present one, a seeds run), `make verify` on such a run, and
the rule reading them without making them inputs, rerun when they change."""

import json
import os
import shutil
from datetime import UTC, datetime

import pytest
import yaml

import build_scorecard
from conftest import REPO, run_snakemake
from workflow_state import executed_jobs
from xai_repro.common import InputError
from xai_repro.scorecard import snapshot
from xai_repro.scorecard.runs import build_run_scorecard, to_markdown, to_rst

KNOWN = ["duffing", "cfrl", "diffig", "highway"]


def _row(**changes):
    row = {
        "id": "cfrl.classifier_accuracy",
        "kind": "published",
        "claim": "CFRL classifier | test accuracy",
        "metric": "classifier.accuracy",
        "spread": None,
        "reference": 0.9879,
        "source": "alibi docs",
        "tolerance": {"abs": 0.01},
        "configs": ["default", "mnist", "paper"],
        "not_comparable": None,
    }
    return {**row, **changes}


SHEET = {"default": "laptop", "mnist": "laptop", "paper": "cluster"}


def _card(built, metrics):
    return build_run_scorecard({"cfrl": [_row()]}, metrics, built, SHEET, KNOWN)


def test_each_run_of_a_row_is_judged_or_not_run():
    metrics = {
        ("default", "cfrl"): ({"classifier": {"accuracy": 0.95}}, "results/default/cfrl/m"),
        ("mnist", "cfrl"): ({"classifier": {"accuracy": 0.985}}, "results/mnist/cfrl/m"),
    }
    card = _card({"default": ["cfrl"], "mnist": ["cfrl"]}, metrics)
    verdicts = {r["run"]: r["verdict"] for r in card["rows"]}
    assert verdicts == {
        "default": "deviates",
        "mnist": "reproduced",
        "paper": "not run at this scale",
    }
    paper = next(r for r in card["rows"] if r["run"] == "paper")
    assert "paper (cluster) was not built" in paper["why"] and paper["value"] is None
    assert card["counts"]["cfrl"]["mnist"]["reproduced"] == 1
    paper_info = card["runs"]["paper"]
    assert {k: paper_info[k] for k in ("size", "built", "studies")} == {
        "size": "cluster",
        "built": False,
        "studies": [],
    }
    assert paper_info["headline"] == ["published: none compared; 1 not run at this scale"]
    assert card["runs"]["mnist"]["headline"] == ["published: 1 of 1 reproduced"]
    assert card["headline"] == [
        "published: 1 of 2 reproduced (1 deviates); 1 not run at this scale"
    ]
    assert card["totals"]["deviates"] == 1
    assert card["counts_by_kind"]["published"]["reproduced"] == 1
    assert all(r["kind"] == "published" for r in card["rows"])


def test_goal_rows_are_met_or_missed_at_each_run():
    refs = {"cfrl": [_row(kind="goal", reference=None, tolerance={"min": 0.96})]}
    metrics = {
        ("default", "cfrl"): ({"classifier": {"accuracy": 0.95}}, "m"),
        ("mnist", "cfrl"): ({"classifier": {"accuracy": 0.985}}, "m"),
    }
    card = build_run_scorecard(
        refs, metrics, {"default": ["cfrl"], "mnist": ["cfrl"]}, SHEET, KNOWN
    )
    assert {r["run"]: r["verdict"] for r in card["rows"]} == {
        "default": "missed",
        "mnist": "met",
        "paper": "not run at this scale",
    }
    assert card["headline"] == ["goal: 1 of 2 met (1 missed); 1 not run at this scale"]
    assert card["runs"]["default"]["counts_by_kind"]["goal"]["missed"] == 1


def test_a_row_without_a_metric_appears_once_not_comparable():
    why = "the workflow writes no loss"
    row = _row(id="cfrl.loss", metric=None, not_comparable=why)
    del row["configs"], row["tolerance"]
    card = build_run_scorecard(
        {"cfrl": [_row(), row]},
        {("mnist", "cfrl"): ({"classifier": {"accuracy": 0.985}}, "m")},
        {"mnist": ["cfrl"]},
        SHEET,
        KNOWN,
    )
    loss = [r for r in card["rows"] if r["id"] == "cfrl.loss"]
    assert len(loss) == 1 and loss[0]["run"] is None and loss[0]["metric"] is None
    assert loss[0]["verdict"] == "not comparable" and loss[0]["why"] == why
    assert card["counts"]["cfrl"]["any run"]["not comparable"] == 1
    assert "| any run | cfrl.loss |" in to_markdown(card)


def test_a_built_run_without_the_study_says_so():
    card = _card({"default": ["duffing"]}, {("default", "duffing"): ({}, "m")})
    row = next(r for r in card["rows"] if r["run"] == "default")
    assert row["verdict"] == "not run at this scale"
    assert "cfrl is not among run default's studies" in row["why"]


def test_an_ad_hoc_run_is_shown_and_missing_metrics_refused():
    row = _row(configs=["test"])
    card = build_run_scorecard(
        {"cfrl": [row]},
        {("test", "cfrl"): ({"classifier": {"accuracy": 0.99}}, "m")},
        {"test": ["cfrl"]},
        SHEET,
        KNOWN,
    )
    assert [(r["run"], r["verdict"]) for r in card["rows"]] == [("test", "reproduced")]
    assert card["runs"]["test"]["size"] == "ad hoc"
    with pytest.raises(InputError, match="run test: no metrics.json"):
        build_run_scorecard({"cfrl": [row]}, {}, {"test": ["cfrl"]}, SHEET, KNOWN)


def test_rendered_tables_have_counts_first_and_render_without_docutils_errors():
    from docutils.core import publish_parts

    card = _card(
        {"mnist": ["cfrl"]}, {("mnist", "cfrl"): ({"classifier": {"accuracy": 0.985}}, "m")}
    )
    md = to_markdown(card)
    assert md.index("## Verdicts per kind") < md.index("Verdicts per study and run")
    assert md.index("Verdicts per study and run") < md.index("## Claims") < md.index("## Details")
    assert "| Claim | Ours | Reference | Verdict | Run | Kind |" in md
    assert "| mnist | 1 of 1 reproduced | — | — |" in md
    assert "[details](#details)" in md
    html = publish_parts(
        to_rst(card), writer="html", settings_overrides={"report_level": 2, "halt_level": 2}
    )["html_body"]
    assert 'class="scorecard' in html and "CFRL classifier | test accuracy" in html
    assert (
        html.index("scorecard-kinds")
        < html.index("scorecard-counts")
        < html.index('id="scorecard"')
    )
    assert 'href="#scorecard-details"' in html


# --- runs of the sheet outside the invocation, read from disk ---------------------------

SCHEMA = REPO / "config" / "schema" / "references.schema.yaml"
WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)  # the earlier results' mtime


def _metrics(root, run, study, data, seed=None):
    """Write results/<run>/[seed<k>/]<study>/metrics.json under ``root`` at time WHEN."""
    folder = root / "results" / run / (f"seed{seed}" if seed is not None else "") / study
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "metrics.json"
    path.write_text(json.dumps(data))
    os.utime(path, (WHEN.timestamp(), WHEN.timestamp()))
    return path


def _expected(root, run, studies, seeds=None):
    """The rule's param ``earlier`` for one run: each metrics.json it has when complete ->
    its mtime in ns, None when absent."""
    out = {}
    for study in studies:
        for seed in seeds or [None]:
            folder = f"seed{seed}/" if seed is not None else ""
            path = root / "results" / run / f"{folder}{study}" / "metrics.json"
            out[str(path)] = path.stat().st_mtime_ns if path.exists() else None
    return out


def _main(tmp_path, rows, built_paths, built, earlier, seeded=None):
    """build_scorecard.main on constructed files; returns the card, its Markdown and rst."""
    references = tmp_path / "cfrl.yaml"
    references.write_text(yaml.safe_dump(rows))
    out = [tmp_path / f"scorecard.{ext}" for ext in ("json", "md", "rst")]
    sheet = {**SHEET, "duffing_seeds": "laptop"}
    build_scorecard.main(
        built_paths,
        [references],
        SCHEMA,
        *out,
        runs=built,
        sheet=sheet,
        known=KNOWN,
        seeded=seeded,
        earlier=earlier,
    )
    return json.loads(out[0].read_text()), out[1].read_text(), out[2].read_text()


def _main_two(tmp_path, references, earlier):
    """Two studies' reference rows (cfrl's and duffing's files), nothing built now."""
    paths = []
    for study in ("duffing", "cfrl"):
        path = tmp_path / f"{study}.yaml"
        path.write_text(yaml.safe_dump([r for r in references if r["id"].startswith(study)]))
        paths.append(path)
    out = [tmp_path / f"scorecard.{ext}" for ext in ("json", "md", "rst")]
    build_scorecard.main(
        [], paths, SCHEMA, *out, runs={}, sheet=SHEET, known=KNOWN, earlier=earlier
    )
    return json.loads(out[0].read_text()), out[1].read_text(), out[2].read_text()


def test_a_run_finished_earlier_is_read_and_marked_and_verifies(tmp_path, capsys):
    built = _metrics(tmp_path, "mnist", "cfrl", {"classifier": {"accuracy": 0.985}})
    _metrics(tmp_path, "default", "cfrl", {"classifier": {"accuracy": 0.95}})
    earlier = {
        "default": _expected(tmp_path, "default", ["cfrl"]),
        "paper": _expected(tmp_path, "paper", ["cfrl"]),  # nothing on disk
    }
    card, md, rst = _main(tmp_path, [_row()], [built], {"mnist": ["cfrl"]}, earlier)
    rows = {r["run"]: r for r in card["rows"]}
    assert {run: r["verdict"] for run, r in rows.items()} == {
        "default": "deviates",
        "mnist": "reproduced",
        "paper": "not run at this scale",
    }
    assert rows["default"]["built_by"] == "earlier invocation"
    assert rows["default"]["metrics_modified"] == "2026-01-02T03:04:05Z"
    assert rows["mnist"]["built_by"] == "this invocation"
    assert rows["mnist"]["metrics_modified"] is None
    assert rows["paper"]["built_by"] is None and "has no results on disk" in rows["paper"]["why"]
    default = card["runs"]["default"]
    assert (default["built"], default["built_by"], default["studies"]) == (
        False,
        "earlier invocation",
        ["cfrl"],
    )
    assert default["metrics_modified"] == {"cfrl": "2026-01-02T03:04:05Z"}
    assert card["runs"]["paper"]["built_by"] is None
    assert "Runs built: mnist." in md
    assert "not rebuilt now" in md and "default, metrics.json of 2026-01-02T03:04:05Z" in md
    assert "| default (earlier) | 0 of 1 reproduced (1 deviates) |" in md
    assert "| deviates | default (earlier) | published |" in md
    assert "| paper | 0 | 0 |" in md  # a run without results carries no mark
    from docutils.core import publish_parts

    html = publish_parts(
        rst, writer="html", settings_overrides={"report_level": 2, "halt_level": 2}
    )["html_body"]
    assert "default (earlier)" in html
    # make verify RUN=default on this scorecard: the earlier run's rows are compared
    expected = tmp_path / "expected"
    expected.mkdir()
    (expected / "tolerances.yaml").write_text(json.dumps({"tolerances": []}))
    args = ["--scorecard", str(tmp_path / "scorecard.json"), "--expected", str(expected)]
    assert snapshot.main(["snapshot", "--run", "default", *args]) == 0
    assert snapshot.main(["verify", "--run", "default", *args]) == 0
    out = capsys.readouterr().out
    assert "default: results of an earlier invocation" in out
    assert "1 of 1 rows within tolerance (default)." in out
    assert snapshot.main(["verify", *args]) == 0  # every snapshot of a run with results
    assert snapshot.main(["verify", "--run", "paper", *args]) == 1
    assert "run paper has no results" in capsys.readouterr().out


def test_a_partly_present_run_is_not_run_for_its_missing_studies(tmp_path):
    duffing_row = _row(id="duffing.x", metric="x", reference=1.0)
    _metrics(tmp_path, "default", "cfrl", {"classifier": {"accuracy": 0.985}})
    earlier = {"default": _expected(tmp_path, "default", ["duffing", "cfrl"])}
    references = [duffing_row, _row()]
    card, md, _ = _main_two(tmp_path, references, earlier)
    rows = {(r["study"], r["run"]): r for r in card["rows"]}
    assert rows[("cfrl", "default")]["verdict"] == "reproduced"
    assert rows[("cfrl", "default")]["built_by"] == "earlier invocation"
    missing = rows[("duffing", "default")]
    assert missing["verdict"] == "not run at this scale" and missing["built_by"] is None
    absent = str(tmp_path / "results/default/duffing/metrics.json")
    assert f"not on disk: {absent}" in missing["why"]
    assert card["runs"]["default"]["missing"] == {"duffing": [absent]}
    assert card["runs"]["default"]["studies"] == ["cfrl"]
    assert "default: no complete results on disk for duffing (1 metrics.json absent)" in md


def test_a_run_without_results_stays_not_run(tmp_path):
    earlier = {run: _expected(tmp_path, run, ["cfrl"]) for run in ("default", "paper")}
    card, md, _ = _main(tmp_path, [_row()], [], {}, earlier)
    assert {r["verdict"] for r in card["rows"]} == {"not run at this scale"}
    assert all("has no results on disk" in r["why"] for r in card["rows"])
    assert all(info["built_by"] is None for info in card["runs"].values())
    assert "Read from an earlier invocation" not in md and "(earlier)" not in md
    assert "no complete results on disk: default (laptop), mnist (laptop)" in md


SEEDED = {"duffing_seeds": {"seeds": [0, 1, 2], "compare_as": "default"}}


def test_a_seeds_run_found_on_disk_is_judged_over_all_its_seeds(tmp_path):
    row = _row(id="cfrl.x", metric="x", kind="goal", reference=None, tolerance={"min": 0.5})
    for seed, value in enumerate((0.9, 0.91, 0.92)):
        _metrics(tmp_path, "duffing_seeds", "cfrl", {"x": value}, seed=seed)
    earlier = {"duffing_seeds": _expected(tmp_path, "duffing_seeds", ["cfrl"], [0, 1, 2])}
    card, md, _ = _main(tmp_path, [row], [], {}, earlier, seeded=SEEDED)
    at = next(r for r in card["rows"] if r["run"] == "duffing_seeds")
    assert at["seeds"] == [0, 1, 2] and at["interval"] is not None
    assert at["verdict"] == "met" and at["value"] == pytest.approx(0.91)
    assert at["built_by"] == "earlier invocation"
    assert card["runs"]["duffing_seeds"]["built_by"] == "earlier invocation"
    assert "duffing_seeds (3 seeds), metrics.json of 2026-01-02T03:04:05Z" in md
    # one seed absent: the study is not run there, naming the seed's file
    (tmp_path / "results/duffing_seeds/seed2/cfrl/metrics.json").unlink()
    earlier = {"duffing_seeds": _expected(tmp_path, "duffing_seeds", ["cfrl"], [0, 1, 2])}
    card, md, _ = _main(tmp_path, [row], [], {}, earlier, seeded=SEEDED)
    at = next(r for r in card["rows"] if r["run"] == "duffing_seeds")
    assert at["verdict"] == "not run at this scale" and at["built_by"] is None
    assert at["why"].startswith("run duffing_seeds was not built by this invocation, and not")
    assert at["why"].endswith("results/duffing_seeds/seed2/cfrl/metrics.json")
    assert card["runs"]["duffing_seeds"]["built_by"] is None
    assert "duffing_seeds: no complete results on disk for cfrl (1 metrics.json absent)" in md


def test_an_earlier_run_older_than_a_row_is_not_run_but_a_built_one_fails():
    row = _row(metric="classifier.new_metric")
    metrics = {("default", "cfrl"): ({"classifier": {"accuracy": 0.95}}, "results/default/m")}
    earlier = {"default": {"modified": {"cfrl": "2026-01-02T03:04:05Z"}, "missing": {}}}
    card = build_run_scorecard({"cfrl": [row]}, metrics, {}, SHEET, KNOWN, earlier=earlier)
    at = next(r for r in card["rows"] if r["run"] == "default")
    assert at["verdict"] == "not run at this scale" and at["built_by"] == "earlier invocation"
    assert "'classifier.new_metric' is not in this file" in at["why"]
    assert "rebuild run default" in at["why"]
    with pytest.raises(InputError, match="new_metric"):
        build_run_scorecard({"cfrl": [row]}, metrics, {"default": ["cfrl"]}, SHEET, KNOWN)


def test_the_rule_reads_earlier_runs_without_building_them_and_reruns_on_change(
    workflow_copy,
):
    """In a copy of the workflow: a sheet of runs a and b (duffing only) with one reference
    row at both, and metrics.json for each. Only the scorecard rule may run
    (``--allowed-rules``), so a's metrics.json counts as built. The invocation of run a
    reads b's from disk as an earlier invocation's, not as an input of the job; the
    scorecard is up to date until b's metrics.json changes (its mtime is in a param:
    Snakemake's params trigger)."""
    overlay = {"studies": ["duffing"]}
    (workflow_copy / "config/a.yaml").write_text(yaml.safe_dump(overlay))
    sheet = {run: {"overlay": "config/a.yaml", "size": "laptop", "cost": "seconds"} for run in "ab"}
    (workflow_copy / "config/runs.yaml").write_text(yaml.safe_dump(sheet))
    shutil.rmtree(workflow_copy / "config/references")
    (workflow_copy / "config/references").mkdir()
    row = _row(id="duffing.x", metric="x", reference=1.0, tolerance={"abs": 0.1})
    (workflow_copy / "config/references/duffing.yaml").write_text(
        yaml.safe_dump([{**row, "configs": ["a", "b"]}])
    )
    _metrics(workflow_copy, "a", "duffing", {"x": 1.0})
    b = _metrics(workflow_copy, "b", "duffing", {"x": 2.0})
    args = ("--cores", "1", "--config", "runs=a", "--allowed-rules", "build_scorecard")
    target = ("--", "results/scorecard.json")
    plan = run_snakemake(workflow_copy, "--dry-run", *args, *target).stdout
    assert executed_jobs(plan) == {("", "build_scorecard"): 1}, plan
    (inputs,) = [line for line in plan.splitlines() if line.strip().startswith("input:")]
    assert "results/a/duffing/metrics.json" in inputs and "results/b/" not in inputs
    run_snakemake(workflow_copy, *args, *target)
    card = json.loads((workflow_copy / "results/scorecard.json").read_text())
    rows = {r["run"]: r for r in card["rows"]}
    assert (rows["a"]["verdict"], rows["a"]["built_by"]) == ("reproduced", "this invocation")
    assert (rows["b"]["verdict"], rows["b"]["built_by"]) == ("deviates", "earlier invocation")
    assert rows["b"]["metrics_modified"] == "2026-01-02T03:04:05Z"
    again = run_snakemake(workflow_copy, "--dry-run", *args, *target).stdout
    assert "Nothing to be done" in again, again
    os.utime(b, (WHEN.timestamp() + 60, WHEN.timestamp() + 60))  # b rebuilt elsewhere
    changed = run_snakemake(workflow_copy, "--dry-run", *args, *target).stdout
    assert executed_jobs(changed) == {("", "build_scorecard"): 1}, changed
    assert "Params have changed" in changed and "results/b/duffing/metrics.json" in changed
