"""Tests of the attention-DQN study: network, checkpoint import, training, episodes, scripts."""

import json
import os

import numpy as np
import pytest
import torch

from xai_repro.common import InputError
from xai_repro.highway.attribution import integrated_gradients, rank_correlation
from xai_repro.highway.checkpoint import latest_checkpoint
from xai_repro.highway.data import load_rollout
from xai_repro.highway.inspection import ego_attention_stats, qk_ov_circuits
from xai_repro.highway.intervention import ablated_policy
from xai_repro.highway.network import EgoAttentionNetwork, load_network, save_rl_agents_checkpoint
from xai_repro.highway.rollout import frame_is_blank, record_linear_activations
from xai_repro.highway.summary import build_metrics
from xai_repro.highway.training import ExponentialEpsilon, clip_gradients, double_dqn_targets


def tiny_net(heads=1, seed=0):
    torch.manual_seed(seed)
    return EgoAttentionNetwork(
        embedding=(8, 8), heads=heads, feature_size=8, output_layers=(8,)
    ).eval()


def states(n=6, vehicles=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, vehicles, 7, generator=g)
    x[..., 0] = (torch.rand(n, vehicles, generator=g) > 0.4).float()
    x[:, 0, 0] = 1.0  # ego always present
    return x


def test_default_network_matches_rl_agents_names_and_shapes():
    net = EgoAttentionNetwork()
    keys = set(net.state_dict())
    for k in [
        "ego_embedding.layers.0.weight",
        "others_embedding.layers.1.bias",
        "attention_layer.query_ego.weight",
        "attention_layer.key_all.weight",
        "attention_layer.value_all.weight",
        "attention_layer.attention_combine.weight",
        "output_layer.layers.1.weight",
        "output_layer.predict.bias",
    ]:
        assert k in keys
    x = states(4, 15)
    assert net(x).shape == (4, 3)
    assert net.get_attention_matrix(x).shape == (4, 1, 1, 15)


@pytest.mark.parametrize("heads", [1, 2, 4])
def test_attention_is_a_distribution_and_ignores_absent_vehicles(heads):
    net = tiny_net(heads)
    x = states()
    att = net.get_attention_matrix(x)
    assert torch.allclose(att.sum(-1), torch.ones_like(att.sum(-1)), atol=1e-5)
    absent = (x[:, :, 0] < 0.5)[:, None, None, :].expand_as(att)
    assert att[absent].max() < 1e-6 if absent.any() else True
    # changing an absent vehicle's features does not change Q
    x2 = x.clone()
    x2[..., 1:] = torch.where(x2[..., :1] < 0.5, x2[..., 1:] + 5.0, x2[..., 1:])
    assert torch.allclose(net(x), net(x2), atol=1e-5)


def test_rl_agents_checkpoint_round_trip(tmp_path):
    net = EgoAttentionNetwork()
    path = tmp_path / "checkpoint-final.tar"
    save_rl_agents_checkpoint(path, net)  # {'state_dict': ...} only, as rl-agents writes it
    with pytest.raises(InputError, match="without its architecture"):
        load_network(path)
    loaded = load_network(path, {"embedding": [64, 64], "heads": 1, "output_layers": [64, 64]})
    x = states(3, 15)
    assert torch.allclose(loaded(x), net(x))


def test_bad_checkpoints_are_refused(tmp_path):
    good = EgoAttentionNetwork().state_dict()
    wrong_keys = {k.replace("attention_layer", "attn"): v for k, v in good.items()}
    wrong_shape = dict(good, **{"output_layer.predict.weight": torch.zeros(5, 64)})
    cases = {
        "keys.tar": {"state_dict": wrong_keys},
        "shape.tar": {"state_dict": wrong_shape},
        "nostate.tar": {"weights": good},
    }
    arch = {"embedding": [64, 64], "heads": 1, "output_layers": [64, 64]}
    for name, obj in cases.items():
        torch.save(obj, tmp_path / name)
        with pytest.raises(InputError, match=name):
            load_network(tmp_path / name, arch)
    (tmp_path / "junk.tar").write_bytes(b"not a checkpoint at all")
    with pytest.raises(InputError, match="junk.tar"):
        load_network(tmp_path / "junk.tar")

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    torch.save({"state_dict": good, "x": Evil()}, tmp_path / "evil.tar")
    with pytest.raises(InputError, match="evil.tar"):
        load_network(tmp_path / "evil.tar")
    with pytest.raises(InputError, match="missing.tar"):
        load_network(tmp_path / "missing.tar")


