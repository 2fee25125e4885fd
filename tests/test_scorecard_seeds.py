"""A row over the seeds of a seeds run (xai_repro.scorecard.seeds): Student t intervals,
Clopper-Pearson on pooled counts for rates, the three outcomes, the seeds that would decide
an inconclusive row, the scorecard and its figure over a seeds run."""

import json
import math

import pytest
from docutils.core import publish_parts

import build_scorecard
import plot_seeds
from xai_repro.common import InputError
from xai_repro.scorecard.runs import build_run_scorecard, to_markdown, to_rst
from xai_repro.scorecard.seeds import (
    accepted,
    aggregate,
    clopper_pearson,
    decide,
    judge_seeds,
    locate,
    rate_counts,
    seeds_needed,
    t_half_width,
    t_interval,
)

KNOWN = ["duffing", "cfrl", "diffig", "highway"]


def _row(**changes):
    row = {
        "id": "duffing.shap_agreement",
        "kind": "goal",
        "claim": "SHAP agrees with the true model",
        "metric": "agreement",
        "spread": None,
        "reference": None,
        "source": "this project's bound",
        "tolerance": {"min": 0.9},
        "configs": ["default"],
        "not_comparable": None,
    }
    return {**row, **changes}


def _spread(mean: float, sd: float, n: int) -> list[float]:
    """``n`` values of exactly this mean and sample sd (a symmetric pattern)."""
    z = [i - (n - 1) / 2 for i in range(n)]
    scale = math.sqrt(sum(v * v for v in z) / (n - 1))
    return [mean + sd * v / scale for v in z]


def test_t_interval_matches_the_textbook():
    mean, lo, hi, sd = t_interval([1.0, 2.0, 3.0])
    assert (mean, sd) == (2.0, 1.0)
    # t(0.975, 2) = 4.3027
    assert hi - mean == pytest.approx(4.302653 / math.sqrt(3), rel=1e-6)
    assert lo == pytest.approx(2 * mean - hi)


def test_clopper_pearson_exact_ends_and_a_known_value():
    assert clopper_pearson(0, 10) == (0.0, pytest.approx(1 - 0.025 ** (1 / 10)))
    assert clopper_pearson(10, 10) == (pytest.approx(0.025 ** (1 / 10)), 1.0)
    lo, hi = clopper_pearson(5, 10)
    assert (lo, hi) == (pytest.approx(0.187086, abs=1e-6), pytest.approx(0.812914, abs=1e-6))


def test_a_rate_is_recognised_by_its_trials():
    metrics = {"validity": {"validity": 0.9611111111111111, "valid": 865, "n": 900}}
    assert rate_counts(metrics, "validity.validity", 0.9611111111111111) == (865, 900)
    evaluation = {"trained": {"crash_rate": 0.08, "episodes": 50}}
    assert rate_counts(evaluation, "trained.crash_rate", 0.08) == (4, 50)
    assert rate_counts({"share": 0.08, "crashes": 4, "n": 50}, "share", 0.08) == (4, 50)
    # a fraction beside some integer, neither named a rate nor with its count, is no rate
    assert rate_counts({"agreement": 0.5, "episodes": 50}, "agreement", 0.5) is None
    assert rate_counts({"a": {"x": 0.0, "n": 10}}, "a.x", 0.0) is None
    assert rate_counts({"a": {"crash_rate": 0.123, "n": 10}}, "a.crash_rate", 0.123) is None
    assert rate_counts({"a": {"x": 0.5, "k": 4, "n": 10}}, "a.x", 0.5) is None  # 4 != 5
    assert rate_counts({"a": {"x": 0.5}}, "a.x", 0.5) is None  # no trials
    assert rate_counts({"x": 0.5, "n": 2}, "x", [0.5]) is None  # a list is not a rate


def test_tolerances_as_accepted_values():
    assert accepted({"abs": 0.5}, 2.0, 1) == [(1.5, 2.5)]
    assert accepted({"rel": 0.1}, [10.0, -20.0], 2) == [(8.0, 12.0), (-22.0, -18.0)]
    assert accepted({"min": 1}, None, 2) == [(1.0, math.inf)] * 2
    assert accepted({"max": 0}, None, 1) == [(-math.inf, 0.0)]
    assert accepted({"range": [6.2, 6.4]}, None, 1) == [(6.2, 6.4)]
    with pytest.raises(InputError, match="3 values but 2 reference"):
        accepted({"abs": 1}, [1, 2], 3)


def test_three_outcomes_element_by_element():
    bounds = [(0.0, 1.0), (0.0, 1.0)]
    assert decide([(0.1, 0.2), (0.5, 0.9)], bounds) == "pass"
    assert decide([(0.1, 0.2), (0.9, 1.2)], bounds) == "open"
    assert decide([(1.1, 1.2), (0.9, 1.2)], bounds) == "fail"  # one wholly outside decides


