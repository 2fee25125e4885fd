"""The pooled states the analyses read, the intervals over them, and the rules that make the
analysed networks and states (collect_states_highway, import_pretrained_highway)."""

import json

import numpy as np
import pytest
import torch
from test_highway_analyses import rule_inputs, run_rule, states, tiny_net, write_analysis_inputs

import collect_states_highway
import import_pretrained_highway
from xai_repro.common import InputError
from xai_repro.highway.env import greedy_policy
from xai_repro.highway.evaluation import episode_records, outcome_intervals
from xai_repro.highway.network import (
    ObsNetwork,
    load_network,
    network_config,
    save_network,
    save_rl_agents_checkpoint,
)
from xai_repro.highway.pretrained import bootstrap_mean_interval, wilson_interval
from xai_repro.highway.states import (
    episode_bootstrap,
    episodes_summary,
    load_states,
    mean_interval,
    spread_subset,
)


def test_mean_interval_resamples_whole_episodes():
    # 4 episodes of 3 states each: the interval is that of the episode means resampled
    episode = np.repeat(np.arange(4), 3)
    values = np.arange(12, dtype=float) ** 2
    mean, ci = mean_interval(values, episode, np.random.default_rng(5))
    assert mean == pytest.approx(values.mean())
    draws = np.random.default_rng(5).integers(0, 4, size=(1000, 4))
    per_episode = values.reshape(4, 3).mean(1)
    expected = np.percentile(per_episode[draws].mean(1), [2.5, 97.5])
    np.testing.assert_allclose(ci, expected, rtol=1e-12)
    # a value constant within each episode and equal across them has no spread
    assert mean_interval(np.ones(12), episode, np.random.default_rng(0))[1] == [1.0, 1.0]


def test_mean_interval_of_unequal_episodes_is_the_pooled_mean_of_the_drawn_states():
    episode = np.array([0, 0, 0, 0, 1, 2, 2])
    values = np.array([[1.0, 0], [2, 0], [3, 1], [4, 1], [10, 1], [0, 0], [1, 0]])
    _, ci = mean_interval(values, episode, np.random.default_rng(1))
    same = episode_bootstrap(lambda idx: values[idx].mean(0), episode, np.random.default_rng(1))
    np.testing.assert_allclose(ci, same, rtol=1e-12)
    assert np.array(ci).shape == (2, 2)  # per column, [lo, hi]
    assert all(lo <= m <= hi for (lo, hi), m in zip(ci, values.mean(0)))


def test_spread_subset_keeps_every_episode_and_at_most_k_states():
    episode = np.repeat(np.arange(5), [13, 9, 10, 13, 6])
    for k in (5, 12, 40):
        keep = spread_subset(episode, k)
        assert len(keep) <= k + 5 and set(episode[keep]) == set(range(5))
        assert np.all(np.diff(keep) > 0)
    assert 35 <= len(spread_subset(episode, 40))  # about k
    np.testing.assert_array_equal(spread_subset(episode, 100), np.arange(51))


def write_states(path, **over):
    arrays = {
        "obs": states(4, 15).numpy(),
        "episode": np.array([0, 0, 1, 1]),
        "actions": np.zeros(4, dtype=int),
        "episode_seeds": np.array([7, 8]),
        "episode_returns": np.array([1.0, 9.0]),
        "episode_crashed": np.array([True, False]),
        "episode_arrived": np.array([False, True]),
        **over,
    }
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    return path


def test_malformed_states_are_refused(tmp_path):
    assert len(load_states(write_states(tmp_path / "good.npz"))["obs"]) == 4
    with pytest.raises(InputError, match="no.*episode_arrived"):
        load_states(write_states(tmp_path / "a.npz", episode_arrived=None))
    with pytest.raises(InputError, match="b.npz.*outside 0..1"):
        load_states(write_states(tmp_path / "b.npz", episode=np.array([0, 0, 1, 2])))
    (tmp_path / "c.npz").write_text("not a zip")
    with pytest.raises(InputError, match="c.npz"):
        load_states(tmp_path / "c.npz")


def test_episodes_summary_gives_wilson_rates_and_a_bootstrap_return(tmp_path):
    st = load_states(write_states(tmp_path / "s.npz"))
    out = episodes_summary(st, np.random.default_rng(0))
    assert out["episodes"] == 2 and out["states"] == 4 and out["seeds"] == [7, 8]
    assert out["crash_rate"] == 0.5 and out["crash_rate_ci95"] == wilson_interval(1, 2)
    assert out["arrival_rate"] == 0.5 and out["arrival_rate_ci95"] == wilson_interval(1, 2)
    assert out["mean_return"] == 5.0
    assert out["return_ci95"] == bootstrap_mean_interval([1.0, 9.0], np.random.default_rng(0))


