"""The notebook's rl-agents agent: architecture from its config, its environment, and the
statistics that separate a trained agent from an untrained one."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import evaluate_pretrained_highway
from xai_repro.common import InputError, read_json
from xai_repro.highway.network import EgoAttentionNetwork, load_network, save_network
from xai_repro.highway.pretrained import (
    configure_observation,
    episode_statistics,
    rate_difference_interval,
    read_env_config,
    rl_agents_architecture,
    wilson_interval,
)

AGENT = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "highway" / "notebook_agent"
needs_fixture = pytest.mark.skipif(not AGENT.is_dir(), reason="../shared/fixtures absent")


def numpy_q(state, x, heads):
    """rl-agents' EgoAttentionNetwork forward, by hand in float64 numpy from a state_dict:
    ego / others MLP embeddings (ReLU), ego-query attention over ego + others with absent
    vehicles (presence < 0.5) masked, heads of feature_size / heads features, the combined
    output averaged with the ego embedding, then the output MLP and its linear head."""
    w = {k: v.double().numpy() for k, v in state.items()}

    def mlp(name, h, n_layers, predict=False):
        for i in range(n_layers):
            h = np.maximum(h @ w[f"{name}.layers.{i}.weight"].T + w[f"{name}.layers.{i}.bias"], 0)
        if predict:
            h = h @ w[f"{name}.predict.weight"].T + w[f"{name}.predict.bias"]
        return h

    out = []
    for s in x.astype(np.float64):
        ego = mlp("ego_embedding", s[:1], 2)  # (1, 64)
        others = mlp("others_embedding", s[1:], 2)  # (n-1, 64)
        everyone = np.concatenate([ego, others])
        k = everyone @ w["attention_layer.key_all.weight"].T
        v = everyone @ w["attention_layer.value_all.weight"].T
        q = ego @ w["attention_layer.query_ego.weight"].T
        d = k.shape[1] // heads
        absent = s[:, 0] < 0.5
        combined = []
        for h in range(heads):
            cols = slice(h * d, (h + 1) * d)
            scores = (q[0, cols] @ k[:, cols].T) / np.sqrt(d)
            scores[absent] = -1e9
            p = np.exp(scores - scores.max())
            p /= p.sum()
            combined.append(p @ v[:, cols])
        att = np.concatenate(combined) @ w["attention_layer.attention_combine.weight"].T
        out.append(mlp("output_layer", ((att + ego[0]) / 2)[None], 2, predict=True)[0])
    return np.array(out)


def toy_states():
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, size=(4, 15, 7)).astype(np.float32)
    x[:, :, 0] = 1.0
    x[0, 5:, 0] = 0.0  # absent vehicles
    x[1, 9:, 0] = 0.0
    x[2, 1:, 0] = 0.0  # the ego alone
    return x


@needs_fixture
def test_a_checkpoint_without_its_architecture_is_refused():
    with pytest.raises(InputError, match="model_4h.tar.*without its architecture"):
        load_network(AGENT / "model_4h.tar")


@needs_fixture
def test_the_4_head_agent_loads_with_its_configs_architecture():
    arch = rl_agents_architecture(AGENT / "ego_attention_4h.json")
    assert arch == {"embedding": [64, 64], "heads": 4, "output_layers": [64, 64]}
    assert rl_agents_architecture(AGENT / "ego_attention.json")["heads"] == 1
    net = load_network(AGENT / "model_4h.tar", arch)
    state = torch.load(AGENT / "model_4h.tar", weights_only=True)["state_dict"]
    x = toy_states()
    expected = numpy_q(state, x, heads=4)
    with torch.no_grad():
        got = net(torch.as_tensor(x)).double().numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    # the same weights read as one head compute other Q-values (the silent error refused above)
    one_head = load_network(AGENT / "model_4h.tar", dict(arch, heads=1))
    with torch.no_grad():
        wrong = one_head(torch.as_tensor(x)).double().numpy()
    assert np.abs(wrong - expected)[:2].max() > 1e-2
    np.testing.assert_allclose(numpy_q(state, x, heads=1), wrong, rtol=1e-4, atol=1e-4)


def test_a_given_architecture_must_match_the_files_own(tmp_path):
    net = EgoAttentionNetwork(embedding=(8, 8), heads=2, feature_size=8, output_layers=(8,))
    save_network(net, tmp_path / "own.pt")
    arch = {"embedding": [8, 8], "heads": 2, "output_layers": [8]}
    assert load_network(tmp_path / "own.pt", arch).config["heads"] == 2
    with pytest.raises(InputError, match="own.pt.*differs"):
        load_network(tmp_path / "own.pt", dict(arch, heads=4))
    with pytest.raises(InputError, match="unknown architecture keys"):
        load_network(tmp_path / "own.pt", dict(arch, dropout=0.1))


def test_agent_configs_the_network_does_not_implement_are_refused(tmp_path):
    base = {
        "model": {
            "type": "EgoAttentionNetwork",
            "embedding_layer": {"layers": [64, 64], "in": 7},
            "others_embedding_layer": {"layers": [64, 64], "in": 7},
            "self_attention_layer": None,
            "attention_layer": {"feature_size": 64, "heads": 1},
            "output_layer": {"layers": [32]},
        }
    }
    (tmp_path / "base.json").write_text(json.dumps(base))
    over = {
        "base_config": "config/agents/DQNAgent/base.json",
        "model": {"attention_layer": {"heads": 2}},
    }
    (tmp_path / "over.json").write_text(json.dumps(over))
    arch = rl_agents_architecture(tmp_path / "over.json")
    assert arch == {"embedding": [64, 64], "heads": 2, "output_layers": [32]}
    bad = json.loads(json.dumps(base))
    bad["model"]["self_attention_layer"] = {"type": "SelfAttention"}
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    with pytest.raises(InputError, match="bad.json.*self_attention"):
        rl_agents_architecture(tmp_path / "bad.json")
    (tmp_path / "orphan.json").write_text(json.dumps({"base_config": "elsewhere.json"}))
    with pytest.raises(InputError, match="orphan.json.*not beside it"):
        rl_agents_architecture(tmp_path / "orphan.json")


@needs_fixture
def test_the_agent_runs_in_the_environment_of_its_env_json(tmp_path):
    from xai_repro.highway.env import make_env

    obs_cfg = read_env_config(AGENT / "env.json")
    assert obs_cfg["order"] == "shuffled" and obs_cfg["observe_intentions"] is True
    assert obs_cfg["absolute"] is True and obs_cfg["vehicles_count"] == 15
    env = configure_observation(make_env(order=obs_cfg["order"]), obs_cfg)
    obs, _ = env.reset(seed=1)
    observation_type = env.unwrapped.observation_type
    assert observation_type.observe_intentions and observation_type.order == "shuffled"
    assert observation_type.absolute and obs.shape == (15, 7)
    env.close()
    other = json.loads((AGENT / "env.json").read_text())
    other["id"] = "highway-v0"
    (tmp_path / "env.json").write_text(json.dumps(other))
    with pytest.raises(InputError, match="env.json.*highway-v0"):
        read_env_config(tmp_path / "env.json")
    other = dict(json.loads((AGENT / "env.json").read_text()))
    other["observation"] = dict(other["observation"], vehicles_count=5)
    (tmp_path / "env.json").write_text(json.dumps(other))
    with pytest.raises(InputError, match="env.json.*15 vehicles"):
        read_env_config(tmp_path / "env.json")


def test_intervals_have_their_published_values():
    # Newcombe (1998), Stat. Med. 17:857, table II: 56/70 vs 48/80, method 10
    np.testing.assert_allclose(
        rate_difference_interval(56, 70, 48, 80), [0.0524, 0.3339], atol=1e-4
    )
    np.testing.assert_allclose(wilson_interval(0, 10), [0.0, 0.2775], atol=1e-4)
    np.testing.assert_allclose(wilson_interval(81, 263), [0.2553, 0.3662], atol=1e-4)
    eps = [{"return": r, "crashed": r < 0, "arrived": r > 5} for r in [9, 9, -2, 10, -2.5]]
    stats = episode_statistics(eps, np.random.default_rng(0))
    lo, hi = stats["return_ci95"]
    assert lo < stats["mean_return"] < hi and lo >= -2.5 and hi <= 10
    assert stats["crash_rate"] == 0.4 and stats["arrival_rate"] == 0.6


@needs_fixture
def test_evaluate_pretrained_rule_main(tmp_path):
    out = tmp_path / "pretrained.json"
    evaluate_pretrained_highway.main(
        AGENT / "model_4h.tar",
        out,
        seed=0,
        network={"embedding": [64, 64], "heads": 4, "output_layers": [64, 64]},
        observation={"order": "shuffled", "observe_intentions": True},
        episodes=2,
    )
    result = read_json(out)
    assert result["observation"]["observe_intentions"] is True
    for m in ("trained", "untrained"):
        r = result[m]
        assert r["episodes"] == 2 and len(r["returns"]) == 2
        for key in ("crash_rate", "arrival_rate"):
            lo, hi = r[f"{key}_ci95"]
            assert lo <= r[key] <= hi
    diff = result["trained_minus_untrained"]["return"]["difference"]
    expected = np.mean(result["trained"]["returns"]) - np.mean(result["untrained"]["returns"])
    assert diff == pytest.approx(expected)
