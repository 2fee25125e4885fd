"""The recurrent-policy study: quantization, MMN import, Moore machines, differential IG."""

import itertools

import numpy as np
import pytest
import torch

from xai_repro.common import InputError
from xai_repro.diffig.diff_ig import (
    completeness_gap,
    differential_ig,
    path_points,
    relative_completeness_error,
)
from xai_repro.diffig.io import load_mmn, load_observations, save_state
from xai_repro.diffig.moore_machine import minimize_moore_machine
from xai_repro.diffig.networks import QBN, GRUNet, MMNet, TernaryTanh, make_mmn
from xai_repro.diffig.rollouts import expert_action
from xai_repro.diffig.training import train_gru_dagger


def test_ternary_quantization_values_and_straight_through_gradient():
    x = torch.linspace(-3, 3, 61, requires_grad=True)
    y = TernaryTanh()(x)
    assert set(y.detach().unique().tolist()) <= {-1.0, 0.0, 1.0}
    assert y[30] == 0 and y[0] == -1 and y[-1] == 1
    y.sum().backward()
    expected = 1.5 * (1 - torch.tanh(x.detach()) ** 2) - 1.5 * (
        1 - torch.tanh(-3 * x.detach()) ** 2
    )
    torch.testing.assert_close(x.grad, expected)


def test_expert_controller():
    assert expert_action([0, 0, 0.1, 0.0]) == 1
    assert expert_action([0, 0, 0.1, -0.5]) == 0


def test_mmn_state_dict_uses_the_original_key_format():
    keys = set(make_mmn().state_dict())
    for key in (
        "gru_net.input_ff.0.weight",
        "gru_net.gru.weight_hh",
        "gru_net.actor_linear.weight",
        "gru_net.critic_linear.weight",
        "obx_net.encoder.2.weight",
        "bhx_net.decoder.2.weight",
    ):
        assert key in keys


def test_import_original_mmn_file(tmp_path):
    torch.manual_seed(0)
    mmn = make_mmn(hx_code=6, obs_code=5)
    path = tmp_path / "CartPole-v1_gru_32_hx_(6,5)_bgru.p"
    torch.save(mmn.state_dict(), path)
    loaded = load_mmn(path)
    obs = torch.randn(3, 4)
    hx = loaded.initial_hidden().expand(3, -1)
    torch.testing.assert_close(loaded.step(obs, hx)[0], mmn.step(obs, hx)[0])


