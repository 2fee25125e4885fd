"""The scorecard engine on constructed metrics: every verdict in each kind's words (published
and derived: reproduced / deviates; goal: met / missed) and the counts per kind, every
tolerance, a misspelt metric path refused naming the row, bad reference files refused naming
the row, a study without a references file, the rule script's main() writing its three files,
and the repository's four reference files valid with every metric path written by the
studies."""

import importlib.util
import json

import pytest
import yaml

from conftest import REPO
from workflow_state import completed_test_run
from xai_repro.common import InputError
from xai_repro.scorecard import (
    ABSENT,
    KINDS,
    VERDICTS,
    build_run_scorecard,
    judge,
    load_references,
    lookup,
    to_markdown,
    to_rst,
)

SCHEMA = REPO / "config" / "schema" / "references.schema.yaml"
KNOWN = ["duffing", "cfrl", "diffig", "highway"]


def _row(**changes):
    row = {
        "id": "cfrl.classifier_accuracy",
        "kind": "published",
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


def _build(refs, metrics, run, studies, sheet=None):
    """The scorecard of one built run ``run`` of ``studies``; ``metrics``: study -> metrics."""
    given = {
        (run, study): (data, f"results/{run}/{study}/metrics.json")
        for study, data in metrics.items()
    }
    return build_run_scorecard(refs, given, {run: studies}, sheet or {}, KNOWN)


def _judge(row, metrics, run="mnist"):
    return judge(row, "cfrl", metrics, run, "results/cfrl/metrics.json")


def test_lookup_follows_dots_and_list_indices():
    metrics = {"a": {"b": [{"c": 1.5}, {"c": 2.5}]}}
    assert lookup(metrics, "a.b.1.c") == 2.5
    assert lookup(metrics, "a.b.2.c") is None
    assert lookup(metrics, "a.x") is None
    assert lookup({"a": None}, "a", ABSENT) is None  # present null
    assert (
        lookup({"a": None}, "a.b", ABSENT) is ABSENT and lookup(metrics, "a.b.2", ABSENT) is ABSENT
    )


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


@pytest.mark.parametrize(
    ("kind", "value", "verdict"),
    [
        ("published", 0.985, "reproduced"),
        ("published", 0.5, "deviates"),
        ("derived", 0.985, "reproduced"),
        ("derived", 0.5, "deviates"),
        ("goal", 0.985, "met"),
        ("goal", 0.5, "missed"),
    ],
)
def test_verdict_words_follow_the_kind(kind, value, verdict):
    out = _judge(_row(kind=kind), {"classifier": {"accuracy": value}})
    assert out["verdict"] == verdict and out["kind"] == kind


def test_not_run_not_comparable_and_spread():
    metrics = {"classifier": {"accuracy": 0.99, "std": 0.004, "loss": None}}
    other = _judge(_row(), metrics, run="test")
    assert other["verdict"] == "not run at this scale" and "mnist" in other["why"]
    assert other["value"] is None  # a number at another scale is not shown beside it
    off = judge(_row(), "cfrl", None, "mnist", "results/cfrl/metrics.json")
    assert off["verdict"] == "not run at this scale" and "not among" in off["why"]
    why = "the original reports no spread at this size"
    nc = _judge(_row(not_comparable=why), metrics)
    assert nc["verdict"] == "not comparable" and nc["why"] == why and nc["value"] == 0.99
    assert _judge(_row(spread="classifier.std"), metrics)["spread"] == 0.004
    null = _judge(_row(metric="classifier.loss"), metrics)  # present, but the run wrote null
    assert null["verdict"] == "not comparable" and "null" in null["why"]
    why = "the workflow writes no loss"
    for run in ("mnist", "test"):  # a row with no metric is not comparable in any run
        bare = _judge(_row(metric=None, tolerance=None, configs=None, not_comparable=why), {}, run)
        assert bare["verdict"] == "not comparable" and bare["why"] == why


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"metric": "classifier.acuracy"}, "'classifier.acuracy'"),
        ({"metric": "clasifier.accuracy"}, "'clasifier.accuracy'"),
        ({"metric": "classifier.accuracy.0"}, "'classifier.accuracy.0'"),
        ({"spread": "classifier.sd"}, "spread 'classifier.sd'"),
    ],
    ids=["leaf", "parent", "index", "spread"],
)
def test_a_misspelt_metric_path_fails_loudly_naming_the_row(changes, named):
    metrics = {"classifier": {"accuracy": 0.99, "std": 0.004}}
    with pytest.raises(InputError, match="cfrl.classifier_accuracy") as err:
        _judge(_row(**changes), metrics)
    assert named in str(err.value) and "results/cfrl/metrics.json" in str(err.value)
    # at a config the row does not list, the path is not looked up: not run there
    assert _judge(_row(**changes), metrics, run="test")["verdict"] == "not run at this scale"
    # a row that names the setting which leaves its metric out is "not run", with that reason
    why = "cfrl.classifier.run is false"
    out = _judge(_row(**changes, absent_when=why), metrics)
    assert out["verdict"] == "not run at this scale" and why in out["why"]


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
        ([_row(kind="goal", reference=None)], "needs a reference"),
        ([_row(), _row()], "appears twice"),
        ([_row(id="duffing.x")], "must start with 'cfrl.'"),
        ([_row(configs=[])], "configs"),
        ([{k: v for k, v in _row().items() if k != "kind"}], "'kind' is a required property"),
        ([_row(kind="claimed")], "claimed"),
        ([_row(reference=None, tolerance={"min": 0.9})], "published row needs the original"),
        ([_row(kind="derived", reference=None, tolerance={"min": 0.9})], "derived row needs"),
        ([_row(metric=None)], "not_comparable"),
        ([_row(metric=None, not_comparable="")], "not_comparable"),
        ([{k: v for k, v in _row().items() if k != "configs"}], "'configs' is a required"),
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
        "no-kind",
        "unknown-kind",
        "published-without-number",
        "derived-without-number",
        "no-metric-no-reason",
        "no-metric-empty-reason",
        "metric-without-configs",
    ],
)
def test_bad_reference_files_are_refused(tmp_path, rows, message):
    path = _write(tmp_path, "cfrl", rows)
    with pytest.raises(InputError, match=message) as err:
        load_references([path], SCHEMA)
    assert str(path) in str(err.value)