@pytest.mark.parametrize("seed", range(4))
def test_ig_completeness_with_presence_baseline(seed):
    net = tiny_net(heads=2, seed=seed)
    x = states(5, 6, seed=seed)
    for action in range(3):
        attr, err = integrated_gradients(net, x, action, n_steps=100)
        assert attr.shape == x.shape
        assert float(err.max()) < 0.02
        # the presence feature is not on the path: zero attribution
        assert float(attr[..., 0].abs().max()) == 0.0


def test_qk_ov_circuits_per_head_match_attention_scores():
    net = tiny_net(heads=2)
    circ = qk_ov_circuits(net)
    assert len(circ) == 2 and circ[0]["qk"].shape == (8, 8)
    # QK circuit reproduces the per-head dot product q.k
    e = torch.randn(8)
    o = torch.randn(8)
    att = net.attention_layer
    q, k = att.query_ego(e)[:4], att.key_all(o)[:4]
    assert np.isclose(float(q @ k), float(e.numpy() @ circ[0]["qk"] @ o.numpy()), atol=1e-4)


def test_head_ablation_changes_output_only_when_set():
    net = tiny_net(heads=2)
    x = states()
    q0 = net(x)
    net.attention_layer.ablated_heads = (1,)
    q1 = net(x)
    net.attention_layer.ablated_heads = ()
    assert not torch.allclose(q0, q1)
    assert torch.allclose(q0, net(x))


def test_attention_stats_and_rank_correlation():
    uniform = np.full((3, 1, 4), 0.25)
    s = ego_attention_stats(uniform)
    assert np.isclose(s["ego_self_attention"], 0.25) and np.isclose(s["entropy"], np.log(4))
    assert np.isclose(rank_correlation([1, 2, 3], [10, 20, 30]), 1.0)
    assert np.isclose(rank_correlation([1, 2, 3], [3, 2, 1]), -1.0)
    # a shared zero pattern (presence, absent vehicles) correlates unrelated values; over the
    # entries where the input differs from the baseline they anti-correlate exactly here
    a, b = [0, 0, 0, 0, 1, 2, 3], [0, 0, 0, 0, 3, 2, 1]
    assert rank_correlation(a, b) > 0.5
    assert np.isclose(rank_correlation(a, b, where=np.arange(7) >= 4), -1.0)
    # ties take their average rank (scipy): [1, 1, 2] vs [1, 2, 3] is sqrt(3)/2
    assert np.isclose(rank_correlation([1, 1, 2], [1, 2, 3]), np.sqrt(3) / 2)


def test_forward_hooks_record_every_linear():
    net = tiny_net()
    store, handles = record_linear_activations(net)
    net(states(2))
    for h in handles:
        h.remove()
    n_linear = sum(isinstance(m, torch.nn.Linear) for m in net.modules())
    assert len(store) == n_linear and store["output_layer.predict"].shape == (2, 3)


def test_frame_is_blank():
    assert frame_is_blank(np.zeros((10, 10, 3), dtype=np.uint8))
    f = np.zeros((10, 10, 3), dtype=np.uint8)
    f[:5] = 200
    assert not frame_is_blank(f)


def test_latest_checkpoint(tmp_path):
    assert latest_checkpoint(tmp_path) == (None, 0)
    for s in (100, 2000, 300):
        (tmp_path / f"dqn_{s}_steps.zip").write_bytes(b"")
    path, steps = latest_checkpoint(tmp_path)
    assert steps == 2000 and path.endswith("dqn_2000_steps.zip")


def test_summarize_requires_every_policy_and_key():
    pol = {
        "mean_return": 1.0,
        "std_return": 0.0,
        "return_ci95": [0.5, 1.5],
        "crash_rate": 0.1,
        "crash_rate_ci95": [0.04, 0.21],
        "arrival_rate": 0.5,
        "arrival_rate_ci95": [0.37, 0.63],
        "episodes": 50,
        "returns": [1.0] * 50,
    }
    diff = {"difference": 0.0, "ci95": [-0.1, 0.1]}
    separation = {"return": diff, "crash_rate": diff, "arrival_rate": diff}
    ev = {"trained": pol, "untrained": pol, "random": pol, "trained_minus_untrained": separation}
    analysis = {"attention": {}, "ig_completeness_error_median": 0.01}
    bench = {"speedup_median": 1.4, "runs": [1, 2]}
    m = build_metrics(ev, {"env_steps_per_s": 3.0}, bench, analysis)
    assert set(m) >= {
        "evaluation",
        "attention",
        "ig_completeness_error_median",
        "train_env_steps_per_s",
    }
    assert m["benchmark"] == {"speedup_median": 1.4}
    assert "returns" not in m["evaluation"]["trained"]
    assert m["evaluation"]["trained_minus_untrained"] == separation
    assert "pretrained" not in m
    pretrained = {"network": {}, "trained": pol, "untrained": pol}
    with pytest.raises(InputError, match="trained_minus_untrained"):
        build_metrics(ev, {}, None, analysis, pretrained=pretrained)
    pretrained["trained_minus_untrained"] = separation
    m = build_metrics(ev, {}, None, analysis, pretrained=pretrained)
    assert m["pretrained"]["trained"]["crash_rate_ci95"] == [0.04, 0.21]
    assert "returns" not in m["pretrained"]["untrained"]
    # highway.benchmark.run: false -> no benchmark input, no key (the scorecard says absent)
    assert "benchmark" not in build_metrics(ev, {}, None, analysis)
    with pytest.raises(InputError, match="random"):
        build_metrics({"trained": pol, "untrained": pol}, {}, {}, analysis)
    with pytest.raises(InputError, match="ig_completeness"):
        build_metrics(ev, {}, {}, {"attention": {}})


