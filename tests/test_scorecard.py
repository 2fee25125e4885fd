"""The scorecard engine on constructed metrics: every verdict, every tolerance kind, bad
reference files refused naming the row, a study without a references file, and the rule
script's main() writing its three files."""

import importlib.util
import json

import pytest
import yaml

from conftest import REPO
from xai_repro.common import InputError
from xai_repro.scorecard import build_scorecard, judge, load_references, lookup, to_markdown, to_rst

SCHEMA = REPO / "config" / "schema" / "references.schema.yaml"
KNOWN = ["duffing", "cfrl", "diffig", "highway"]


def _row(**changes):
    row = {
        "id": "cfrl.classifier_accuracy",
        "claim": "CFRL classifier test accuracy",
        "metric": "classifier.accuracy",
        "spread": None,
        "reference": 0.9879,
        "source": "alibi docs",
        "tolerance": {"abs": 0.01},
        "configs": ["mnist"],
        "not_comparable": None,
    }
    return {**row, **changes}


def _judge(row, metrics, run="mnist"):
    return judge(row, "cfrl", metrics, run, "results/cfrl/metrics.json")


def test_lookup_follows_dots_and_list_indices():
    metrics = {"a": {"b": [{"c": 1.5}, {"c": 2.5}]}}
    assert lookup(metrics, "a.b.1.c") == 2.5
    assert lookup(metrics, "a.b.2.c") is None
    assert lookup(metrics, "a.x") is None


@pytest.mark.parametrize(
    ("tolerance", "value", "verdict"),
    [
        ({"abs": 0.01}, 0.980, "reproduced"),
        ({"abs": 0.01}, 0.970, "deviates"),
        ({"rel": 0.02}, 0.970, "reproduced"),
        ({"rel": 0.01}, 0.970, "deviates"),
        ({"min": 0.95}, 0.96, "reproduced"),
        ({"min": 0.95}, 0.94, "deviates"),
        ({"max": 0.1}, 0.06, "reproduced"),
        ({"max": 0.1}, 0.2, "deviates"),
        ({"range": [0.9, 1.0]}, 0.95, "reproduced"),
        ({"range": [0.9, 1.0]}, 1.01, "deviates"),
    ],
)
def test_tolerances(tolerance, value, verdict):
    out = _judge(_row(tolerance=tolerance), {"classifier": {"accuracy": value}})
    assert out["verdict"] == verdict, out
    assert out["why"]


def test_lists_are_judged_element_by_element():
    row = _row(metric="ig", reference=[1.0, -2.0], tolerance={"abs": 0.1})
    assert _judge(row, {"ig": [1.05, -2.05]})["verdict"] == "reproduced"
    assert _judge(row, {"ig": [1.05, -2.5]})["verdict"] == "deviates"
    with pytest.raises(InputError, match="3 values but 2 reference"):
        _judge(row, {"ig": [1.0, 2.0, 3.0]})


def test_not_run_not_comparable_and_spread():
    metrics = {"classifier": {"accuracy": 0.99, "std": 0.004}}
    other = _judge(_row(), metrics, run="test")
    assert other["verdict"] == "not run at this scale" and "mnist" in other["why"]
    assert other["value"] is None  # a number at another scale is not shown beside it
    absent = _judge(_row(metric="classifier.validity"), metrics)
    assert absent["verdict"] == "not run at this scale" and "classifier.validity" in absent["why"]
    off = judge(_row(), "cfrl", None, "mnist", "results/cfrl/metrics.json")
    assert off["verdict"] == "not run at this scale" and "not among" in off["why"]
    why = "the original reports no spread at this size"
    nc = _judge(_row(not_comparable=why), metrics)
    assert nc["verdict"] == "not comparable" and nc["why"] == why and nc["value"] == 0.99
    assert _judge(_row(spread="classifier.std"), metrics)["spread"] == 0.004


def test_non_numeric_metric_is_refused_naming_it():
    with pytest.raises(InputError, match="classifier.accuracy"):
        _judge(_row(), {"classifier": {"accuracy": "high"}})


