"""The recurrent-policy study's rule scripts and cross-checks of its science.

Tiny random MMNs on CartPole (episodes of a few dozen steps): the extracted Moore
machine run as a table reproduces the network, differential IG agrees with captum,
and the scripts refuse bad input without writing their outputs.
"""

import copy
import json

import numpy as np
import pandas as pd
import pytest
import torch

import attribute_diffig
from xai_repro.common import InputError
from xai_repro.diffig.diff_ig import differential_ig
from xai_repro.diffig.io import save_state
from xai_repro.diffig.moore_machine import (
    extract_moore_machine,
    minimize_moore_machine,
    run_machine,
)
from xai_repro.diffig.networks import make_mmn
from xai_repro.diffig.rollouts import evaluate
from xai_repro.diffig.summary import summarize


@pytest.fixture(scope="module")
def random_mmn():
    torch.manual_seed(4)
    return make_mmn()


def test_machine_as_table_reproduces_the_mmn(random_mmn):
    # the MMN's next hidden state is a function of (hidden code, observation code), so on
    # the episodes it was extracted from the table must replay the network exactly
    raw = extract_moore_machine(random_mmn, episodes=4, seed=100)
    assert raw["action_conflicts"] == 0
    assert raw["n_states"] >= 1 and raw["n_observations"] >= 1
    minimized = minimize_moore_machine(raw)
    assert minimized["n_states"] <= raw["n_states"]
    assert minimized["n_observations"] <= raw["n_observations"]
    expected = evaluate(random_mmn, episodes=4, seed=100)
    table = run_machine(raw, minimized, random_mmn, episodes=4, seed=100)
    np.testing.assert_array_equal(table["returns"], expected)
    # every code on these episodes was seen in extraction
    assert table["unseen_codes"].sum() == 0 and table["unseen_pairs"].sum() == 0
    np.testing.assert_array_equal(table["steps"], table["returns"])  # CartPole: +1 a step


def test_table_counts_codes_unseen_in_extraction(random_mmn):
    raw = extract_moore_machine(random_mmn, episodes=2, seed=300)
    minimized = minimize_moore_machine(raw)
    expected = evaluate(random_mmn, episodes=2, seed=300)
    # store every observation code with one unit changed: each code met is now unseen and
    # its nearest known code (Hamming distance 1) is the one it was, so the play is the same
    moved = copy.deepcopy(raw)
    for code in moved["observation_codes"].values():
        code[0] = 1 if code[0] != 1 else 0
    table = run_machine(moved, minimized, random_mmn, episodes=2, seed=300)
    np.testing.assert_array_equal(table["unseen_codes"], table["steps"])
    assert table["unseen_pairs"].sum() == 0
    np.testing.assert_array_equal(table["returns"], expected)


def test_minimized_machine_is_consistent_with_the_raw_one(random_mmn):
    raw = extract_moore_machine(random_mmn, episodes=4, seed=200)
    mini = minimize_moore_machine(raw)
    smap, omap = mini["state_map"], mini["observation_map"]
    for s, d in raw["transitions"].items():
        for o, n in d.items():
            assert mini["transitions"][smap[s]][omap[o]] == smap[n]
            assert mini["actions"][smap[n]] == raw["actions"][n]


def _captum_differential_ig(mmn, obs, i, j, n_steps, method):
    from captum.attr import IntegratedGradients

    x_i, x_j = torch.tensor(obs[i])[None], torch.tensor(obs[j])[None]

    def pre(x):
        return mmn.obx_net.pre_quantization(mmn.gru_net.input_ff(x))

    with torch.no_grad():
        target = pre(x_i)

    def forward(x):
        return (pre(x) - target) ** 2

    ig = IntegratedGradients(forward)
    per_unit = [
        ig.attribute(x_i, baselines=x_j, target=k, n_steps=n_steps, method=method)[0]
        for k in range(target.shape[1])
    ]
    return torch.stack(per_unit).mean(dim=0).detach().numpy()


@pytest.mark.parametrize("rule", ["riemann_left", "riemann_right"])
def test_differential_ig_matches_captum(random_mmn, rule):
    # an independent implementation of the same path integral (captum's trapezoid rule
    # weights n points by 1/n, not a quadrature of [0, 1], so it is not compared)
    obs = np.random.default_rng(5).normal(scale=0.5, size=(12, 4)).astype(np.float32)
    ours, _ = differential_ig(random_mmn, obs, 2, 9, m=50, rule=rule)
    theirs = _captum_differential_ig(random_mmn, obs, 2, 9, 50, rule)
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-8)
    assert np.abs(ours).sum() > 0


