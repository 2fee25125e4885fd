"""The MMN code base's pretrained GRUs (../shared/fixtures/mmn/) played through the workflow's code.

Skipped only where the fixtures are absent (CI has them); read in place, never copied.
"""

from pathlib import Path

import numpy as np
import pytest
import torch

from xai_repro.common import InputError
from xai_repro.diffig.io import load_gru
from xai_repro.diffig.networks import MMNet
from xai_repro.diffig.rollouts import evaluate, hidden_state_agreement, run_episode
from xai_repro.diffig.tasks import get_task

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "mmn"
needs_fixtures = pytest.mark.skipif(not FIXTURES.is_dir(), reason=f"{FIXTURES} absent")


@pytest.fixture(autouse=True)
def one_thread():
    """One torch thread, as the rules run (several threads thrash on a loaded machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@needs_fixtures
def test_pong_gru_wins_a_full_game_21_0():
    task = get_task("PongDeterministic-v4")
    gru = load_gru(FIXTURES / "pong_gru_32.p", task)  # strict, weights_only=True
    env = task.make_env()
    try:
        score, rec = run_episode(MMNet(gru), env, 0, record=True, task=task)
    finally:
        env.close()
    assert score == 21.0
    assert 1000 < len(rec["action"]) < 3000  # the README: 21-0 in 1,699 steps


@needs_fixtures
def test_cartpole_gru_returns_500_and_uses_its_memory():
    task = get_task("CartPole-v1")
    gru = load_gru(FIXTURES / "cartpole_gru_32.p", task)
    assert evaluate(MMNet(gru), 3, 0, task).tolist() == [500.0, 500.0, 500.0]
    env = task.make_env()
    try:
        _, rec = run_episode(MMNet(gru), env, 0, record=True, task=task)
    finally:
        env.close()
    agreement = hidden_state_agreement(gru, rec["obs"], draws=10, seed=0)
    assert 0.5 < agreement < 0.8  # its actions depend on its memory


@needs_fixtures
def test_a_gru_file_of_the_other_task_is_refused(tmp_path):
    with pytest.raises(InputError, match="cartpole_gru_32.p"):
        load_gru(FIXTURES / "cartpole_gru_32.p", get_task("PongDeterministic-v4"))
    state = torch.load(FIXTURES / "cartpole_gru_32.p", weights_only=True)
    state["extra"] = torch.zeros(1)
    torch.save(state, tmp_path / "extra.p")
    with pytest.raises(InputError, match="extra.p"):
        load_gru(tmp_path / "extra.p", get_task("CartPole-v1"))


def test_unknown_task_is_refused():
    with pytest.raises(ValueError, match="diffig.env"):
        get_task("Breakout-v5")


def test_hidden_state_agreement_of_a_memoryless_and_a_memory_driven_policy():
    gru = get_task("CartPole-v1").make_gru()
    inputs = np.random.default_rng(0).normal(size=(300, 4)).astype(np.float32)
    with torch.no_grad():
        gru.gru.weight_hh.zero_()  # the next hidden state ignores the previous one:
        gru.gru.bias_ih[32:64] = -50.0  # update gate closed, h' = n(x)
    assert hidden_state_agreement(gru, inputs, draws=5, seed=0) == 1.0
    with torch.no_grad():
        gru.gru.weight_ih.zero_()  # now only the memory matters
        gru.gru.weight_hh.normal_(0, 3.0)
        gru.actor_linear.weight.normal_(0, 3.0)
    assert hidden_state_agreement(gru, inputs, draws=5, seed=0) < 0.8


@needs_fixtures
def test_import_gru_rule_resaves_the_authors_gru_unchanged(tmp_path):
    import import_gru

    out = tmp_path / "models" / "gru.pt"
    import_gru.main(FIXTURES / "cartpole_gru_32.p", out, env="CartPole-v1")
    expected = torch.load(FIXTURES / "cartpole_gru_32.p", weights_only=True)
    saved = torch.load(out, weights_only=True)
    assert saved.keys() == expected.keys()
    for key, value in expected.items():
        assert torch.equal(saved[key], value)
    with pytest.raises(InputError, match="cartpole_gru_32.p"):
        import_gru.main(
            FIXTURES / "cartpole_gru_32.p", tmp_path / "x.pt", env="PongDeterministic-v4"
        )
    assert not (tmp_path / "x.pt").exists()


@needs_fixtures
def test_the_authors_pong_mmn_minimizes_to_4_states_and_12_observation_classes(tmp_path):
    """The differential-IG authors' (64, 100) Pong MMN, no training: published 380 / 374 ->
    4 / 12; the MMN code base's own code gives 385 / 367 -> 4 / 12 on it."""
    import import_mmn
    from xai_repro.diffig.atari import pong_task
    from xai_repro.diffig.io import load_mmn
    from xai_repro.diffig.moore_machine import extract_moore_machine, minimize_moore_machine

    task = get_task("PongDeterministic-v4", 3000)
    import_mmn.main(FIXTURES / "pong_mmn_64_100.p", tmp_path / "mmn.pt", env=task.name)
    mmn = load_mmn(tmp_path / "mmn.pt", task=task).eval()
    raw = extract_moore_machine(mmn, episodes=1, seed=0, task=pong_task(3000, 3))
    assert 300 < raw["n_states"] < 450 and 300 < raw["n_observations"] < 450
    assert raw["action_conflicts"] == 0
    mini = minimize_moore_machine(raw, restarts=5, seed=0)
    assert (mini["n_states"], mini["n_observations"]) == (4, 12)
    assert mini["n_observations_wildcard"] < 12  # a missing transition matching anything


