"""Properties of the attention-DQN analyses on tiny networks with known answers, and each
analysis rule's main() on a tiny 2-head network and a synthetic rollout."""

import json

import numpy as np
import pytest
import torch

from xai_repro.highway.attribution import (
    ig_all_actions,
    ig_summaries,
    neuron_conductance,
    neuron_layer_conductance,
    notebook_layers,
    presence_baseline,
    q_gap,
    shap_efficiency_gap,
    shap_values,
    with_presence,
)
from xai_repro.highway.inspection import weight_product, weight_products
from xai_repro.highway.intervention import (
    ablated_policy,
    ablation_on_states,
    head_means,
    lens_representations,
    logit_lens,
    noise_flip_rates,
    shift_last_hidden,
)
from xai_repro.highway.network import EgoAttentionNetwork, ObsNetwork, save_network


def tiny_net(heads=2, seed=0, cls=EgoAttentionNetwork):
    torch.manual_seed(seed)
    return cls(embedding=(8, 8), heads=heads, feature_size=8, output_layers=(8, 8)).eval()


def states(n=6, vehicles=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, vehicles, 7, generator=g)
    x[..., 0] = (torch.rand(n, vehicles, generator=g) > 0.4).float()
    x[:, 0, 0] = 1.0
    return x


@pytest.mark.parametrize("heads", [1, 2])
def test_signed_ig_adds_up_to_the_q_gap_per_action(heads):
    net, x = tiny_net(heads), states()
    attr, err = ig_all_actions(net, x, n_steps=100)
    s = ig_summaries(attr)
    assert attr.shape == (3, 6, 5, 7) and float(err.max()) < 0.02
    gaps = np.array([q_gap(net, x, a).mean() for a in range(3)])
    np.testing.assert_allclose(s["signed_per_feature"].sum(1), gaps, atol=0.02)
    # per slot (mean over states) summed over slots is the aggregated signed view
    np.testing.assert_allclose(s["signed_per_slot"].sum(1), s["signed_per_feature"], atol=1e-6)
    assert np.all(s["abs_per_feature"] >= np.abs(s["signed_per_feature"]) - 1e-9)


@pytest.mark.parametrize("heads", [1, 2])
def test_conductance_per_neuron_sums_to_the_q_gap_over_a_cut(heads):
    net, x = tiny_net(heads), states()
    layers = notebook_layers(net)
    assert list(layers) == [
        "ego_embedding.layers.0",
        "ego_embedding.layers.1",
        "others_embedding.layers.0",
        "others_embedding.layers.1",
        "output_layer.layers.0",
        "output_layer.layers.1",
        "output_layer.predict",
    ]
    for a in range(3):
        gap = q_gap(net, x, a).mean()
        for name in ("output_layer.layers.0", "output_layer.layers.1"):
            c = neuron_layer_conductance(net, x, layers[name], a, n_steps=200)
            assert c.shape == (8,) and np.isclose(c.sum(), gap, atol=0.02)
        # the two embeddings' last layers together cut every path
        both = sum(
            neuron_layer_conductance(net, x, layers[n], a, n_steps=200).sum()
            for n in ("ego_embedding.layers.1", "others_embedding.layers.1")
        )
        assert np.isclose(both, gap, atol=0.02)
        head = neuron_layer_conductance(net, x, layers["output_layer.predict"], a, n_steps=50)
        assert np.isclose(head[a], gap, atol=1e-4) and np.allclose(np.delete(head, a), 0)


def test_neuron_conductance_over_features_sums_to_that_neurons_conductance():
    net, x = tiny_net(), states()
    layer = net.output_layer.layers[1]
    per_neuron = neuron_layer_conductance(net, x, layer, 2, n_steps=100)
    n = int(np.abs(per_neuron).argmax())
    per_feature = neuron_conductance(net, x, layer, n, 2, n_steps=100)
    assert per_feature.shape == (7,)
    assert np.isclose(per_feature.sum(), per_neuron[n], atol=0.02)


def test_weight_product_is_the_composition_of_the_two_linear_maps():
    net = tiny_net()
    mlp = net.ego_embedding
    prod = weight_product(mlp)
    assert prod.shape == (7, 8)
    with torch.no_grad():
        for i in range(7):
            e = torch.zeros(7)
            e[i] = 1.0
            # without biases and ReLU, input feature i reaches the second layer as row i
            h = e @ mlp.layers[0].weight.T @ mlp.layers[1].weight.T
            np.testing.assert_allclose(prod[i], h.numpy(), atol=1e-6)
    assert set(weight_products(net)) == {"ego_embedding", "others_embedding", "output_layer"}


