"""Every CartPole rule script of the recurrent-policy study, run on a tiny random network.

Episodes are capped at a few dozen steps so each ``main`` runs in seconds; the tests check
what each script promises about its outputs, not the study's numbers.
"""

import json

import numpy as np
import pandas as pd
import pytest
import torch

import collect_bottleneck_data
import evaluate_gru
import evaluate_mmn
import extract_moore_machine
import plot_diff_ig
import plot_moore_machine
import summarize_diffig
import train_gru_policy
import train_qbn
from xai_repro.common import InputError
from xai_repro.diffig.io import (
    episode_observations,
    load_gru,
    load_mmn,
    load_qbn,
    save_state,
)
from xai_repro.diffig.moore_machine import extract_moore_machine as extract
from xai_repro.diffig.networks import MMNet, make_mmn
from xai_repro.diffig.rollouts import OBS_NAMES, evaluate, returns_and_inputs, run_episode
from xai_repro.diffig.summary import transition_table
from xai_repro.diffig.tasks import get_task

ENV = {"env": "CartPole-v1", "max_steps": 30}


@pytest.fixture(scope="module")
def random_mmn():
    torch.manual_seed(4)
    return make_mmn().eval()


@pytest.fixture
def mmn_pt(tmp_path, random_mmn):
    save_state(random_mmn, tmp_path / "mmn.pt")
    return tmp_path / "mmn.pt"


def test_transition_table_lists_every_transition_with_the_next_states_action():
    machine = {"actions": {0: 1, 1: 0}, "transitions": {"0": {"0": 1, "1": 0}, "1": {"0": 0}}}
    table = transition_table(machine)
    assert list(table.columns) == ["state", "observation", "next_state", "action"]
    assert table.values.tolist() == [[0, 0, 1, 0], [0, 1, 0, 1], [1, 0, 0, 1]]
    assert transition_table({"actions": {}, "transitions": {}}).empty


def test_returns_and_inputs_are_the_episodes_returns_and_their_inputs(random_mmn):
    task = get_task("CartPole-v1", 30)
    returns, inputs = returns_and_inputs(random_mmn, task, episodes=2, seed=11)
    np.testing.assert_array_equal(returns, evaluate(random_mmn, 2, 11, task))
    # CartPole pays 1 a step: one input per step of both episodes
    assert inputs.shape == (int(returns.sum()), 4)
    env = task.make_env()
    _, rec = run_episode(random_mmn, env, 11, record=True, task=task)
    env.close()
    np.testing.assert_array_equal(inputs[: len(rec["obs"])], rec["obs"])


def test_episode_observations_come_from_the_file_or_a_greedy_episode(tmp_path, random_mmn):
    obs = np.random.default_rng(3).normal(size=(6, 4)).astype(np.float32)
    torch.save([torch.tensor(o)[None] for o in obs], tmp_path / "episode.pt")
    np.testing.assert_array_equal(episode_observations(random_mmn, tmp_path / "episode.pt", 0), obs)
    recorded = episode_observations(random_mmn, None, 12)
    env = get_task("CartPole-v1").make_env()
    ret, rec = run_episode(random_mmn, env, 12, record=True)
    env.close()
    np.testing.assert_array_equal(recorded, rec["obs"])
    assert len(recorded) == ret  # CartPole pays 1 a step


def test_evaluate_main_writes_each_network_and_the_hidden_state_agreement(tmp_path, mmn_pt):
    out = tmp_path / "returns.json"
    evaluation = {"episodes": 2, "seed": 5}
    evaluate_mmn.main(mmn_pt, out, seed=0, evaluation=evaluation, **ENV)
    result = json.loads(out.read_text())
    assert set(result) == {"gru", "gru_hxqbn", "gru_obsqbn", "mmn", "hidden_state_agreement"}
    task = get_task("CartPole-v1", 30)
    mmn = load_mmn(mmn_pt, task=task).eval()
    expected = evaluate(mmn, 2, 5, task)
    assert result["mmn"]["returns"] == expected.tolist()
    assert result["mmn"]["mean"] == pytest.approx(expected.mean())
    for name in ("gru", "gru_hxqbn", "gru_obsqbn"):
        r = result[name]["returns"]
        assert len(r) == 2 and all(1 <= x <= 30 for x in r)
        assert result[name]["std"] == pytest.approx(np.std(r))
    assert 0.0 <= result["hidden_state_agreement"] <= 1.0