def test_outcome_intervals_pair_the_return_change_with_the_intact_episodes():
    runs = [{"return": r, "crashed": c, "arrived": a} for r, c, a in [(1, 1, 0), (5, 0, 1)]]
    intact = [{"return": r, "crashed": 0, "arrived": 1} for r in (2, 2)]
    out = outcome_intervals(runs, np.random.default_rng(0), intact)
    assert out["crash_rate_ci95"] == wilson_interval(1, 2)
    assert out["return_change"] == pytest.approx(1.0)
    rng = np.random.default_rng(0)  # the same draws: the return's interval, then the change's
    assert out["return_ci95"] == bootstrap_mean_interval([1.0, 5.0], rng)
    assert out["return_change_ci95"] == bootstrap_mean_interval([-1.0, 3.0], rng)


def test_collect_states_rule_pools_the_greedy_episodes(tmp_path):
    net = tiny_net(heads=2, cls=ObsNetwork)
    save_network(net, tmp_path / "trained.pt")
    out, summary = tmp_path / "states.npz", tmp_path / "summary.json"
    collect_states_highway.main(
        tmp_path / "trained.pt", out, summary, seed=0, episode_seed=3, episodes=2, observation=None
    )
    st = load_states(out)
    told = json.loads(summary.read_text())["analysis_states"]
    assert told["episodes"] == 2 and told["states"] == len(st["obs"]) and told["seeds"] == [3, 4]
    assert told["arrival_rate"] == pytest.approx(st["episode_arrived"].mean())
    assert list(st["episode_seeds"]) == [3, 4]
    np.testing.assert_array_equal(np.bincount(st["episode"]), st["episode_lengths"])
    with torch.no_grad():
        q = net(torch.as_tensor(st["obs"]))
    np.testing.assert_allclose(st["q"], q.numpy(), rtol=1e-5, atol=1e-6)
    # greedy where the top two Q-values are apart (batch shape may move the last bits)
    top2 = q.topk(2, dim=1).values
    clear = (top2[:, 0] - top2[:, 1]) > 1e-4
    np.testing.assert_array_equal(st["actions"][clear], q.argmax(1).numpy()[clear])
    # the same episodes as the evaluation's, outcome for outcome
    records = episode_records(greedy_policy(net), [3, 4])
    np.testing.assert_allclose(st["episode_returns"], [r["return"] for r in records], atol=1e-6)
    assert list(st["episode_crashed"]) == [r["crashed"] for r in records]
    assert list(st["episode_arrived"]) == [r["arrived"] for r in records]
    assert list(st["episode_lengths"]) == [r["length"] for r in records]


def test_import_pretrained_rule_writes_the_checkpoint_and_its_untrained_twin(tmp_path):
    arch = {"embedding": [8, 8], "heads": 2, "output_layers": [8, 8]}
    agent = ObsNetwork(**network_config(**arch)).eval()
    save_rl_agents_checkpoint(tmp_path / "agent.tar", agent)
    trained, untrained = tmp_path / "t.pt", tmp_path / "u.pt"
    import_pretrained_highway.main(tmp_path / "agent.tar", trained, untrained, seed=3, network=arch)
    got = load_network(trained)  # no architecture needed: the file carries it
    assert got.config["heads"] == 2
    for key, value in agent.state_dict().items():
        assert torch.equal(got.state_dict()[key], value)  # bit-exact
    torch.manual_seed(3)
    twin = ObsNetwork(**network_config(**arch))
    for key, value in twin.state_dict().items():
        assert torch.equal(load_network(untrained).state_dict()[key], value)


def test_attention_statistics_read_both_networks_on_the_trained_agents_states(tmp_path):
    analysis_inputs = write_analysis_inputs(tmp_path)
    res = run_rule("inspect_circuits_highway", analysis_inputs, tmp_path, ["circuits"])
    nets, x = rule_inputs(analysis_inputs)
    for m in ("trained", "untrained"):
        with torch.no_grad():
            att = nets[m].get_attention_matrix(x)[:, :, 0, :].numpy()
        got = res["attention"][m]
        assert got["ego_self_attention"] == pytest.approx(att[..., 0].mean(), rel=1e-5)
        lo, hi = got["ego_self_attention_ci95"]
        assert lo <= got["ego_self_attention"] <= hi


def test_ig_rule_reports_intervals_around_its_means(tmp_path):
    analysis_inputs = write_analysis_inputs(tmp_path)
    res = run_rule(
        "explain_ig_highway", analysis_inputs, tmp_path, ["ig", "ig_signed"], ig_steps=20
    )
    for m in ("trained", "untrained"):
        mean = np.array(res["ig"][m]["abs_per_feature"])
        ci = np.array(res["ig"][m]["abs_per_feature_ci95"])
        assert ci.shape == (*mean.shape, 2)
        assert np.all(ci[..., 0] <= mean + 1e-12) and np.all(mean <= ci[..., 1] + 1e-12)
    lo, hi = res["randomisation_rank_correlation_ci95"]
    assert -1 <= lo <= hi <= 1
    json.dumps(res)  # plain JSON


def test_fixture_analysis_states_span_several_episodes(tmp_path):
    st = load_states(write_analysis_inputs(tmp_path)[1])
    assert len(set(st["episode"])) == 3 and st["episode_arrived"].any()
