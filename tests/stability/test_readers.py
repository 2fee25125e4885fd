"""The readers turn each study's output files into named vectors, and name bad files."""

import numpy as np
import pandas as pd
import pytest
from seed_folders import EXPLAINERS, make_seed

from xai_repro.common import InputError, read_json, write_csv, write_json, write_npz
from xai_repro.stability.readers import (
    attention_by_distance,
    image_digest,
    read_cfrl,
    read_diffig,
    read_duffing,
    read_highway,
)


def test_attention_is_ranked_by_distance_to_the_ego():
    # ego at (0.2, 0.2); vehicle 1 at distance 0.5, vehicle 2 at 0.1, vehicle 3 absent
    obs = np.zeros((1, 4, 7))
    obs[0, :, 0] = [1, 1, 1, 0]
    obs[0, 0, 1:3] = [0.2, 0.2]
    obs[0, 1, 1:3] = [0.7, 0.2]
    obs[0, 2, 1:3] = [0.2, 0.3]
    attention = np.array([[[0.2, 0.3, 0.5, 0.0], [0.4, 0.1, 0.5, 0.0]]])  # two heads
    result = attention_by_distance(obs, attention)
    # head means 0.3, 0.2, 0.5, times the 3 entities present (1 = an even share)
    np.testing.assert_allclose(result[:3], [0.9, 1.5, 0.6])
    assert np.isnan(result[3])


def test_even_attention_is_flat_whatever_the_number_of_vehicles():
    # two states, 2 and 4 entities present, each attended evenly: every rank gets 1
    obs = np.zeros((2, 4, 7))
    obs[0, :2, 0] = 1
    obs[1, :, 0] = 1
    obs[:, :, 1] = np.arange(4) * 0.1
    attention = np.array([[[0.5, 0.5, 0, 0]], [[0.25] * 4]])
    np.testing.assert_allclose(attention_by_distance(obs, attention), [1.0] * 4)


def test_highway_vectors_trained_beside_untrained(tmp_path):
    folder = make_seed(tmp_path, "highway", 0).parent
    vectors = read_highway(folder)
    assert set(vectors) == {
        "ig_abs_per_feature",
        "ig_signed_per_feature",
        "ig_signed_ego_slot",
        "shap_importance",
        "attention_by_distance",
    }
    ig = read_json(folder / "analysis" / "explain_ig_highway.json")["ig"]
    v = vectors["ig_abs_per_feature"]
    assert v.vector["IDLE/vx"] == ig["trained"]["abs_per_feature"][1][3]
    assert v.reference["FASTER/x"] == ig["untrained"]["abs_per_feature"][2][1]
    ego = vectors["ig_signed_ego_slot"].vector
    assert ego["SLOWER/y"] == ig["trained"]["signed_per_slot"][0][0][2]
    attention = vectors["attention_by_distance"].vector
    assert list(attention.index[:2]) == ["ego", "nearest 1"]
    assert np.isnan(attention["nearest 4"])  # the last slot is never present


def test_highway_missing_key_names_file_and_key(tmp_path):
    folder = make_seed(tmp_path, "highway", 0).parent
    path = folder / "analysis" / "explain_shap_highway.json"
    write_json(path, {"shap_feature_importance": {"trained": [[1.0]]}})
    with pytest.raises(InputError, match=r"explain_shap_highway.json: missing key "):
        read_highway(folder)


def test_highway_attention_not_matching_obs_is_refused(tmp_path):
    folder = make_seed(tmp_path, "highway", 0).parent
    write_npz(
        folder / "rollouts" / "trained.npz", obs=np.zeros((3, 5, 7)), attention=np.zeros((3, 1, 4))
    )
    with pytest.raises(InputError, match="trained.npz: attention"):
        read_highway(folder)


def test_duffing_keys_points_by_slice_and_value(tmp_path):
    folder = make_seed(tmp_path, "duffing", 0).parent
    vectors = read_duffing(folder, EXPLAINERS)
    assert set(vectors) == set(EXPLAINERS)
    v = vectors["lime"]
    assert len(v.vector) == 8 * 2 * 3
    table = pd.read_csv(folder / "attributions" / "lime.csv")
    row = table[(table["model"] == "ml") & (table["slice"] == "t") & (table["value"] == 2.5)]
    assert v.vector["t=2.5/vt/v0"] == row[row["output"] == "vt"]["attr_v0"].item()
    true_row = table[(table["model"] == "true") & (table["slice"] == "x0")].iloc[0]
    assert v.reference["x0=-1.0/xt/t"] == true_row["attr_t"]


def test_duffing_duplicate_point_is_refused(tmp_path):
    folder = make_seed(tmp_path, "duffing", 0).parent
    path = folder / "attributions" / "exact.csv"
    table = pd.read_csv(path)
    write_csv(path, pd.concat([table, table.iloc[:1]]))
    with pytest.raises(InputError, match="exact.csv: a .* row appears twice"):
        read_duffing(folder, EXPLAINERS)