def test_goal_rows_need_no_reference_and_metricless_rows_no_tolerance(tmp_path):
    rows = [
        _row(id="cfrl.a", kind="goal", reference=None, tolerance={"min": 0.9}),
        _row(id="cfrl.b", metric=None, not_comparable="not written", tolerance=None, configs=None),
    ]
    rows[1] = {k: v for k, v in rows[1].items() if k not in ("tolerance", "configs")}
    assert [r["id"] for r in load_references([_write(tmp_path, "cfrl", rows)], SCHEMA)["cfrl"]] == [
        "cfrl.a",
        "cfrl.b",
    ]


def test_scorecard_words_and_counts_per_kind(tmp_path):
    """Constructed rows of each kind, each verdict: the counts per kind (all runs and the
    built run), the headline lines and the rendered tables."""
    metrics = {"x": {"good": 1.0, "bad": 0.0, "none": None}}
    spec = [  # (kind, metric, configs, not_comparable) -> expected verdict
        ("published", "x.good", ["test"], None, "reproduced"),
        ("published", "x.good", ["test"], None, "reproduced"),
        ("published", "x.bad", ["test"], None, "deviates"),
        ("published", None, None, "printed only", "not comparable"),
        ("published", "x.good", ["paper"], None, "not run at this scale"),
        ("derived", "x.good", ["test"], None, "reproduced"),
        ("derived", "x.none", ["test"], None, "not comparable"),
        ("goal", "x.good", ["test"], None, "met"),
        ("goal", "x.good", ["test"], None, "met"),
        ("goal", "x.bad", ["test"], None, "missed"),
    ]
    rows = []
    for i, (kind, metric, configs, nc, _) in enumerate(spec):
        row = _row(id=f"cfrl.r{i}", kind=kind, metric=metric, configs=configs, not_comparable=nc)
        row.update(reference=1.0, tolerance={"abs": 0.1})
        if metric is None:
            del row["tolerance"], row["configs"]
        rows.append(row)
    refs = load_references([_write(tmp_path, "cfrl", rows)], SCHEMA)
    card = _build(refs, {"cfrl": metrics}, "test", ["cfrl"], sheet={"paper": "cluster"})
    assert [r["verdict"] for r in card["rows"]] == [s[-1] for s in spec]
    assert [r["kind"] for r in card["rows"]] == [s[0] for s in spec]
    assert [r["run"] for r in card["rows"]] == [
        s[2][0] if s[2] else None for s in spec
    ]  # a row without a metric has no run
    assert set(card["counts_by_kind"]) == set(KINDS)
    by_kind = {k: {v: n for v, n in c.items() if n} for k, c in card["counts_by_kind"].items()}
    assert by_kind == {
        "published": {
            "reproduced": 2,
            "deviates": 1,
            "not comparable": 1,
            "not run at this scale": 1,
        },
        "derived": {"reproduced": 1, "not comparable": 1},
        "goal": {"met": 2, "missed": 1},
    }
    assert card["totals"] == {
        v: sum(c[v] for c in card["counts_by_kind"].values()) for v in VERDICTS
    }
    assert card["headline"] == [
        "published: 2 of 3 reproduced (1 deviates); 1 not comparable; 1 not run at this scale",
        "derived: 1 of 1 reproduced; 1 not comparable",
        "goal: 2 of 3 met (1 missed)",
    ]
    assert card["runs"]["test"]["headline"] == [
        "published: 2 of 3 reproduced (1 deviates)",
        "derived: 1 of 1 reproduced; 1 not comparable",
        "goal: 2 of 3 met (1 missed)",
    ]
    assert card["runs"]["paper"]["headline"] == [
        "published: none compared; 1 not run at this scale"
    ]
    assert card["counts"]["cfrl"]["any run"]["not comparable"] == 1
    md = to_markdown(card)
    kinds = md[md.index("## Verdicts per kind") : md.index("## Verdicts per study and run")]
    assert "| all runs | 2 of 3 reproduced (1 deviates); 1 not comparable; 1 not run" in kinds
    assert "| test | 2 of 3 reproduced (1 deviates) | 1 of 1 reproduced; 1 not comparable" in kinds
    assert "| cfrl: CFRL classifier test accuracy | 0 | 1 | missed | test | goal |" in md
    assert (
        "| cfrl: CFRL classifier test accuracy | — | 1 | not comparable | any run | published |"
        in md
    )
    assert "- 2 of 3 met (1 missed)" in to_rst(card)