def test_last_hidden_shift_changes_q_by_the_same_amount_in_every_state():
    net, x = tiny_net(), states()
    out = shift_last_hidden(net, x, 0.1)
    expected = np.abs(0.1 * net.output_layer.predict.weight.detach().numpy().sum(1))
    np.testing.assert_allclose(out["mean_abs_dq"], expected, rtol=1e-4)
    np.testing.assert_allclose(out["max_abs_dq"], expected, rtol=1e-4)
    assert 0.0 <= out["flip_rate"] <= 1.0


def test_noise_flip_rate_is_zero_for_negligible_noise():
    net, x = tiny_net(), states(20)
    rates = noise_flip_rates(net, x, [1e-9, 100.0], np.random.default_rng(0))
    assert rates[0] == 0.0 and 0.0 <= rates[1] <= 1.0


@pytest.mark.parametrize("heads", [1, 2])
def test_logit_lens_of_the_last_hidden_layer_is_the_network(heads):
    net, x = tiny_net(heads), states(10)
    reps = lens_representations(net, x)
    assert list(reps) == [
        "ego_embedding",
        "attention_output",
        "output_layer.layers.0",
        "output_layer.layers.1",
    ]
    lens = logit_lens(net, x)
    assert lens["output_layer.layers.1"] == {"agreement": 1.0, "mean_abs_dq": 0.0}
    assert all(0.0 <= v["agreement"] <= 1.0 for v in lens.values())


def test_logit_lens_skips_representations_of_another_width():
    torch.manual_seed(0)
    net = EgoAttentionNetwork(embedding=(8, 8), feature_size=8, output_layers=(8, 4)).eval()
    assert list(logit_lens(net, states())) == ["output_layer.layers.1"]


def test_ablation_on_states_zeroes_one_head_at_a_time():
    net, x = tiny_net(heads=2), states(10)
    with torch.no_grad():  # heads that weigh enough to change some greedy actions
        net.attention_layer.value_all.weight.mul_(20)
        net.attention_layer.attention_combine.weight.mul_(20)
        intact = net(x).argmax(1)
    none = ablation_on_states(net, x)
    assert none == {"action_change_rate": 0.0, "mean_abs_q_change": 0.0}
    for h in (0, 1):
        out = ablation_on_states(net, x, heads=(h,))
        assert out["mean_abs_q_change"] > 0
        net.attention_layer.ablated_heads = (h,)
        with torch.no_grad():
            batched = net(x)
            single = torch.cat([net(s[None]) for s in x])
        net.attention_layer.ablated_heads = ()
        # batch shape changes the BLAS kernel: Q within a tolerance, and the greedy actions
        # equal wherever the top two Q-values are further apart than it
        torch.testing.assert_close(single, batched, atol=1e-5, rtol=1e-5)
        actions = torch.tensor([ablated_policy(net, heads=(h,))(s) for s in x.numpy()])
        top2 = batched.topk(2, dim=1).values
        clear = (top2[:, 0] - top2[:, 1]) > 1e-4
        assert clear.any()
        assert torch.equal(actions[clear], batched.argmax(1)[clear])
        assert torch.all(batched[torch.arange(len(x)), actions] >= top2[:, 0] - 1e-4)
        assert (batched.argmax(1) != intact).any()  # the ablation changes some action
    removed = ablation_on_states(net, x, remove_vehicle=True)
    policy = ablated_policy(net, remove_most_attended=True)
    with torch.no_grad():
        changed = [policy(s) != int(net(torch.as_tensor(s)[None]).argmax(1)) for s in x.numpy()]
    assert removed["action_change_rate"] == pytest.approx(np.mean(changed))


def test_shap_values_of_a_linear_network_are_exact():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(5 * 7, 3)).eval()
    # one background state: expected gradients then draws no background sample at random
    x, background = states(3, 5, seed=1), states(1, 5, seed=2)
    values, expected = shap_values(net, background, x, nsamples=20, seed=0)
    assert values.shape == (3, 5, 7, 3)
    assert np.all(values[:, :, 0] == 0)  # presence: the same in the background and the state
    assert shap_efficiency_gap(net, x, values, expected) < 1e-5
    # and each value is the weight times the state's difference from the background mean
    w = net[1].weight.detach().numpy().reshape(3, 5, 7)
    bg = with_presence(background, x[1]).mean(0).numpy()
    np.testing.assert_allclose(values[1], np.moveaxis(w * (x[1].numpy() - bg), 0, -1), atol=1e-5)