def test_evaluate_rule_main_reports_intervals_and_differences(tmp_path):
    import evaluate_highway
    from xai_repro.highway.network import save_network

    paths = {}
    for name, seed in (("trained", 0), ("untrained", 1)):
        paths[name] = tmp_path / f"{name}.pt"
        save_network(tiny_net(seed=seed), paths[name])
    out = tmp_path / "evaluation.json"
    evaluate_highway.main(paths["trained"], paths["untrained"], out, seed=0, episodes=3)
    result = json.loads(out.read_text())
    for name in ("trained", "untrained", "random"):
        r = result[name]
        assert r["episodes"] == 3
        for key in ("crash_rate", "arrival_rate"):
            assert r[f"{key}_ci95"][0] <= r[key] <= r[f"{key}_ci95"][1]
        assert r["return_ci95"][0] <= r["mean_return"] <= r["return_ci95"][1]
    d = result["trained_minus_untrained"]
    assert d["return"]["difference"] == pytest.approx(
        result["trained"]["mean_return"] - result["untrained"]["mean_return"]
    )
    assert d["crash_rate"]["difference"] == pytest.approx(
        result["trained"]["crash_rate"] - result["untrained"]["crash_rate"]
    )


@pytest.mark.slow
def test_rollout_frames_are_not_blank():
    from xai_repro.highway.rollout import rollout

    rec = rollout(EgoAttentionNetwork().eval(), seed=3, max_steps=2)
    assert rec["frames"].shape[1:] == (600, 600, 3)
    assert not frame_is_blank(rec["frames"][0])
    assert rec["attention"].shape[1:] == (1, 15)


def test_the_training_script_reads_the_device_setting():
    import inspect

    import train_highway

    assert inspect.signature(train_highway.main).parameters["device"].default == "cpu"


def test_build_model_puts_the_networks_on_the_resolved_device(monkeypatch):
    from test_highway_resume import DQN, NET

    from xai_repro.common import resolve_device
    from xai_repro.highway.env import make_env
    from xai_repro.highway.training import build_model

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    model = build_model(
        make_env(), seed=0, net=NET, dqn=DQN, total_steps=10, device=resolve_device("auto")
    )
    assert model.device.type == "cpu"
    assert {p.device.type for p in model.q_net.parameters()} == {"cpu"}
    assert {p.device.type for p in model.q_net_target.parameters()} == {"cpu"}


@pytest.mark.slow
def test_training_resumes_from_the_last_checkpoint(tmp_path, monkeypatch):
    import json

    from test_highway_resume import DQN, NET  # the toy training settings

    import train_highway

    kw = dict(
        seed=0,
        net=NET,
        dqn=DQN,
        n_envs=1,
        checkpoint_every=6,
        checkpoint_dir=str(tmp_path / "ck"),
        order="shuffled",
        device="auto",
    )
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # "auto" on a CPU machine
    out = [str(tmp_path / n) for n in ("u.pt", "t.pt", "s.json")]
    train_highway.main(*out, total_steps=12, **kw)
    assert latest_checkpoint(tmp_path / "ck")[1] == 12
    train_highway.main(*out, total_steps=18, **kw)  # "interrupted" at 12: resumes, trains 6 more
    stats = json.loads((tmp_path / "s.json").read_text())
    assert stats["resumed_from"] == 12 and stats["steps_this_run"] == 6
    assert latest_checkpoint(tmp_path / "ck")[1] == 18
    load_network(out[1])


