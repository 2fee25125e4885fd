"""The rule script's main() on small constructed seed folders of every study's format."""

import pytest
from seed_folders import OPTIONS, make_seed

import measure_stability
from xai_repro.common import InputError, read_json, write_json
from xai_repro.stability.measure import measure

STUDIES = sorted(OPTIONS)


def _run(tmp_path, study, metrics, seeds, **kwargs):
    """main() as the rule runs it; returns the run's metrics.json's ``stability`` and the
    run's study folder."""
    out = tmp_path / "results" / "run" / study
    measure_stability.main(
        [str(p) for p in metrics],
        out / "metrics.json",
        out / "figures" / "stability.png",
        run="run",
        study=study,
        seeds=seeds,
        top_k_fraction=kwargs.get("top_k_fraction", 0.2),
        options=OPTIONS[study],
    )
    metrics = read_json(out / "metrics.json")
    assert list(metrics) == ["stability"]
    return metrics["stability"], out


@pytest.mark.parametrize("study", STUDIES)
def test_identical_seeds_agree_fully(tmp_path, study):
    metrics = [make_seed(tmp_path, study, seed, draw=1) for seed in (0, 3, 5)]
    result, out = _run(tmp_path, study, metrics, [0, 3, 5])
    assert (out / "figures" / "stability.png").stat().st_size > 0
    assert result["run"] == "run"
    assert result["study"] == study and result["seeds"] == [0, 3, 5]
    assert result["vectors"]
    for name, v in result["vectors"].items():
        assert v["pairs"] == 3, name
        assert v["spearman"]["min"] == pytest.approx(1.0), name
        assert v["top_k_overlap"]["min"] == 1.0, name
        assert [p["seeds"] for p in v["per_pair"]] == [[0, 3], [0, 5], [3, 5]]
    for key, sanity in result["sanity"].items():
        assert sanity["n"] == 3, key
        assert set(sanity["per_seed"]) == {"0", "3", "5"}


@pytest.mark.parametrize("study", STUDIES)
def test_different_seeds_disagree_and_sanity_is_per_seed(tmp_path, study):
    metrics = [make_seed(tmp_path, study, 0), make_seed(tmp_path, study, 1, shift=0.5)]
    result, _ = _run(tmp_path, study, metrics, [0, 1])
    means = [v["spearman"]["mean"] for v in result["vectors"].values()]
    assert any(m is not None and m < 0.99 for m in means)
    for sanity in result["sanity"].values():
        values = sanity["per_seed"]
        assert sanity["mean"] == pytest.approx((values["0"] + values["1"]) / 2)


def test_highway_and_duffing_report_their_reference(tmp_path):
    for study in ("highway", "duffing"):
        metrics = [make_seed(tmp_path, study, seed) for seed in (0, 1)]
        result, _ = _run(tmp_path, study, metrics, [0, 1])
        assert result["reference"]
        for v in result["vectors"].values():
            assert v["reference"]["seeds"] == 2
            assert v["reference"]["between_seeds"]["pairs"] == 1
    metrics = [make_seed(tmp_path, "diffig", seed) for seed in (0, 1)]
    result, _ = _run(tmp_path, "diffig", metrics, [0, 1])
    assert result["reference"] is None
    assert all(v["reference"] is None for v in result["vectors"].values())


def test_the_run_metrics_have_one_shape_for_every_study(tmp_path):
    """Every study's metrics.json holds the same keys under ``stability``, and every vector
    the same keys (``reference`` null where the study has none)."""
    shapes = set()
    for study in STUDIES:
        metrics = [make_seed(tmp_path, study, seed) for seed in (0, 1)]
        result, _ = _run(tmp_path, study, metrics, [0, 1])
        shapes.add(tuple(result))
        for v in result["vectors"].values():
            shapes.add(("vector", *v))
    assert shapes == {
        ("run", "study", "seeds", "top_k_fraction", "reference", "vectors", "sanity"),
        (
            "vector",
            "source",
            "entries_per_seed",
            "pairs",
            "spearman",
            "top_k_overlap",
            "chance_top_k_overlap",
            "per_pair",
            "reference",
        ),
    }


def test_highway_randomisation_check_sits_beside_stability(tmp_path):
    metrics = [make_seed(tmp_path, "highway", seed, shift=0.1 * seed) for seed in (0, 1)]
    result, _ = _run(tmp_path, "highway", metrics, [0, 1])
    check = result["sanity"]["randomisation_rank_correlation"]
    assert check["per_seed"] == {"0": pytest.approx(0.1), "1": pytest.approx(0.2)}
    assert "randomisation" in check["meaning"]


def test_a_missing_sanity_key_names_the_file_and_nothing_is_written(tmp_path):
    metrics = [make_seed(tmp_path, "diffig", seed) for seed in (0, 1)]
    write_json(metrics[1], {"returns": {}})
    with pytest.raises(InputError, match=r"seed1/diffig/metrics.json: missing key"):
        _run(tmp_path, "diffig", metrics, [0, 1])
    assert not (tmp_path / "results" / "run" / "diffig").exists()


def test_seeds_and_files_must_match(tmp_path):
    metrics = [make_seed(tmp_path, "cfrl", seed) for seed in (0, 1)]
    with pytest.raises(InputError, match="2 metrics.json files for the 3 seeds"):
        _run(tmp_path, "cfrl", metrics, [0, 1, 2])


def test_one_seed_or_a_bad_top_k_is_refused(tmp_path):
    path = make_seed(tmp_path, "cfrl", 0)
    with pytest.raises(InputError, match="at least 2"):
        measure("cfrl", {0: path}, top_k_fraction=0.1, options=OPTIONS["cfrl"])
    with pytest.raises(InputError, match="top_k_fraction"):
        measure("cfrl", {0: path, 1: path}, top_k_fraction=0.0, options=OPTIONS["cfrl"])
    with pytest.raises(InputError, match="no attribution reader"):
        measure("atari", {0: path, 1: path}, top_k_fraction=0.1, options={})
