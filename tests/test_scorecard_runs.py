"""The scorecard over every run (xai_repro.scorecard.runs): each reference row at each run
it names in its kind's words, "not run" only for runs not built, a row without a metric once
and not comparable, counts per kind (all runs and each run) and per study and run, the
landing page in that order, and the rst tables render without a docutils error."""

import pytest

from xai_repro.common import InputError
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