def test_diffig_keys_the_matrix_by_grid_position_without_the_diagonal(tmp_path):
    folder = make_seed(tmp_path, "diffig", 0).parent
    vectors = read_diffig(folder)
    matrix = vectors["diff_ig_matrix"].vector
    assert len(matrix) == 3 * 2 * 4
    assert "grid 1/grid 1/pole angle" not in matrix
    data = read_json(folder / "diff_ig.json")
    assert matrix["grid 2/grid 0/pole angle"] == data["matrix"]["attribution"][2][0][2]
    pairs = vectors["diff_ig_pairs"].vector
    assert pairs["10/20/cart velocity"] == data["pairs"][0]["attribution"][1]
    assert vectors["diff_ig_matrix"].reference is None


def test_diffig_episodes_of_different_length_share_the_grid(tmp_path):
    folders = [make_seed(tmp_path, "diffig", seed, draw=1).parent for seed in (0, 1)]
    data = read_json(folders[1] / "diff_ig.json")
    data["matrix"]["steps"] = [0, 8, 16]  # a shorter episode, the same grid
    write_json(folders[1] / "diff_ig.json", data)
    a, b = (read_diffig(f)["diff_ig_matrix"].vector for f in folders)
    pd.testing.assert_series_equal(a, b)


def test_diffig_matrix_of_the_wrong_shape_is_refused(tmp_path):
    folder = make_seed(tmp_path, "diffig", 0).parent
    data = read_json(folder / "diff_ig.json")
    data["matrix"]["steps"] = [0, 10]
    write_json(folder / "diff_ig.json", data)
    with pytest.raises(InputError, match=r"diff_ig.json: matrix.attribution has shape"):
        read_diffig(folder)


def test_cfrl_keeps_valid_counterfactuals_towards_other_classes(tmp_path):
    x = np.zeros((2, 2, 2, 1))
    x[1, 1, 1, 0] = 0.001  # two distinct images (named by content)
    x_cf = x[[0, 0, 1, 1]].copy()
    x_cf[0, 0, 0, 0] = 0.5  # image 0 -> class 1: valid
    x_cf[1, 1, 1, 0] = 0.9  # image 0 -> class 0: its own class, left out
    x_cf[2, 0, 1, 0] = 0.02  # image 1 -> class 1: valid, below the L0 tolerance
    x_cf[3, 1, 0, 0] = 1.0  # image 1 -> class 0: invalid (predicted 1), left out
    path = tmp_path / "counterfactuals" / "cfrl.npz"
    write_npz(
        path,
        x=x,
        test_index=np.array([7, 9]),
        y_pred=np.array([0, 0]),
        instance=np.array([0, 0, 1, 1]),
        target=np.array([1, 0, 1, 0]),
        x_cf=x_cf,
        cf_pred=np.array([1, 0, 1, 1]),
    )
    vectors = read_cfrl(tmp_path, l0_tolerance=0.05)
    mean = vectors["mean_abs_change_per_target"].vector
    np.testing.assert_allclose(mean.to_numpy(), [0.25, 0.01, 0.0, 0.0])
    assert list(mean.index[:2]) == ["target 1/pixel 0", "target 1/pixel 1"]
    share = vectors["changed_share_per_target"].vector
    np.testing.assert_allclose(share.to_numpy(), [0.5, 0.0, 0.0, 0.0])
    per_pair = vectors["abs_change_per_pair"].vector
    assert len(per_pair) == 2 * 4
    # keys (image digest * classes + target) * pixels + pixel
    assert per_pair[(image_digest(x[0]) * 2 + 1) * 4 + 0] == 0.5
    assert per_pair[(image_digest(x[1]) * 2 + 1) * 4 + 1] == pytest.approx(0.02)


def test_cfrl_pairs_align_by_image_whatever_its_test_index(tmp_path):
    folders = [make_seed(tmp_path, "cfrl", seed, draw=1).parent for seed in (0, 1)]
    path = folders[1] / "counterfactuals" / "cfrl.npz"
    arrays = dict(np.load(path))
    order = np.array([2, 0, 1])  # the same images at other positions and test indexes
    back = np.argsort(order)
    arrays.update(
        x=arrays["x"][order],
        test_index=arrays["test_index"][order] + 100,
        y_pred=arrays["y_pred"][order],
        instance=back[arrays["instance"]],
    )
    write_npz(path, **arrays)
    a, b = (read_cfrl(f, 0.05)["abs_change_per_pair"].vector for f in folders)
    pd.testing.assert_series_equal(a.sort_index(), b.sort_index())


def test_cfrl_missing_array_is_named(tmp_path):
    folder = make_seed(tmp_path, "cfrl", 0).parent
    write_npz(folder / "counterfactuals" / "cfrl.npz", x=np.zeros((1, 2)))
    with pytest.raises(InputError, match=r"cfrl.npz: missing array\(s\)"):
        read_cfrl(folder, 0.05)