def test_mean_ablation_of_a_head_is_a_no_op_on_the_states_it_averages():
    net = tiny_net(heads=2)
    one = states(1, 5, seed=4)
    x = one.repeat(4, 1, 1)  # one state: each head's mean output is its own output
    means = head_means(net, x)
    assert means.shape == (2, 1, 4)
    with torch.no_grad():
        q = net(x)
    for h in (0, 1):
        mean_out = ablation_on_states(net, x, heads=(h,), means=means)
        assert mean_out["mean_abs_q_change"] < 1e-6
        assert ablation_on_states(net, x, heads=(h,))["mean_abs_q_change"] > 1e-4  # zeroed
    # on varied states, mean-ablation of a head makes Q depend on the others only
    y = states(10, 5, seed=5)
    net.attention_layer.ablated_heads, net.attention_layer.ablation_means = (0,), head_means(net, y)
    with torch.no_grad():
        ego, others, mask = net.split_input(y)
        out, _ = net.attention_layer.head_outputs(
            net.ego_embedding(ego), net.others_embedding(others), mask
        )
        out[:, 0] = net.attention_layer.ablation_means[0]
        combined = net.attention_layer.attention_combine(out.reshape(10, 8))
        expected = net.output_layer((combined + net.ego_embedding(ego).squeeze(1)) / 2)
        got = net(y)
    net.attention_layer.ablated_heads, net.attention_layer.ablation_means = (), None
    torch.testing.assert_close(got, expected)
    assert torch.allclose(q, net(x).detach())


@pytest.fixture
def analysis_inputs(tmp_path):
    return write_analysis_inputs(tmp_path)


def write_analysis_inputs(tmp_path):
    """Tiny 2-head trained/untrained checkpoints and synthetic pooled states of 3 episodes, as
    the rules see them: (models, states path)."""
    models = {}
    for i, m in enumerate(("trained", "untrained")):
        models[m] = str(tmp_path / f"{m}.pt")
        save_network(tiny_net(heads=2, seed=i, cls=ObsNetwork), models[m])
    states_path = str(tmp_path / "states.npz")
    np.savez(
        states_path,
        obs=states(9, 15).numpy(),
        episode=np.repeat([0, 1, 2], 3),
        actions=np.zeros(9, dtype=int),
        episode_seeds=np.array([7, 8, 9]),
        episode_returns=np.array([1.0, 9.0, 0.0]),
        episode_crashed=np.array([False, False, True]),
        episode_arrived=np.array([False, True, False]),
    )
    return models, states_path


def rollout_files(tmp_path):
    """Synthetic rendered rollouts of the two tiny networks, as plot_rollout_highway reads."""
    rollouts = {}
    for i, m in enumerate(("trained", "untrained")):
        net, x = tiny_net(heads=2, seed=i, cls=ObsNetwork), states(8, 15, seed=i)
        with torch.no_grad():
            att = net.get_attention_matrix(x)[:, :, 0, :].numpy()
        rollouts[m] = str(tmp_path / f"{m}.npz")
        np.savez(
            rollouts[m],
            obs=x.numpy(),
            actions=np.zeros(8, dtype=int),
            attention=att,
            frames=np.random.default_rng(i).integers(0, 255, (8, 20, 20, 3), dtype=np.uint8),
            **{"act__output_layer.layers.0": np.ones((8, 8))},
        )
    return rollouts


def run_rule(rule, analysis_inputs, tmp_path, names, **params):
    """Run an analysis rule's main() on the tiny inputs; its JSON, after checking its figures."""
    import importlib

    models, states_path = analysis_inputs
    figures = {n: str(tmp_path / f"{n}.png") for n in names}
    out = tmp_path / f"{rule}.json"
    importlib.import_module(rule).main(models, states_path, figures, str(out), seed=0, **params)
    assert all((tmp_path / f"{n}.png").stat().st_size > 1000 for n in names)
    return json.loads(out.read_text())


def rule_inputs(analysis_inputs):
    """The rules' view: both networks (from their files) and the pooled states."""
    from xai_repro.highway.data import load_analysis_inputs

    nets, _, x = load_analysis_inputs(*analysis_inputs)
    return nets, x


def weights(analysis_inputs, m):
    from xai_repro.common import torch_load_checked

    state = torch_load_checked(analysis_inputs[0][m])["state_dict"]
    return {k: v.double().numpy() for k, v in state.items()}