def test_checkpoints_of_other_settings_are_not_resumed(tmp_path):
    from xai_repro.highway.checkpoint import resumable_checkpoint

    (tmp_path / "dqn_10_steps.zip").write_bytes(b"")  # no settings stamp: unknown origin
    assert resumable_checkpoint(tmp_path, {"a": 1}, 100) == (None, 0)
    (tmp_path / "dqn_10_steps.zip").write_bytes(b"")
    assert resumable_checkpoint(tmp_path, {"a": 1}, 100)[1] == 10
    assert resumable_checkpoint(tmp_path, {"a": 1}, 5) == (None, 0)  # beyond total_steps
    assert resumable_checkpoint(tmp_path, {"a": 2}, 100) == (None, 0)
    assert not (tmp_path / "dqn_10_steps.zip").exists()


def test_malformed_rollout_is_refused(tmp_path):
    bad = tmp_path / "trained.npz"
    bad.write_bytes(b"garbage")
    with pytest.raises(InputError, match="trained.npz"):
        load_rollout(bad)


def test_exponential_epsilon_follows_rl_agents_schedule():
    eps = ExponentialEpsilon(1.0, 0.05, tau=1000, total_steps=4000)
    assert eps(1.0) == pytest.approx(1.0)  # progress remaining 1: no step taken
    assert eps(0.75) == pytest.approx(0.05 + 0.95 * np.exp(-1.0))  # 1000 steps
    assert eps(0.0) == pytest.approx(0.05 + 0.95 * np.exp(-4.0))


def test_double_dqn_target_values_the_online_choice_with_the_target_net():
    online = torch.tensor([[1.0, 3.0, 2.0], [0.0, 0.0, 5.0]])
    target = torch.tensor([[10.0, 20.0, 30.0], [7.0, 8.0, 9.0]])
    rewards = torch.tensor([[1.0], [2.0]])
    dones = torch.tensor([[0.0], [1.0]])
    y = double_dqn_targets(online, target, rewards, dones, 0.5)
    # sample 0: online picks action 1 -> target value 20 (not the target's max 30)
    torch.testing.assert_close(y, torch.tensor([[1.0 + 0.5 * 20.0], [2.0]]))


def test_vehicle_removal_ablation_hides_exactly_the_most_attended_vehicle():
    torch.manual_seed(0)
    net = EgoAttentionNetwork().eval()
    obs = torch.rand(15, 7)
    obs[:, 0] = 1.0
    obs[10:, 0] = 0.0  # slots 10..14 empty
    with torch.no_grad():
        att = net.get_attention_matrix(obs[None])[0, :, 0, 1:].mean(0)
        att[9:] = -1  # empty others (slots 10..14 are others 9..13)
        removed = obs.clone()
        removed[1 + int(att.argmax()), 0] = 0.0
        expected = int(net(removed[None]).argmax(1))
    assert ablated_policy(net, remove_most_attended=True)(obs.numpy()) == expected
    assert ablated_policy(net)(obs.numpy()) == int(net(obs[None]).argmax(1))
    assert net.attention_layer.ablated_heads == ()  # restored after each call


def test_gradients_are_clamped_element_wise_or_rescaled_by_norm():
    w = torch.nn.Parameter(torch.zeros(4))
    w.grad = torch.tensor([3.0, -0.5, -2.0, 0.25])
    clip_gradients([w], 1.0, max_norm=10.0)  # rl-agents: clamp each element
    torch.testing.assert_close(w.grad, torch.tensor([1.0, -0.5, -1.0, 0.25]))
    w.grad = torch.tensor([3.0, 4.0, 0.0, 0.0])
    clip_gradients([w], None, max_norm=1.0)  # SB3: rescale the global norm
    torch.testing.assert_close(w.grad, torch.tensor([0.6, 0.8, 0.0, 0.0]))


@pytest.mark.parametrize("heads", [1, 2])
def test_q_values_ignore_the_order_of_the_other_vehicles(heads):
    # why "shuffled" (rl-agents) and "sorted" observations train the same function class
    net = tiny_net(heads)
    x = states(4, 6)
    perm = torch.tensor([0, 3, 5, 1, 2, 4])
    torch.testing.assert_close(net(x), net(x[:, perm]), atol=1e-5, rtol=1e-5)


@pytest.mark.slow
def test_shuffled_env_observation_has_rl_agents_shape():
    from xai_repro.highway.env import make_env

    env = make_env(order="shuffled")
    obs, _ = env.reset(seed=1)
    assert obs.shape == (15, 7) and env.unwrapped.config["observation"]["order"] == "shuffled"
    env.close()
    with pytest.raises(ValueError, match="random"):
        make_env(order="random")