def test_a_row_flips_from_inconclusive_to_met_as_seeds_are_added():
    """Mean 0.93, seed-to-seed sd 0.03, bound >= 0.9: three seeds straddle the bound and
    name the seeds that would decide it; with that many seeds at the same spread the row is
    met, with one fewer it is still inconclusive."""
    row = _row()
    three = aggregate(row, {k: [v] for k, v in enumerate(_spread(0.93, 0.03, 3))}, None)
    assert three["verdict"] == "inconclusive"
    assert three["interval"][0] < 0.9 < three["interval"][1]
    needed = three["seeds_to_decide"]
    # n* = min{n : t(0.975, n-1) * 0.03 / sqrt(n) < 0.03}: t(0.975, 6) / sqrt(7) = 0.925
    assert needed == 7
    assert "7 seeds would decide it" in three["why"]
    before = aggregate(row, {k: [v] for k, v in enumerate(_spread(0.93, 0.03, needed - 1))}, None)
    assert before["verdict"] == "inconclusive"
    after = aggregate(row, {k: [v] for k, v in enumerate(_spread(0.93, 0.03, needed))}, None)
    assert after["verdict"] == "met"
    assert after["interval"][0] > 0.9 and after["seeds_to_decide"] is None
    assert after["seeds"] == list(range(needed))


def test_a_published_row_flips_from_inconclusive_to_deviates():
    row = _row(kind="published", reference=5.35, tolerance={"abs": 1.0})
    few = aggregate(row, {k: [v] for k, v in enumerate(_spread(3.9, 1.0, 3))}, None)
    assert few["verdict"] == "inconclusive" and few["seeds_to_decide"] is not None
    n = few["seeds_to_decide"]
    many = aggregate(row, {k: [v] for k, v in enumerate(_spread(3.9, 1.0, n))}, None)
    assert many["verdict"] == "deviates"
    assert many["interval"][1] < 5.35 - 1.0


def test_seeds_needed_follows_the_formula_and_gives_up_on_a_bound():
    half = lambda n: t_half_width(0.03, n)  # noqa: E731
    assert seeds_needed(half, 0.03, 3) == 7
    assert half(6) >= 0.03 > half(7)
    assert seeds_needed(half, 0.0, 3) is None  # the mean on the bound: no n decides


def test_a_rate_pools_counts_and_keeps_the_seeds_spread():
    row = _row(metric="validity.validity", tolerance={"min": 0.95})
    # identical seeds: the t interval is a point, the pooled counts give the width
    same = aggregate(row, {k: [0.97] for k in range(3)}, {k: (97, 100) for k in range(3)})
    assert same["interval"] == pytest.approx(list(clopper_pearson(291, 300)))
    assert same["interval_method"].startswith("Clopper-Pearson")
    # spread seeds: the interval is at least as wide as the t interval over their rates
    rates = [0.91, 0.97, 0.99]
    counts = {k: (round(100 * r), 100) for k, r in enumerate(rates)}
    spread = aggregate(row, {k: [r] for k, r in enumerate(rates)}, counts)
    _, lo, hi, _ = t_interval(rates)
    assert spread["interval"][0] <= lo and spread["interval"][1] == 1.0  # clipped to [0, 1]
    assert spread["verdict"] == "inconclusive"


def test_list_metrics_are_judged_element_by_element():
    row = _row(tolerance={"max": 0.0}, metric="diff.ci95")
    values = {0: [-0.2, -0.05], 1: [-0.3, -0.04], 2: [-0.25, -0.045]}
    result = aggregate(row, values, None)
    assert result["verdict"] == "met"
    assert len(result["interval"]) == 2 and len(result["value"]) == 2
    with pytest.raises(InputError, match="differ in length"):
        aggregate(row, {0: [1.0], 1: [1.0, 2.0]}, None)


def _seed(value):
    return ({"agreement": value}, f"results/r/seed/duffing/metrics.json ({value})")


def test_judge_seeds_keeps_each_seed_and_leaves_out_nulls():
    row = _row()
    judged = judge_seeds(
        row, "duffing", {0: _seed(0.95), 1: _seed(None), 2: _seed(0.96)}, "default"
    )
    assert judged["seeds"] == [0, 2]
    assert [s["verdict"] for s in judged["per_seed"]] == ["met", "not comparable", "met"]
    assert "seeds [1] gave no number" in judged["why"]
    one = judge_seeds(row, "duffing", {0: _seed(0.95), 1: _seed(None)}, "default")
    assert one["verdict"] == "not comparable" and "1 of 2 seeds" in one["why"]
    elsewhere = judge_seeds(row, "duffing", {0: _seed(0.95), 1: _seed(0.9)}, "paper")
    assert elsewhere["verdict"] == "not run at this scale"