def test_ig_rule_attributions_are_complete(analysis_inputs, tmp_path):
    res = run_rule(
        "explain_ig_highway", analysis_inputs, tmp_path, ["ig", "ig_signed"], ig_steps=200
    )
    nets, x = rule_inputs(analysis_inputs)
    for m in ("trained", "untrained"):
        assert res["ig"][m]["completeness_error_max"] < 5e-3
        gaps = [q_gap(nets[m], x, a).mean() for a in range(3)]
        np.testing.assert_allclose(np.sum(res["ig"][m]["signed_per_feature"], 1), gaps, atol=5e-3)
        assert np.allclose(np.array(res["ig"][m]["abs_per_feature"])[:, 0], 0)  # presence
    differs = int((x != presence_baseline(x)).sum())
    assert res["randomisation_rank_correlation_entries"] == 3 * differs
    assert res["ig_completeness_error_median"] < 5e-3


def test_conductance_rule_sums_to_the_q_gap_over_every_cut(analysis_inputs, tmp_path):
    res = run_rule(
        "explain_conductance_highway",
        analysis_inputs,
        tmp_path,
        ["conductance", "neuron_conductance"],
        conductance_steps=300,
        attribution_states=9,
    )
    for m in ("trained", "untrained"):
        gaps = res["conductance_completeness_gap"][m]
        assert set(gaps) == {
            "output_layer.layers.0",
            "output_layer.layers.1",
            "output_layer.predict",
            "embeddings.layers.0",
            "embeddings.layers.1",
        }
        assert max(gaps.values()) < 0.01, gaps
    assert res["conductance_completeness_gap_max"] < 0.01


def test_shap_rule_values_add_up_and_leave_presence_alone(analysis_inputs, tmp_path):
    res = run_rule(
        "explain_shap_highway",
        analysis_inputs,
        tmp_path,
        ["shap"],
        shap_background=9,
        shap_samples=100,
        attribution_states=6,
    )
    # every pooled state in the background; 6 of them explained, 2 per episode
    assert res["shap_background_states"] == 9 and res["shap_states"] == 6
    for m in ("trained", "untrained"):
        # expected gradients is a Monte Carlo estimate: efficiency up to its sampling error
        # (exact for a linear network: test_shap_values_of_a_linear_network_are_exact)
        assert res["shap_efficiency_gap"][m] < 0.5
        imp = np.array(res["shap_feature_importance"][m])
        assert imp.shape == (3, 7) and np.all(imp[:, 0] == 0) and np.all(imp[:, 1:].sum(1) > 0)


def test_circuits_rule_norms_are_those_of_the_weights(analysis_inputs, tmp_path):
    res = run_rule("inspect_circuits_highway", analysis_inputs, tmp_path, ["circuits"])
    for m in ("trained", "untrained"):
        w, d = weights(analysis_inputs, m), 4  # 2 heads of 8 features
        for h, norms in enumerate(res["circuit_frobenius_norm"][m]):
            rows = slice(h * d, (h + 1) * d)
            wq, wk = (
                w["attention_layer.query_ego.weight"][rows],
                w["attention_layer.key_all.weight"][rows],
            )
            wv = w["attention_layer.value_all.weight"][rows]
            wo = w["attention_layer.attention_combine.weight"][:, rows]
            assert norms["qk"] == pytest.approx(np.linalg.norm(wq.T @ wk), rel=1e-5)
            assert norms["ov"] == pytest.approx(np.linalg.norm(wo @ wv), rel=1e-5)
        att = res["attention"][m]
        assert 0 <= att["ego_self_attention"] <= 1 and 0 <= att["entropy"] <= np.log(15) + 1e-6


def test_weights_rule_norms_are_those_of_the_composed_maps(analysis_inputs, tmp_path):
    res = run_rule("inspect_weights_highway", analysis_inputs, tmp_path, ["weights"])
    for m in ("trained", "untrained"):
        w = weights(analysis_inputs, m)
        for name in ("ego_embedding", "others_embedding"):
            composed = w[f"{name}.layers.1.weight"] @ w[f"{name}.layers.0.weight"]  # (8, 7)
            np.testing.assert_allclose(
                res["weight_products"][m][name]["feature_norm"],
                np.linalg.norm(composed, axis=0),
                rtol=1e-5,
            )