def _write(tmp_path, study, rows):
    path = tmp_path / f"{study}.yaml"
    path.write_text(yaml.safe_dump(rows))
    return path


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([_row(tolerence={"abs": 0.1})], "tolerence"),
        ([{**_row(), "claim": 3}], "claim"),
        ([_row(tolerance={"abs": -1})], "tolerance"),
        ([_row(tolerance={"abs": 0.1, "max": 1})], "tolerance"),
        ([_row(reference=None)], "needs a reference"),
        ([_row(), _row()], "appears twice"),
        ([_row(id="duffing.x")], "must start with 'cfrl.'"),
        ([_row(configs=[])], "configs"),
    ],
    ids=[
        "misspelled",
        "wrong-type",
        "negative",
        "two-kinds",
        "abs-no-ref",
        "dup",
        "prefix",
        "no-configs",
    ],
)
def test_bad_reference_files_are_refused(tmp_path, rows, message):
    path = _write(tmp_path, "cfrl", rows)
    with pytest.raises(InputError, match=message) as err:
        load_references([path], SCHEMA)
    assert str(path) in str(err.value)


def test_scorecard_counts_and_studies_without_references(tmp_path):
    refs = load_references([_write(tmp_path, "cfrl", [_row(configs=["test"])])], SCHEMA)
    metrics = {"cfrl": ({"classifier": {"accuracy": 0.5}}, "m.json"), "duffing": ({}, "d.json")}
    card = build_scorecard(refs, metrics, "test", ["duffing", "cfrl"], KNOWN)
    assert card["counts"]["deviates"] == 1 and len(card["rows"]) == 1
    assert card["studies_without_references"] == ["duffing", "diffig", "highway"]
    md = to_markdown(card)
    assert "no config/references/duffing.yaml" in md and "| cfrl | CFRL classifier" in md
    assert ".. list-table:: Reproduction scorecard" in to_rst(card)
    empty = build_scorecard({}, metrics, "test", ["duffing", "cfrl"], KNOWN)
    assert "list-table" not in to_rst(empty) and "No reference rows" in to_rst(empty)


def test_rst_table_renders_with_docutils(tmp_path):
    from docutils.core import publish_parts

    row = _row(configs=["test"], claim="a *starred* | piped_claim `x`")
    refs = load_references([_write(tmp_path, "cfrl", [row])], SCHEMA)
    card = build_scorecard(
        refs, {"cfrl": ({"classifier": {"accuracy": 0.99}}, "m")}, "test", ["cfrl"], KNOWN
    )
    html = publish_parts(
        to_rst(card), writer="html", settings_overrides={"report_level": 2, "halt_level": 2}
    )["html_body"]
    assert 'class="scorecard' in html and "a *starred* | piped_claim `x`" in html
    assert "reproduced: |ours" in html


def _script():
    path = REPO / "scripts" / "scorecard" / "build_scorecard.py"
    spec = importlib.util.spec_from_file_location("build_scorecard", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_main_writes_json_markdown_and_rst(tmp_path):
    (tmp_path / "mnist" / "cfrl").mkdir(parents=True)
    metrics = tmp_path / "mnist" / "cfrl" / "metrics.json"
    metrics.write_text(json.dumps({"classifier": {"accuracy": 0.985}}))
    ref = _write(tmp_path, "cfrl", [_row()])
    out = [tmp_path / f"scorecard.{ext}" for ext in ("json", "md", "rst")]
    runs = {"mnist": ["cfrl"]}
    _script().main([metrics], [ref], SCHEMA, *out, runs=runs, sheet={}, known=KNOWN)
    card = json.loads(out[0].read_text())
    assert card["rows"][0]["verdict"] == "reproduced" and card["rows"][0]["run"] == "mnist"
    assert "reproduced" in out[1].read_text() and "list-table" in out[2].read_text()


def test_main_writes_nothing_on_bad_references(tmp_path):
    ref = _write(tmp_path, "cfrl", [_row(tolerance={"absolute": 0.1})])
    out = [tmp_path / f"scorecard.{ext}" for ext in ("json", "md", "rst")]
    with pytest.raises(InputError, match="absolute"):
        _script().main([], [ref], SCHEMA, *out, runs={}, sheet={}, known=KNOWN)
    assert not any(p.exists() for p in out) and list(tmp_path.iterdir()) == [ref]


def test_repository_reference_files_are_valid():
    paths = sorted((REPO / "config" / "references").glob("*.yaml"))
    refs = load_references(paths, SCHEMA)
    assert set(refs) <= set(KNOWN)