def test_evaluate_main_refuses_a_partial_checkpoint(tmp_path):
    torch.save({"gru_net.gru.weight_hh": torch.zeros(3, 3)}, tmp_path / "partial.pt")
    out = tmp_path / "returns.json"
    with pytest.raises(InputError, match="partial.pt"):
        evaluate_mmn.main(
            tmp_path / "partial.pt", out, seed=0, evaluation={"episodes": 1, "seed": 0}, **ENV
        )
    assert not out.exists()


def test_evaluate_gru_main_writes_the_grus_returns_as_evaluate_mmn_does(tmp_path, random_mmn):
    save_state(random_mmn.gru_net, tmp_path / "gru.pt")
    save_state(random_mmn, tmp_path / "mmn.pt")
    evaluation = {"episodes": 2, "seed": 5}
    evaluate_gru.main(
        tmp_path / "gru.pt", tmp_path / "g.json", seed=0, evaluation=evaluation, **ENV
    )
    evaluate_mmn.main(
        tmp_path / "mmn.pt", tmp_path / "m.json", seed=0, evaluation=evaluation, **ENV
    )
    alone, beside = (json.loads((tmp_path / n).read_text()) for n in ("g.json", "m.json"))
    assert set(alone) == {"gru", "hidden_state_agreement"}
    assert alone["gru"] == beside["gru"]
    assert alone["hidden_state_agreement"] == beside["hidden_state_agreement"]
    with pytest.raises(InputError, match="mmn.pt"):  # an MMN file is not a GRU
        evaluate_gru.main(
            tmp_path / "mmn.pt", tmp_path / "x.json", seed=0, evaluation=evaluation, **ENV
        )
    assert not (tmp_path / "x.json").exists()


def test_summarize_main_without_a_machine_writes_the_grus_returns_only(tmp_path, random_mmn):
    save_state(random_mmn.gru_net, tmp_path / "gru.pt")
    returns_json, metrics_json = tmp_path / "gru_returns.json", tmp_path / "metrics.json"
    evaluation = {"episodes": 2, "seed": 9}
    evaluate_gru.main(tmp_path / "gru.pt", returns_json, seed=0, evaluation=evaluation, **ENV)
    summarize_diffig.main(returns_json, None, metrics_json, env="CartPole-v1")
    metrics = json.loads(metrics_json.read_text())
    returns = json.loads(returns_json.read_text())
    assert metrics == {
        "env": "CartPole-v1",
        "returns": {"gru": returns["gru"]["mean"]},
        "returns_std": {"gru": returns["gru"]["std"]},
        "episodes": 2,
        "hidden_state_agreement": returns["hidden_state_agreement"],
    }


def _extract(tmp_path, mmn_pt):
    paths = [tmp_path / n for n in ("machine.json", "raw.csv", "minimized.csv")]
    extract_moore_machine.main(
        mmn_pt,
        *paths,
        seed=3,
        machine={"episodes": 2, "minimize_restarts": 0},
        evaluation={"episodes": 2, "seed": 9},
        **ENV,
    )
    return paths


def test_extract_main_writes_machines_that_replay_the_mmn(tmp_path, mmn_pt, random_mmn):
    machine_json, raw_csv, minimized_csv = _extract(tmp_path, mmn_pt)
    data = json.loads(machine_json.read_text())
    task = get_task("CartPole-v1", 30)
    raw = extract(random_mmn, episodes=2, seed=3, task=task)
    assert data["raw"]["n_states"] == raw["n_states"]
    assert data["minimized"]["n_states"] <= data["raw"]["n_states"]
    # replayed on the extraction's own episodes the table is the network
    assert data["replay_returns"]["returns"] == evaluate(random_mmn, 2, 3, task).tolist()
    assert data["replay_returns"]["unseen_codes"] == [0, 0]
    table = data["table_returns"]
    assert len(table["returns"]) == 2 and table["mean"] == pytest.approx(np.mean(table["returns"]))
    for csv, key in ((raw_csv, "raw"), (minimized_csv, "minimized")):
        rows = pd.read_csv(csv)
        n = sum(len(d) for d in data[key]["transitions"].values())
        assert len(rows) == n
        actions = {int(k): v for k, v in data[key]["actions"].items()}
        assert all(actions[s] == a for s, a in zip(rows["next_state"], rows["action"]))