def test_perturbation_rule_shift_moves_q_by_the_head_row_sums(analysis_inputs, tmp_path):
    res = run_rule(
        "perturb_highway",
        analysis_inputs,
        tmp_path,
        ["perturbation"],
        perturb_sigmas=[1e-7, 0.5],
        perturb_shift=0.1,
    )
    for m in ("trained", "untrained"):
        expected = np.abs(0.1 * weights(analysis_inputs, m)["output_layer.predict.weight"].sum(1))
        shift = res["final_hidden_shift"][m]
        np.testing.assert_allclose(shift["mean_abs_dq"], expected, rtol=1e-4, atol=1e-7)
        np.testing.assert_allclose(shift["max_abs_dq"], expected, rtol=1e-4, atol=1e-7)
        assert res["final_hidden_perturbation"][m][0] == 0.0  # negligible noise flips nothing


def test_logit_lens_rule_last_layer_is_the_network(analysis_inputs, tmp_path):
    res = run_rule("apply_logit_lens_highway", analysis_inputs, tmp_path, ["logit_lens"])
    nets, x = rule_inputs(analysis_inputs)
    for m in ("trained", "untrained"):
        last = res["logit_lens"][m]["output_layer.layers.1"]
        assert last["agreement"] == 1.0 and last["mean_abs_dq"] == 0.0
        assert last["agreement_ci95"] == [1.0, 1.0] and last["mean_abs_dq_ci95"] == [0.0, 0.0]
        with torch.no_grad():
            counts = np.bincount(nets[m](x).argmax(1).numpy(), minlength=3)
        assert res["logit_lens_chance_agreement"][m] == pytest.approx(counts.max() / len(x))


def test_conductance_rule_reports_seven_layers_and_head_totals(analysis_inputs, tmp_path):
    import explain_conductance_highway

    models, states_path = analysis_inputs
    figures = {n: str(tmp_path / f"{n}.png") for n in ("conductance", "neuron_conductance")}
    out = tmp_path / "c.json"
    explain_conductance_highway.main(
        models, states_path, figures, str(out), seed=0, conductance_steps=50, attribution_states=4
    )
    res = json.loads(out.read_text())
    trained = res["layer_conductance"]["trained"]
    assert len(trained) == 7 and np.array(trained["output_layer.layers.1"]["per_neuron"]).shape == (
        3,
        8,
    )
    np.testing.assert_allclose(
        trained["output_layer.predict"]["total"], res["q_gap_mean"]["trained"], atol=1e-4
    )


def test_plot_rollout_rule(tmp_path):
    import plot_rollout_highway

    rollouts = rollout_files(tmp_path)
    figures = {n: str(tmp_path / f"{n}.png") for n in ("activations", "contact_sheet")}
    plot_rollout_highway.main(rollouts, figures, str(tmp_path / "r.gif"))
    assert (tmp_path / "r.gif").stat().st_size > 100


def test_summarize_refuses_a_key_from_two_analyses():
    from xai_repro.common import InputError
    from xai_repro.highway.summary import merge_analyses

    assert merge_analyses({"a": {"x": 1}, "b": {"y": 2}}) == {"x": 1, "y": 2}
    with pytest.raises(InputError, match="b"):
        merge_analyses({"a": {"x": 1}, "b": {"x": 2}})


def test_top_neurons_pick_the_largest_absolute_mean_per_action():
    from xai_repro.highway.attribution import top_neurons

    cond = {"layer": np.array([[0.1, -0.9, 0.5], [0.2, 0.1, -0.3], [0.0, 0.0, 0.0]])}
    assert top_neurons(cond, "layer") == [1, 2, 0]


def test_ablate_rule_matches_the_ablation_on_states_and_the_intact_episodes(
    analysis_inputs, tmp_path
):
    res = run_rule(
        "ablate_highway",
        analysis_inputs,
        tmp_path,
        ["ablation"],
        ablation_episodes=1,
        observation={"order": "sorted"},
    )
    nets, x = rule_inputs(analysis_inputs)
    for m in ("trained", "untrained"):
        abl = res["ablation"][m]
        assert set(abl) >= {"head_0", "head_1", "most_attended_vehicle", "intact_mean_return"}
        means = head_means(nets[m], x)
        for h in (0, 1):
            expected = ablation_on_states(nets[m], x, heads=(h,), means=means)
            got = abl[f"head_{h}"]
            assert got["action_change_rate"] == pytest.approx(expected["action_change_rate"])
            assert got["mean_abs_q_change"] == pytest.approx(
                expected["mean_abs_q_change"], rel=1e-5
            )
        for name in ("head_0", "head_1", "most_attended_vehicle"):
            run = abl[name]
            assert run["episodes"] == 1
            assert run["return_change"] == pytest.approx(
                run["mean_return"] - abl["intact_mean_return"]
            )
            assert 0.0 <= run["crash_rate"] <= 1.0 and 0.0 <= run["arrival_rate"] <= 1.0
