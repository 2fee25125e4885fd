"""Rule scripts of the highway study run on tiny inputs: what each one promises."""

import json

import numpy as np
import pytest
import torch
from test_highway import tiny_net

import benchmark_highway_training
import rollout_highway
import summarize_highway
from xai_repro.common import InputError
from xai_repro.highway.evaluation import episode_outcome, episode_records
from xai_repro.highway.intervention import ablation_variants
from xai_repro.highway.network import save_network


def test_ablation_variants_name_every_head_and_the_vehicle_removal():
    assert ablation_variants(2) == {
        "head_0": {"heads": (0,)},
        "head_1": {"heads": (1,)},
        "most_attended_vehicle": {"remove_most_attended": True},
    }


def test_episode_outcome_averages_the_records():
    records = [
        {"return": 1.0, "crashed": True, "arrived": False},
        {"return": 3.0, "crashed": False, "arrived": False},
        {"return": 5.0, "crashed": False, "arrived": True},
        {"return": 7.0, "crashed": False, "arrived": True},
    ]
    assert episode_outcome(records) == {
        "mean_return": 4.0,
        "crash_rate": 0.25,
        "arrival_rate": 0.5,
    }


def test_episode_records_are_seeded():
    def policy(obs):
        return 1  # IDLE: the same actions, so the seed alone decides the episode

    first = episode_records(policy, [3, 4])
    again = episode_records(policy, [3, 4])
    assert len(first) == 2
    assert [r["return"] for r in first] == [r["return"] for r in again]


def write_summary_inputs(tmp_path, analyses):
    pol = {
        "mean_return": 1.0,
        "std_return": 0.1,
        "return_ci95": [0.9, 1.1],
        "crash_rate": 0.1,
        "crash_rate_ci95": [0.04, 0.21],
        "arrival_rate": 0.5,
        "arrival_rate_ci95": [0.4, 0.6],
        "episodes": 50,
        "returns": [1.0] * 50,
    }
    diff = {"difference": 0.0, "ci95": [-0.1, 0.1]}
    ev = {
        "trained": pol,
        "untrained": pol,
        "random": pol,
        "trained_minus_untrained": {"return": diff, "crash_rate": diff, "arrival_rate": diff},
    }
    paths = {"evaluation": tmp_path / "evaluation.json", "train": tmp_path / "train.json"}
    paths["evaluation"].write_text(json.dumps(ev))
    paths["train"].write_text(json.dumps({"env_steps_per_s": 12.5, "total_steps": 100}))
    names = []
    for i, part in enumerate(analyses):
        names.append(str(tmp_path / f"analysis_{i}.json"))
        (tmp_path / f"analysis_{i}.json").write_text(json.dumps(part))
    return paths, names


def test_summarize_rule_merges_the_analyses_into_metrics(tmp_path):
    analyses = [{"attention": {"entropy": 0.5}}, {"ig_completeness_error_median": 0.01, "x": 2}]
    paths, names = write_summary_inputs(tmp_path, analyses)
    out = tmp_path / "metrics.json"
    summarize_highway.main(paths["evaluation"], paths["train"], None, names, out)
    metrics = json.loads(out.read_text())
    assert metrics["attention"] == {"entropy": 0.5}
    assert metrics["ig_completeness_error_median"] == 0.01 and metrics["x"] == 2
    assert metrics["train_env_steps_per_s"] == 12.5 and metrics["train_steps"] == 100
    assert "returns" not in metrics["evaluation"]["trained"]
    assert "benchmark" not in metrics and "pretrained" not in metrics


def test_summarize_rule_refuses_a_key_from_two_analyses_and_writes_nothing(tmp_path):
    analyses = [{"attention": {}, "ig_completeness_error_median": 0.0}, {"attention": {}}]
    paths, names = write_summary_inputs(tmp_path, analyses)
    out = tmp_path / "metrics.json"
    with pytest.raises(InputError, match="analysis_1.json"):
        summarize_highway.main(paths["evaluation"], paths["train"], None, names, out)
    assert not out.exists()


def test_rollout_rule_records_the_greedy_episode(tmp_path):
    net = tiny_net(heads=2)
    model = tmp_path / "trained.pt"
    save_network(net, model)
    out = tmp_path / "trained.npz"
    rollout_highway.main(model, out, seed=0, episode_seed=3)
    rec = np.load(out)
    n = len(rec["actions"])
    assert n > 0 and rec["frames"].shape[0] == n and rec["q"].shape == (n, 3)
    assert rec["attention"].shape[:2] == (n, 2)
    np.testing.assert_allclose(rec["attention"].sum(-1), 1.0, atol=1e-5)
    with torch.no_grad():
        q = net(torch.as_tensor(rec["obs"]))
    # the recorded actions are the network's greedy actions on the recorded states
    np.testing.assert_array_equal(rec["actions"], q.argmax(1).numpy())
    np.testing.assert_allclose(rec["q"], q.numpy(), rtol=1e-5, atol=1e-6)


def test_benchmark_training_rule_reports_both_variants_and_their_ratio(tmp_path):
    from test_highway_resume import DQN, NET  # the toy training settings

    out = tmp_path / "benchmark.json"
    benchmark_highway_training.main(out, seed=0, steps=10, repeats=2, n_envs=2, net=NET, dqn=DQN)
    result = json.loads(out.read_text())
    for name in ("single_env", "subproc_2_envs"):
        runs = result[name]["runs"]
        assert len(runs) == 2 and all(r > 0 for r in runs)
        assert result[name]["min"] <= result[name]["median"] <= result[name]["max"]
    assert result["speedup_median"] == pytest.approx(
        result["subproc_2_envs"]["median"] / result["single_env"]["median"]
    )
    assert result["steps_per_run"] == 10