@needs_fixtures
def test_acrobot_gru_loads_strictly_and_plays_its_task():
    task = get_task("Acrobot-v1")
    gru = load_gru(FIXTURES / "acrobot_gru_32.p", task)
    returns = evaluate(MMNet(gru), 2, 0, task)
    # Acrobot-v1 gives -1 per step until the goal, at most 500 steps: a policy that swings
    # up ends well above -500
    assert returns.shape == (2,) and (returns > -200).all()
    with pytest.raises(InputError, match="acrobot_gru_32.p"):
        load_gru(FIXTURES / "acrobot_gru_32.p", get_task("CartPole-v1"))


@needs_fixtures
@pytest.mark.parametrize(
    "name, fixture, low",
    [
        ("FreewayDeterministic-v4", "freeway", 21),
        ("SpaceInvadersDeterministic-v4", "spaceinvaders", 1000),
        ("BreakoutDeterministic-v4", "breakout", 700),
        ("BowlingDeterministic-v4", "bowling", 55),
        ("BoxingDeterministic-v4", "boxing", 90),
        ("ChopperCommand-v0", "choppercommand", 0),
    ],
)
def test_atari_grus_play_a_full_game_through_their_games_input(name, fixture, low):
    # The README's GRU scores: Freeway 21, Breakout 773, Bowling 60, Boxing 100. Not reached
    # (docs/diffig.md): SpaceInvaders' 1820 and ChopperCommand's 5300; their bounds say only
    # that the GRU plays a full game on this input (ChopperCommand's file has no input_ff keys)
    task = get_task(name, 10_000)
    gru = load_gru(FIXTURES / f"{fixture}_gru_32.p", task)
    env = task.make_env()
    try:
        score, rec = run_episode(MMNet(gru), env, 0, record=True, task=task)
    finally:
        env.close()
    assert score >= low
    assert rec["obs"].shape[1:] == (1, 80, 80) and len(rec["action"]) < 10_000


@needs_fixtures
def test_lunarlander_gru_loads_strictly_and_plays_lunarlander_v3():
    pytest.importorskip("Box2D")
    task = get_task("LunarLander-v3")
    gru = load_gru(FIXTURES / "lunarlander_gru_32.p", task)
    returns = evaluate(MMNet(gru), 2, 0, task)
    # -100 for a crash, +100 for landing, shaping in between; the env stops at 1,000 steps
    assert returns.shape == (2,) and np.isfinite(returns).all() and (returns > -400).all()
    with pytest.raises(InputError, match="lunarlander_gru_32.p"):
        load_gru(FIXTURES / "lunarlander_gru_32.p", get_task("Acrobot-v1"))


def test_conv_aliases_are_added_where_missing_and_a_disagreement_is_refused():
    from xai_repro.diffig.atari import AtariGRUNet, with_input_ff_aliases

    torch.manual_seed(0)
    full = AtariGRUNet(32, 18).state_dict()
    convs_only = {k: v for k, v in full.items() if not k.startswith("input_ff.")}
    filled = with_input_ff_aliases(convs_only)
    assert filled.keys() == full.keys()
    assert all(torch.equal(filled[k], full[k]) for k in full)
    aliases_only = {k: v for k, v in full.items() if not k.startswith("conv")}
    assert with_input_ff_aliases(aliases_only).keys() == full.keys()
    clash = dict(full)
    clash["input_ff.2.weight"] = full["conv2.weight"] + 1.0
    with pytest.raises(ValueError, match="conv2.weight and input_ff.2.weight differ"):
        with_input_ff_aliases(clash)
    missing = {k: v for k, v in convs_only.items() if not k.startswith("conv3.")}
    with pytest.raises(ValueError, match="neither conv3.weight nor input_ff.4.weight"):
        with_input_ff_aliases(missing)