def test_scorecard_counts_and_studies_without_references(tmp_path):
    refs = load_references([_write(tmp_path, "cfrl", [_row(configs=["test"])])], SCHEMA)
    metrics = {"cfrl": {"classifier": {"accuracy": 0.5}}, "duffing": {}}
    card = _build(refs, metrics, "test", ["duffing", "cfrl"])
    assert card["totals"]["deviates"] == 1 and len(card["rows"]) == 1
    assert card["headline"] == ["published: 0 of 1 reproduced (1 deviates)"]
    elsewhere = _build(refs, metrics, "mnist", ["duffing", "cfrl"])
    assert elsewhere["headline"] == ["published: none compared; 1 not run at this scale"]
    assert elsewhere["runs"]["test"] == {
        "size": "not in config/runs.yaml",
        "built": False,
        "built_by": None,
        "studies": [],
        "metrics_modified": None,
        "missing": None,
        "seeds": None,
        "counts_by_kind": elsewhere["counts_by_kind"],
        "headline": elsewhere["headline"],
    }
    assert card["studies_without_references"] == ["duffing", "diffig", "highway"]
    md = to_markdown(card)
    assert "no config/references/duffing.yaml" in md
    assert (
        "| cfrl: CFRL classifier test accuracy | 0.5 | 0.9879 | deviates | test | published |" in md
    )
    assert ".. list-table:: Reproduction scorecard" in to_rst(card)
    empty = _build({}, metrics, "test", ["duffing", "cfrl"])
    assert "list-table" not in to_rst(empty) and "No reference rows" in to_rst(empty)