def test_plot_moore_machine_main_draws_both_machines(tmp_path, mmn_pt):
    machine_json, *_ = _extract(tmp_path, mmn_pt)
    raw_png, minimized_png = tmp_path / "raw.png", tmp_path / "minimized.png"
    plot_moore_machine.main(machine_json, raw_png, minimized_png)
    for png in (raw_png, minimized_png):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_moore_machine_main_omits_labels_of_a_dense_graph(tmp_path, monkeypatch):
    # a machine of 10 states all connected: 100 edges, more than can be labelled
    n = 10
    machine = {
        "actions": {str(s): s % 2 for s in range(n)},
        "transitions": {str(s): {str(t): t for t in range(n)} for s in range(n)},
        "n_states": n,
        "n_observations": n,
    }
    (tmp_path / "m.json").write_text(json.dumps({"raw": machine, "minimized": machine}))
    titles = []
    save = plot_moore_machine.save_figure

    def recording_save(fig, path):
        titles.append(fig.axes[0].get_title())
        save(fig, path)

    monkeypatch.setattr(plot_moore_machine, "save_figure", recording_save)
    plot_moore_machine.main(tmp_path / "m.json", tmp_path / "a.png", tmp_path / "b.png")
    assert titles == [
        "Extracted: 10 states, 10 observations (edge labels omitted)",
        "Minimized: 10 states, 10 observations (edge labels omitted)",
    ]