def test_seed_rule_is_captum_riemann_left_times_m_over_m_plus_one(random_mmn):
    # the issue's identity: the gradient of F vanishes at x_i, so the seed's extra point
    # adds nothing and only the normalisation 1/(m+1) differs from riemann_left's 1/m
    obs = np.random.default_rng(9).normal(scale=0.5, size=(12, 4)).astype(np.float32)
    ours, _ = differential_ig(random_mmn, obs, 10, 1, m=10, rule="seed")
    theirs = _captum_differential_ig(random_mmn, obs, 10, 1, 10, "riemann_left") * 10 / 11
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-8)


def test_differential_ig_seed_rule_differs_from_a_proper_integral_only_by_weights(random_mmn):
    # the seed averages the gradient over m + 1 points; with m large it converges to IG
    obs = np.random.default_rng(6).normal(scale=0.5, size=(8, 4)).astype(np.float32)
    seed_rule, _ = differential_ig(random_mmn, obs, 1, 6, m=2000, rule="seed")
    trapezoid, _ = differential_ig(random_mmn, obs, 1, 6, m=2000, rule="trapezoid")
    np.testing.assert_allclose(seed_rule, trapezoid, rtol=2e-3, atol=1e-6)


DIFF_IG = {"episode_seed": 7, "pairs": [[3, 15]], "m": 10, "rule": "seed", "matrix_steps": 4}


def _episode_file(path, steps=20, width=4):
    rng = np.random.default_rng(8)
    torch.save([torch.tensor(rng.normal(scale=0.05, size=(1, width))) for _ in range(steps)], path)
    return path


def test_attribute_main_with_an_observations_file(tmp_path, random_mmn):
    save_state(random_mmn, tmp_path / "mmn.pt")
    _episode_file(tmp_path / "episode.pt")
    out = tmp_path / "diff_ig.json"
    attribute_diffig.main(
        tmp_path / "mmn.pt", out, seed=0, diff_ig=DIFF_IG, observations=tmp_path / "episode.pt"
    )
    result = json.loads(out.read_text())
    assert len(result["observations"]) == 20
    (pair,) = result["pairs"]
    assert (pair["input"], pair["baseline"]) == (3, 15)
    assert np.abs(pair["attribution"]).sum() > 0
    # the relative error is the absolute one over |F(x_i) - F(x_j)|, which the sum misses by it
    gap = pair["completeness_gap"]
    assert gap > 0
    # F(x_i) = 0, so F(x_i) - F(x_j) = -gap
    assert abs(sum(pair["attribution"]) + gap) == pytest.approx(
        pair["completeness_error"], abs=1e-6
    )
    assert pair["completeness_relative_error"] == pytest.approx(pair["completeness_error"] / gap)
    assert result["completeness_relative_error_median"] > 0
    matrix = np.array(result["matrix"]["attribution"])
    steps = result["matrix"]["steps"]
    assert matrix.shape == (len(steps), len(steps), 4)
    assert np.all(matrix[np.arange(len(steps)), np.arange(len(steps))] == 0)


def test_attribute_main_refuses_bad_input(tmp_path, random_mmn):
    save_state(random_mmn, tmp_path / "mmn.pt")
    _episode_file(tmp_path / "episode.pt")
    out = tmp_path / "diff_ig.json"
    bad_pairs = dict(DIFF_IG, pairs=[[3, 25]])
    with pytest.raises(InputError, match="diffig.diff_ig.pairs"):
        attribute_diffig.main(
            tmp_path / "mmn.pt",
            out,
            seed=0,
            diff_ig=bad_pairs,
            observations=tmp_path / "episode.pt",
        )
    _episode_file(tmp_path / "wide.pt", width=6)
    with pytest.raises(InputError, match="wide.pt"):
        attribute_diffig.main(
            tmp_path / "mmn.pt", out, seed=0, diff_ig=DIFF_IG, observations=tmp_path / "wide.pt"
        )
    torch.save({"gru_net.gru.weight_hh": torch.zeros(3, 3)}, tmp_path / "partial.pt")
    with pytest.raises(InputError, match="partial.pt"):
        attribute_diffig.main(tmp_path / "partial.pt", out, seed=0, diff_ig=DIFF_IG)
    assert not out.exists()
    assert list(tmp_path.glob(".diff_ig.json*")) == []


