"""The scorecard over every run (xai_repro.scorecard.runs): each reference row at each run
it names, "not run" only for runs not built, counts per study and run, and the rst tables
render without a docutils error."""

import pytest

from xai_repro.common import InputError
from xai_repro.scorecard.runs import build_run_scorecard, to_markdown, to_rst

KNOWN = ["duffing", "cfrl", "diffig", "highway"]


def _row(**changes):
    row = {
        "id": "cfrl.classifier_accuracy",
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
    assert card["runs"]["paper"] == {"size": "cluster", "built": False, "studies": []}
    assert card["totals"]["deviates"] == 1


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
    assert md.index("Verdicts per study and run") < md.index("## Claims") < md.index("## Details")
    assert "[details](#details)" in md
    html = publish_parts(
        to_rst(card), writer="html", settings_overrides={"report_level": 2, "halt_level": 2}
    )["html_body"]
    assert 'class="scorecard' in html and "CFRL classifier | test accuracy" in html
    assert html.index("scorecard-counts") < html.index('id="scorecard"')
    assert 'href="#scorecard-details"' in html