def test_plot_diff_ig_main_draws_one_heatmap_per_pair_and_the_matrix(tmp_path):
    rng = np.random.default_rng(0)
    data = {
        "features": list(OBS_NAMES),
        "pairs": [
            {"input": 3, "baseline": 15, "attribution": rng.normal(size=4).tolist()},
            {"input": 4, "baseline": 8, "attribution": [0.0] * 4},
        ],
        "matrix": {"steps": [0, 5, 10], "attribution": rng.normal(size=(3, 3, 4)).tolist()},
    }
    (tmp_path / "diff_ig.json").write_text(json.dumps(data))
    pairs = [tmp_path / "p0.png", tmp_path / "p1.png"]
    plot_diff_ig.main(tmp_path / "diff_ig.json", pairs, tmp_path / "matrix.png")
    for png in (*pairs, tmp_path / "matrix.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # one file per configured pair: a list of another length is refused, nothing written
    fresh = [tmp_path / "q0.png"]
    with pytest.raises(InputError, match="2 pairs, 1 figures"):
        plot_diff_ig.main(tmp_path / "diff_ig.json", fresh, tmp_path / "m2.png")
    assert not fresh[0].exists() and not (tmp_path / "m2.png").exists()


def test_summarize_main_writes_the_metrics_of_its_inputs(tmp_path, mmn_pt):
    machine_json, *_ = _extract(tmp_path, mmn_pt)
    returns_json = tmp_path / "returns.json"
    evaluate_mmn.main(mmn_pt, returns_json, seed=0, evaluation={"episodes": 2, "seed": 9}, **ENV)
    metrics_json = tmp_path / "metrics.json"
    summarize_diffig.main(returns_json, machine_json, metrics_json, env="CartPole-v1")
    metrics = json.loads(metrics_json.read_text())
    returns, machine = json.loads(returns_json.read_text()), json.loads(machine_json.read_text())
    assert metrics["env"] == "CartPole-v1" and metrics["episodes"] == 2
    assert metrics["returns"]["mmn"] == returns["mmn"]["mean"]
    assert metrics["returns"]["moore_machine"] == machine["table_returns"]["mean"]
    assert metrics["moore_machine"]["states_after"] == machine["minimized"]["n_states"]
    assert metrics["hidden_state_agreement"] == returns["hidden_state_agreement"]
    assert "diff_ig" not in metrics


def test_collect_bottleneck_main_writes_features_hidden_states_and_returns(tmp_path, random_mmn):
    save_state(random_mmn.gru_net, tmp_path / "gru.pt")
    out = tmp_path / "bottleneck.npz"
    bottleneck = {"episodes": 2, "epsilon": 0.5, "max_steps": 30}
    collect_bottleneck_data.main(tmp_path / "gru.pt", out, seed=1, bottleneck=bottleneck, **ENV)
    data = np.load(out)
    assert data["returns"].shape == (2,)
    steps = len(data["hidden"])
    assert data["hidden"].shape == (steps, 32) and data["features"].shape == (steps, 8)
    assert steps >= data["returns"].sum()
    assert np.all(np.abs(data["hidden"]) <= 1.0)  # GRU hidden states lie in [-1, 1]


QBN = {
    "epochs": 2,
    "learning_rate": 1e-3,
    "batch_size": 16,
    "eval_every": 1,
    "eval_episodes": 1,
    "patience": 5,
    "grad_clip": 5.0,
    "hx_code": 4,
    "obs_code": 4,
    "device": "cpu",
}


@pytest.mark.parametrize("kind", ["hx", "obs"])
def test_train_qbn_main_writes_a_loadable_qbn_and_its_history(tmp_path, random_mmn, kind):
    save_state(random_mmn.gru_net, tmp_path / "gru.pt")
    rng = np.random.default_rng(2)
    np.savez(
        tmp_path / "data.npz",
        hidden=rng.uniform(-1, 1, size=(40, 32)).astype(np.float32),
        features=rng.uniform(0, 6, size=(40, 8)).astype(np.float32),
    )
    qbn_pt, history_csv = tmp_path / "qbn.pt", tmp_path / "history.csv"
    args = (tmp_path / "gru.pt", tmp_path / "data.npz", qbn_pt, history_csv)
    train_qbn.main(*args, kind=kind, seed=0, qbn=QBN, **ENV)
    qbn = load_qbn(qbn_pt, "tanh" if kind == "hx" else "relu6")
    assert qbn(torch.zeros(1, 32 if kind == "hx" else 8)).shape[1] == (32 if kind == "hx" else 8)
    history = pd.read_csv(history_csv)
    assert list(history.columns) == ["epoch", "mse", "mean_return"]
    assert list(history["epoch"]) == [1, 2] and np.all(history["mse"] > 0)
    np.savez(tmp_path / "empty.npz", other=np.zeros(3))
    with pytest.raises(InputError, match="empty.npz"):
        train_qbn.main(
            tmp_path / "gru.pt",
            tmp_path / "empty.npz",
            tmp_path / "q2.pt",
            tmp_path / "h2.csv",
            kind=kind,
            seed=0,
            qbn=QBN,
            **ENV,
        )
    assert not (tmp_path / "q2.pt").exists()


def test_train_gru_policy_main_writes_a_loadable_gru_and_its_history(tmp_path):
    gru = {
        "iterations": 1,
        "episodes_per_iteration": 1,
        "epochs": 1,
        "learning_rate": 1e-3,
        "eval_episodes": 1,
        "memory_dropout": 0.0,
        "stop_after": 1,
        "truncation": 10,
        "grad_clip": 5.0,
        "dagger": False,
    }
    gru_pt, history_csv = tmp_path / "gru.pt", tmp_path / "history.csv"
    train_gru_policy.main(gru_pt, history_csv, seed=0, gru=gru)
    net = load_gru(gru_pt)
    history = pd.read_csv(history_csv)
    assert history.to_dict("records") == [
        {"iteration": 0, "sequences": 1, "mean_return": history["mean_return"][0]}
    ]
    # the history's return is the saved network's greedy return on its evaluation seed
    assert history["mean_return"][0] == evaluate(MMNet(net), 1, seed=10_000).mean()