def test_rst_table_renders_with_docutils(tmp_path):
    from docutils.core import publish_parts

    row = _row(configs=["test"], claim="a *starred* | piped_claim `x`", kind="goal")
    refs = load_references([_write(tmp_path, "cfrl", [row])], SCHEMA)
    card = _build(refs, {"cfrl": {"classifier": {"accuracy": 0.99}}}, "test", ["cfrl"])
    html = publish_parts(
        to_rst(card), writer="html", settings_overrides={"report_level": 2, "halt_level": 2}
    )["html_body"]
    assert 'class="scorecard' in html and "a *starred* | piped_claim `x`" in html
    assert "|ours − reference| = " in html and ">met<" in html
    assert (
        html.index("scorecard-kinds")
        < html.index("scorecard-counts")
        < html.index('id="scorecard"')
    )


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


def test_build_scorecard_names_every_bad_row_and_writes_nothing(tmp_path):
    rows = [_row(id="cfrl.a", metric="classifier.acc"), _row(id="cfrl.b", metric="clasifier.x")]
    refs = load_references([_write(tmp_path, "cfrl", rows)], SCHEMA)
    with pytest.raises(InputError, match=r"cfrl\.a.*\n.*cfrl\.b") as err:
        _build(refs, {"cfrl": {"classifier": {"accuracy": 0.99}}}, "mnist", ["cfrl"])
    assert "'classifier.acc'" in str(err.value) and "'clasifier.x'" in str(err.value)
    assert "results/mnist/cfrl/metrics.json" in str(err.value)


def test_repository_reference_files_are_valid():
    """All four studies' files are present and valid, every row has a kind, and each kind
    occurs (a file lost or a kind dropped fails here, not silently as fewer rows)."""
    paths = sorted((REPO / "config" / "references").glob("*.yaml"))
    assert sorted(p.stem for p in paths) == sorted(KNOWN)
    refs = load_references(paths, SCHEMA)
    assert sorted(refs) == sorted(KNOWN) and all(refs[s] for s in KNOWN), refs.keys()
    kinds = {row["kind"] for rows in refs.values() for row in rows}
    assert {"published", "goal"} <= kinds <= set(KINDS)


@pytest.mark.slow
def test_test_run_rows_pass_and_every_metric_path_is_written():
    """The test config's finished run (one per pytest run, shared): each row comparable at
    ``test`` is reproduced or met, and every row's metric and spread paths exist in what
    its study wrote, so a misspelt or renamed path in any reference file fails here even
    when no run at the row's own config is made. Only a row that names the setting leaving
    its metric out (``absent_when``) may miss it."""
    work = completed_test_run()
    paths = sorted((REPO / "config" / "references").glob("*.yaml"))
    refs = load_references(paths, SCHEMA)
    card = json.loads((work / "results" / "scorecard.json").read_text())
    at_test = [
        r for r in card["rows"] if r["run"] == "test" and r["verdict"] != "not run at this scale"
    ]
    assert {r["verdict"] for r in at_test if r["metric"]} <= {"reproduced", "met"}, at_test
    assert [r["id"] for r in at_test if r["metric"]], "no row is comparable at the test config"
    absent = {}
    for study, rows in refs.items():
        metrics = json.loads((work / "results" / "test" / study / "metrics.json").read_text())
        for row in rows:
            for key in ("metric", "spread"):
                path = row.get(key)
                if path and lookup(metrics, path, ABSENT) is ABSENT and not row.get("absent_when"):
                    absent.setdefault(row["id"], []).append(path)
    assert not absent, f"metric paths not in the test run's metrics.json: {absent}"