def test_summary_has_the_keys_of_the_issue():
    names = ("gru", "gru_hxqbn", "gru_obsqbn", "mmn")
    returns = {n: {"mean": 500.0, "std": 0.0, "returns": [500.0] * 20} for n in names}
    machine = {
        "raw": {"n_states": 9, "n_observations": 12},
        "minimized": {"n_states": 3, "n_observations": 4, "n_observations_wildcard": 2},
        "table_returns": {
            "mean": 499.0,
            "std": 1.0,
            "returns": [499.0] * 20,
            "unseen_codes": [0] * 19 + [4],
        },
        "replay_returns": {"mean": 500.0, "returns": [500.0] * 3, "unseen_codes": [0] * 3},
    }
    diff_ig = {
        "features": ["cart position", "cart velocity", "pole angle", "pole velocity"],
        "m": 10,
        "rule": "seed",
        "pairs": [{"input": 10, "baseline": 100, "attribution": [0.1, -0.2, 0.3, 0.0]}],
        "completeness_error_median": 0.01,
        "completeness_relative_error_median": 0.002,
    }
    metrics = summarize(returns, machine, diff_ig)
    assert {"returns", "moore_machine", "diff_ig", "ig_completeness_error"} <= set(metrics)
    assert metrics["returns"] == {
        "gru": 500.0,
        "gru_hxqbn": 500.0,
        "gru_obsqbn": 500.0,
        "mmn": 500.0,
        "moore_machine": 499.0,
    }
    assert metrics["moore_machine"] == {
        "states_before": 9,
        "observations_before": 12,
        "states_after": 3,
        "observations_after": 4,
        "observations_after_wildcard": 2,
        "unseen_codes_per_episode": 0.2,
        "replay_return": 500.0,
    }
    assert metrics["diff_ig"][0]["attribution"]["pole angle"] == 0.3
    assert metrics["ig_completeness_relative_error"] == 0.002
    assert metrics["diff_ig_rule"] == {"m": 10, "rule": "seed"}
    assert metrics["episodes"] == 20


def test_finetune_losses_have_their_known_values():
    from xai_repro.diffig.training import _finetune_loss

    logits = torch.log(torch.tensor([[0.5, 0.5], [0.9, 0.1]]))
    targets = torch.tensor([[1.0, 0.0], [0.9, 0.1]])
    # mse: per step the mean over actions of the squared difference, summed over steps
    assert float(_finetune_loss(logits, targets, "mse")) == pytest.approx(0.25)
    # soft-target cross-entropy, averaged over steps
    expected = (-np.log(0.5) + -(0.9 * np.log(0.9) + 0.1 * np.log(0.1))) / 2
    assert float(_finetune_loss(logits, targets, "cross_entropy")) == pytest.approx(expected)


def test_finetune_main_steps_every_truncation_window_with_a_clipped_gradient(tmp_path):
    import finetune_mmn
    from xai_repro.diffig import training

    torch.manual_seed(0)
    mmn = make_mmn(hx_code=4, obs_code=4)
    save_state(mmn.gru_net, tmp_path / "gru.pt")
    save_state(mmn.bhx_net, tmp_path / "hx.pt")
    save_state(mmn.obx_net, tmp_path / "obs.pt")
    norms = []
    clip = torch.nn.utils.clip_grad_norm_

    def recording_clip(params, max_norm):
        params = list(params)
        total = clip(params, max_norm)
        after = torch.linalg.vector_norm(
            torch.stack([p.grad.norm() for p in params if p.grad is not None])
        )
        norms.append((float(total), float(after)))
        return total

    finetune = {
        "steps": 1,
        "learning_rate": 1e-3,
        "episodes_per_step": 1,
        "eval_episodes": 1,
        "train_gru": True,
        "loss": "mse",
        "truncation": 4,
        "grad_clip": 1e-3,
    }
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(training.nn.utils, "clip_grad_norm_", recording_clip)
        mp.setattr(training, "evaluate", lambda *a, **k: np.array([0.0]))
        finetune_mmn.main(
            tmp_path / "gru.pt",
            tmp_path / "hx.pt",
            tmp_path / "obs.pt",
            tmp_path / "mmn.pt",
            tmp_path / "history.csv",
            seed=0,
            finetune=finetune,
            env="CartPole-v1",
            max_steps=10,
        )
    # the fine-tuning episode (its first seed draw) in windows of 4 steps: one optimizer
    # step per window, each clipped to 1e-3
    from xai_repro.diffig.rollouts import run_episode
    from xai_repro.diffig.tasks import get_task

    task = get_task("CartPole-v1", 10)
    env = task.make_env()
    seed = int(np.random.default_rng(0).integers(2**31))
    _, rec = run_episode(mmn, env, seed, record=True, task=task)
    env.close()
    assert len(norms) == -(-len(rec["action"]) // 4) >= 2
    assert all(after <= 1e-3 * 1.0001 for _, after in norms)
    assert any(total > 1e-3 for total, _ in norms)
    history = pd.read_csv(tmp_path / "history.csv")
    assert list(history["step"]) == [0, 1]
    with pytest.raises(ValueError, match="diffig.finetune.loss"):
        training.finetune_mmn(
            mmn,
            mmn.gru_net,
            steps=1,
            lr=1e-3,
            episodes_per_step=1,
            target_return=1.0,
            eval_episodes=1,
            seed=0,
            loss="l1",
        )