def test_bad_mmn_files_are_refused(tmp_path):
    state = make_mmn().state_dict()
    wrong_keys = {k.replace("gru_net.", "policy."): v for k, v in state.items()}
    torch.save(wrong_keys, tmp_path / "keys.pt")
    with pytest.raises(InputError, match="keys.pt"):
        load_mmn(tmp_path / "keys.pt")
    wrong_shape = dict(state)
    wrong_shape["gru_net.actor_linear.weight"] = torch.zeros(5, 32)
    torch.save(wrong_shape, tmp_path / "shape.pt")
    with pytest.raises(InputError, match="shape.pt"):
        load_mmn(tmp_path / "shape.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="junk.pt"):
        load_mmn(tmp_path / "junk.pt")

    class Payload:
        def __reduce__(self):
            return (print, ("code",))

    torch.save({"gru_net.x": Payload()}, tmp_path / "code.pt")
    with pytest.raises(InputError, match="code.pt"):
        load_mmn(tmp_path / "code.pt")


def test_observations_file(tmp_path):
    episode = [torch.randn(1, 4) for _ in range(12)]
    torch.save(episode, tmp_path / "obs.pt")
    obs = load_observations(tmp_path / "obs.pt")
    assert obs.shape == (12, 4)
    np.testing.assert_allclose(obs[3], episode[3][0].numpy())
    torch.save([torch.randn(1, 3) for _ in range(5)], tmp_path / "bad.pt")
    with pytest.raises(InputError, match="bad.pt"):
        load_observations(tmp_path / "bad.pt")
    torch.save([], tmp_path / "empty.pt")
    with pytest.raises(InputError, match="empty.pt"):
        load_observations(tmp_path / "empty.pt")


def test_save_state_roundtrip(tmp_path):
    gru = GRUNet()
    save_state(gru, tmp_path / "gru.pt")
    again = GRUNet()
    again.load_state_dict(torch.load(tmp_path / "gru.pt", weights_only=True))
    for a, b in zip(gru.parameters(), again.parameters(), strict=True):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize(
    "rule, first, last, n, end_weights",
    [
        ("seed", 0.0, 1.0, 11, (1 / 11, 1 / 11)),
        ("riemann_left", 0.0, 0.9, 10, (0.1, 0.1)),
        ("riemann_right", 0.1, 1.0, 10, (0.1, 0.1)),
        ("trapezoid", 0.0, 1.0, 11, (0.05, 0.05)),
    ],
)
def test_path_points_weights_sum_to_one_and_end_points(rule, first, last, n, end_weights):
    # baseline a, input b: the path runs a + alpha (b - a), alpha from first to last
    a = torch.tensor([1.0, -2.0, 0.5, 3.0])
    b = torch.tensor([3.0, 2.0, 0.5, -1.0])
    points, weights = path_points(a, b, 10, rule)
    assert float(weights.sum()) == pytest.approx(1.0)
    assert len(points) == len(weights) == n
    torch.testing.assert_close(points[0], a + first * (b - a))
    torch.testing.assert_close(points[-1], a + last * (b - a))
    steps = points[1:] - points[:-1]  # evenly spaced, 1/10 of the way each
    torch.testing.assert_close(steps, ((b - a) / 10).expand_as(steps))
    assert (float(weights[0]), float(weights[-1])) == pytest.approx(end_weights)


def test_seed_rule_is_mean_over_m_plus_one_points():
    points, weights = path_points(torch.zeros(1), torch.ones(1), 10, "seed")
    torch.testing.assert_close(points[:, 0], torch.linspace(0, 1, 11))
    torch.testing.assert_close(weights, torch.full((11,), 1 / 11))


@pytest.fixture(scope="module")
def mmn_and_episode():
    torch.manual_seed(1)
    mmn = make_mmn()
    obs = np.random.default_rng(0).normal(size=(30, 4)).astype(np.float32)
    return mmn, obs


def test_differential_ig_is_zero_when_baseline_is_input(mmn_and_episode):
    mmn, obs = mmn_and_episode
    attribution, err = differential_ig(mmn, obs, 5, 5)
    np.testing.assert_array_equal(attribution, 0)
    assert err == 0


def test_differential_ig_is_nonzero_for_distinct_steps(mmn_and_episode):
    # the published code's latest commit used baseline = input and so computed zeros
    mmn, obs = mmn_and_episode
    attribution, _ = differential_ig(mmn, obs, 5, 20)
    assert np.abs(attribution).sum() > 0


def test_differential_ig_completeness_improves_with_steps(mmn_and_episode):
    mmn, obs = mmn_and_episode
    _, err_fine = differential_ig(mmn, obs, 3, 17, m=2000, rule="trapezoid")
    _, err_coarse = differential_ig(mmn, obs, 3, 17, m=4, rule="riemann_left")
    assert err_fine < 1e-3
    assert err_fine < err_coarse


def test_differential_ig_of_linear_encoder_is_exact():
    # identity features and a linear pre-quantization layer: F_k is quadratic, so the
    # trapezoid rule with many steps recovers (x_i - x_j) * mean gradient exactly
    torch.manual_seed(0)
    gru = GRUNet()
    gru.input_ff = torch.nn.Sequential(torch.nn.Linear(4, 8, bias=False))
    qbn = QBN(8, 3, "relu6")
    qbn.encoder[0] = torch.nn.Identity()
    qbn.encoder[1] = torch.nn.Identity()
    qbn.encoder[2] = torch.nn.Linear(8, 3, bias=False)
    mmn = MMNet(gru, qbn, QBN(32, 3, "tanh"))
    obs = np.random.default_rng(2).normal(size=(4, 4)).astype(np.float32)
    attribution, err = differential_ig(mmn, obs, 0, 3, m=1000, rule="trapezoid")
    assert err < 1e-4
    W = (qbn.encoder[2].weight @ gru.input_ff[0].weight).detach().numpy()
    d = obs[0] - obs[3]
    # F_k(x) = (W_k (x - x_i))^2 with x - x_i = -(1 - a) d along the path, so the mean
    # gradient is -W_k (W_k d) and attribution_l = -d_l W_kl (W_k d); they sum to -(W_k d)^2
    expected = np.mean([-d * W[k] * (W[k] @ d) for k in range(3)], axis=0)
    np.testing.assert_allclose(attribution, expected, rtol=1e-3, atol=1e-6)
    # |F(x_i) - F(x_j)| = mean_k (W_k d)^2, the size the attributions sum to
    gap = completeness_gap(mmn, obs, 0, 3)
    assert gap == pytest.approx(float(np.mean((W @ d) ** 2)), rel=1e-5)
    assert float(attribution.sum()) == pytest.approx(-gap, rel=1e-3)
    assert relative_completeness_error(err, gap) == pytest.approx(err / gap)
    assert relative_completeness_error(0.0, 0.0) is None


def _machine(actions, transitions):
    return {"actions": actions, "transitions": transitions, "initial_state": 0}


def test_minimization_merges_equivalent_states():
    # states 1 and 2 emit the same action and behave identically: they merge
    machine = _machine(
        {0: 0, 1: 1, 2: 1, 3: 0},
        {0: {0: 1, 1: 2}, 1: {0: 3, 1: 0}, 2: {0: 3, 1: 0}, 3: {0: 1}},
    )
    mini = minimize_moore_machine(machine)
    assert mini["n_states"] == 2
    assert mini["state_map"][1] == mini["state_map"][2]
    assert mini["actions"][mini["state_map"][1]] == 1


def test_minimization_keeps_distinguishable_states():
    # 1 and 2 emit the same action but lead to states with different actions
    machine = _machine(
        {0: 0, 1: 1, 2: 1, 3: 0, 4: 1},
        {0: {0: 1, 1: 2}, 1: {0: 3}, 2: {0: 4}, 3: {0: 0}, 4: {0: 0}},
    )
    mini = minimize_moore_machine(machine)
    assert mini["state_map"][1] != mini["state_map"][2]
    # every original transition is preserved on the blocks
    for s, d in machine["transitions"].items():
        for o, n in d.items():
            assert (
                mini["transitions"][mini["state_map"][s]][mini["observation_map"][o]]
                == mini["state_map"][n]
            )


def test_minimization_restarts_find_a_smaller_closed_partition():
    # compatible pairs among the action-1 states B=0, C=1, A=2, D=3 form the path A-B-C-D:
    # sorted order groups {B, C}, {A}, {D}; the optimum is {A, B}, {C, D}
    machine = _machine(
        {0: 1, 1: 1, 2: 1, 3: 1, 4: 0, 5: 1},
        {2: {1: 4, 2: 4}, 1: {1: 5}, 3: {2: 5, 3: 5}, 0: {3: 4}},
    )
    greedy = minimize_moore_machine(machine)
    best = minimize_moore_machine(machine, restarts=50, seed=0)
    assert (greedy["n_states"], best["n_states"]) == (4, 3)
    smap = best["state_map"]
    assert smap[2] == smap[0] and smap[1] == smap[3]
    for s, d in machine["transitions"].items():
        for o, n in d.items():
            assert best["transitions"][smap[s]][best["observation_map"][o]] == smap[n]


def test_memoryless_transitions_minimize_to_one_state_per_action():
    # next state a function of the observation alone (what memory dropout trains for):
    # every state with the same action is equivalent, whatever the raw machine's size
    rng = np.random.default_rng(0)
    goes_to = {o: int(rng.integers(1, 12)) for o in range(6)}
    actions = {s: s % 2 for s in range(12)}
    transitions = {s: {o: goes_to[o] for o in range(6) if rng.random() < 0.7} for s in range(12)}
    mini = minimize_moore_machine(_machine(actions, transitions))
    assert mini["n_states"] == len(set(actions[s] for s in range(12)))


def test_observations_merge_only_on_identical_columns_missing_entries_included():
    # A (action 0) and B (action 1) stay apart. o0: A->B, B->A; o1: A->B, B missing;
    # o2: as o0. Columns (B, A), (B, None), (B, A): two classes as the MMN code base
    # counts them; one if a missing transition matched anything.
    machine = _machine({0: 0, 1: 1}, {0: {0: 1, 1: 1, 2: 1}, 1: {0: 0, 2: 0}})
    mini = minimize_moore_machine(machine)
    assert mini["n_states"] == 2
    assert mini["n_observations"] == 2
    assert mini["n_observations_wildcard"] == 1
    omap = mini["observation_map"]
    assert omap[0] == omap[2] != omap[1]
    assert omap[1] not in mini["transitions"][mini["state_map"][1]]


def test_a_merged_blocks_missing_transitions_stay_missing():
    # 1 and 2 (action 1) are compatible and merge; 1 knows o0, 2 knows o1, neither o2.
    # Only state 0 knows o2, so o2's column differs from o0's and o1's.
    machine = _machine(
        {0: 0, 1: 1, 2: 1},
        {0: {0: 1, 1: 2, 2: 0}, 1: {0: 0}, 2: {1: 0}},
    )
    mini = minimize_moore_machine(machine)
    assert mini["n_states"] == 2
    merged = mini["state_map"][1]
    assert mini["state_map"][2] == merged
    omap = mini["observation_map"]
    assert mini["transitions"][merged] == {omap[0]: 0, omap[1]: 0}
    assert omap[2] not in mini["transitions"][merged]
    # columns over (start, merged): o0 = o1 = (merged, start), o2 = (start, None)
    assert omap[0] == omap[1] != omap[2]
    assert mini["n_observations"] == 2


def test_a_lone_start_state_merges_into_the_block_with_its_row():
    # the start state 0 emits action 2, which no other state emits: alone in its block.
    # Its row (o0 -> 1, o1 -> 2) equals state 1's, so it joins 1's block, which keeps
    # 1's action; 2 stays apart.
    machine = _machine(
        {0: 2, 1: 0, 2: 1},
        {0: {0: 1, 1: 2}, 1: {0: 1, 1: 2}, 2: {0: 1, 1: 2}},
    )
    mini = minimize_moore_machine(machine)
    assert mini["n_states"] == 2
    smap = mini["state_map"]
    assert smap[0] == smap[1] == mini["initial_state"] == 0
    assert mini["actions"] == {0: 0, smap[2]: 1}
    assert mini["transitions"][0] == mini["transitions"][smap[2]]
    # the start state's row differs from 1's in o1: no merge, three states
    machine["transitions"][0] = {0: 1, 1: 1}
    assert minimize_moore_machine(machine)["n_states"] == 3


def test_observation_classes_are_the_distinct_columns():
    rng = np.random.default_rng(3)
    actions = {s: int(rng.integers(0, 3)) for s in range(15)}
    transitions = {
        s: {o: int(rng.integers(0, 15)) for o in range(10) if rng.random() < 0.4} for s in range(15)
    }
    machine = _machine(actions, transitions)
    mini = minimize_moore_machine(machine)
    smap = mini["state_map"]
    # each raw observation's column over the blocks, read off the raw machine
    columns = {}
    for o in mini["observation_map"]:
        column = []
        for b in range(mini["n_states"]):
            targets = {smap[d[o]] for s, d in transitions.items() if smap[s] == b and o in d}
            assert len(targets) <= 1  # the blocks are closed
            column.append(targets.pop() if targets else None)
        columns[o] = tuple(column)
    assert mini["n_observations"] == len(set(columns.values()))
    for o, m in itertools.combinations(mini["observation_map"], 2):
        same = mini["observation_map"][o] == mini["observation_map"][m]
        assert same == (columns[o] == columns[m])
    assert mini["n_observations_wildcard"] <= mini["n_observations"]


def test_memory_dropout_makes_the_gru_act_on_the_observation_alone():
    gru, history = train_gru_dagger(
        seed=0,
        iterations=4,
        episodes_per_iteration=3,
        epochs=2,
        lr=1e-2,
        eval_episodes=1,
        memory_dropout=1.0,
        stop_after=2,
    )
    # it stops at the first two consecutive perfect checks, not before
    perfect = [h["mean_return"] >= 500 for h in history]
    assert not any(a and b for a, b in zip(perfect[:-2], perfect[1:-1]))
    if len(history) < 4:
        assert perfect[-2:] == [True, True]
    gen = torch.Generator().manual_seed(1)
    obs = torch.randn(200, 4, generator=gen) * torch.tensor([0.5, 0.5, 0.1, 0.5])
    feats = gru.input_ff(obs)
    with torch.no_grad():
        actions = [
            gru.actor_linear(gru.gru(feats, torch.rand(200, 32, generator=gen) * 2 - 1)).argmax(1)
            for _ in range(5)
        ]
    agreement = min(float((a == actions[0]).float().mean()) for a in actions[1:])
    assert agreement > 0.95  # the incoming memory barely changes the action
    expert = torch.tensor([expert_action(o) for o in obs.numpy()])
    assert float((actions[0] == expert).float().mean()) > 0.8


@pytest.mark.slow
def test_workflow_analyses_an_imported_mmn(workflow_copy):
    """Config points the study at a pretrained MMN and an episode file; nothing is trained."""
    import json

    import yaml

    from conftest import run_snakemake

    torch.manual_seed(3)
    models = workflow_copy / "inputs"
    models.mkdir()
    torch.save(make_mmn().state_dict(), models / "mmn.p")
    torch.save([torch.randn(1, 4) * 0.05 for _ in range(40)], models / "episode.pt")
    config = yaml.safe_load((workflow_copy / "config" / "test.yaml").read_text())
    config["studies"] = ["diffig"]
    config["diffig"]["pretrained"] = {"model": "inputs/mmn.p", "observations": "inputs/episode.pt"}
    config["diffig"]["diff_ig"]["pairs"] = [[10, 30]]
    (workflow_copy / "config" / "imported.yaml").write_text(yaml.safe_dump(config))
    proc = run_snakemake(workflow_copy, "--cores", "2", "--configfile", "config/imported.yaml")
    assert "train_gru_policy" not in proc.stdout and "import_mmn" in proc.stdout
    metrics = json.loads((workflow_copy / "results/imported/diffig/metrics.json").read_text())
    assert metrics["diff_ig"][0]["input"] == 10 and metrics["diff_ig"][0]["baseline"] == 30
    assert set(metrics["returns"]) == {"gru", "gru_hxqbn", "gru_obsqbn", "mmn", "moore_machine"}
    # a broken pretrained file: a clear error naming it, and no model written
    (models / "mmn.p").write_bytes(b"garbage")
    proc = run_snakemake(
        workflow_copy,
        "--cores",
        "2",
        "--configfile",
        "config/imported.yaml",
        "--forcerun",
        "imported__import_mmn",
        check=False,
    )
    assert proc.returncode != 0 and "inputs/mmn.p" in proc.stdout


def test_episodes_start_from_the_zero_hidden_state_as_the_mmn_code_base():
    # MMNet.init_hidden of the MMN code base: zeros fed to the GRU as they are; the HxQBN
    # sees only the GRU's output (and encodes zeros only to name the start state)
    torch.manual_seed(4)
    mmn = make_mmn(hx_code=5, obs_code=6)
    hx0 = mmn.initial_hidden()
    torch.testing.assert_close(hx0, torch.zeros(1, 32))
    obs = torch.randn(1, 4)
    with torch.no_grad():
        _, hx, _, _ = mmn.step(obs, hx0)
        feats = mmn.obx_net(mmn.gru_net.input_ff(obs))
        expected = mmn.bhx_net(mmn.gru_net.gru(feats, torch.zeros(1, 32)))
    torch.testing.assert_close(hx, expected)