def _seeded_card():
    refs = {"duffing": [_row()], "cfrl": [_row(id="cfrl.x", metric="x")]}
    metrics = {("default", "duffing"): ({"agreement": 0.97}, "results/default/duffing/m")}
    seed_metrics = {
        ("duffing_seeds", "duffing"): {
            k: ({"agreement": v}, f"results/duffing_seeds/seed{k}/duffing/metrics.json")
            for k, v in enumerate(_spread(0.93, 0.03, 3))
        }
    }
    seeded = {
        "duffing_seeds": {"seeds": [0, 1, 2], "compare_as": "default"},
        "cfrl_seeds": {"seeds": [0, 1, 2], "compare_as": "default"},
    }
    sheet = {"default": "laptop", "duffing_seeds": "laptop", "cfrl_seeds": "laptop"}
    built = {"default": ["duffing"], "duffing_seeds": ["duffing"]}
    return build_run_scorecard(
        refs, metrics, built, sheet, KNOWN, seeded=seeded, seed_metrics=seed_metrics
    )


def test_a_seeds_run_shows_the_rows_of_the_run_it_compares_as():
    card = _seeded_card()
    rows = {(r["id"], r["run"]): r for r in card["rows"]}
    # the seeds run's row beside the single-seed one; no row of a study it does not run,
    # and no row at a seeds run that was not built
    assert set(rows) == {
        ("duffing.shap_agreement", "default"),
        ("duffing.shap_agreement", "duffing_seeds"),
        ("cfrl.x", "default"),
    }
    seeded = rows[("duffing.shap_agreement", "duffing_seeds")]
    assert seeded["verdict"] == "inconclusive" and seeded["seeds"] == [0, 1, 2]
    assert seeded["seeds_to_decide"] == 7
    assert rows[("duffing.shap_agreement", "default")]["seeds"] is None
    assert card["runs"]["duffing_seeds"]["seeds"] == [0, 1, 2]
    assert card["runs"]["duffing_seeds"]["headline"] == ["goal: 0 of 1 met (1 inconclusive)"]
    assert card["counts"]["duffing"]["duffing_seeds"]["inconclusive"] == 1


def test_seeds_rows_render_with_their_interval_and_seed_count():
    card = _seeded_card()
    md = to_markdown(card)
    assert "Runs built: default, duffing_seeds (3 seeds)." in md
    assert "(n = 3 seeds)" in md and "| inconclusive |" in md
    rst = to_rst(card)
    html = publish_parts(
        rst, writer="html", settings_overrides={"report_level": 2, "halt_level": 2}
    )["html_body"]
    assert "(n = 3 seeds)" in html


def test_a_seeds_run_missing_a_seed_is_refused():
    refs = {"duffing": [_row()]}
    with pytest.raises(InputError, match="duffing seed 1"):
        build_run_scorecard(
            refs,
            {},
            {"r": ["duffing"]},
            {"r": "laptop"},
            KNOWN,
            seeded={"r": {"seeds": [0, 1], "compare_as": "default"}},
            seed_metrics={("r", "duffing"): {0: _seed(0.9)}},
        )


def test_locate_tells_seeds_from_runs():
    seeded = {"r": {"seeds": [0, 1]}}
    assert locate("results/r/seed1/duffing/metrics.json", seeded) == ("r", 1, "duffing")
    assert locate("results/r/duffing/metrics.json", seeded) == ("r", None, "duffing")
    # a run named like a seed folder is a run, unless it is inside a seeds run
    assert locate("results/seed1/cfrl/metrics.json", seeded) == ("seed1", None, "cfrl")


def _write(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return str(path)


def test_main_reads_each_seed_and_the_figure_draws_them(tmp_path):
    refs = tmp_path / "config/references/duffing.yaml"
    refs.parent.mkdir(parents=True)
    refs.write_text(json.dumps([_row()]))
    schema = "config/schema/references.schema.yaml"
    paths = [
        _write(tmp_path / f"results/s/seed{k}/duffing/metrics.json", {"agreement": v})
        for k, v in enumerate(_spread(0.95, 0.01, 4))
    ]
    out = {name: tmp_path / f"scorecard.{name}" for name in ("json", "md", "rst")}
    build_scorecard.main(
        paths,
        [str(refs)],
        schema,
        out["json"],
        out["md"],
        out["rst"],
        runs={"s": ["duffing"]},
        sheet={"s": "laptop"},
        known=KNOWN,
        seeded={"s": {"seeds": [0, 1, 2, 3], "compare_as": "default"}},
    )
    card = json.loads(out["json"].read_text())
    (row,) = [r for r in card["rows"] if r["run"] == "s"]
    assert row["verdict"] == "met" and row["seeds"] == [0, 1, 2, 3]
    assert row["value"] == pytest.approx(0.95)
    figure = tmp_path / "results/s/seeds.png"
    plot_seeds.main(out["json"], figure, run="s")
    assert figure.stat().st_size > 0
    with pytest.raises(InputError, match="not a seeds run"):
        plot_seeds.main(out["json"], tmp_path / "x.png", run="default")
