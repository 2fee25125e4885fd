"""Exact checkpoints of the highway training, at toy size (the SIGKILL version is
tests/test_faults.py): writing checkpoints does not change a run, and a run resumed from an
intermediate checkpoint ends bit-identical to an uninterrupted one (n_envs 1: DummyVecEnv,
n_envs 2: SubprocVecEnv), and a checkpoint without its state is refused naming the file."""

import json
import os
import shutil

import pytest
import torch

import train_highway
from xai_repro.common import InputError, torch_load_checked
from xai_repro.highway.checkpoint import checkpoint_paths, latest_checkpoint

pytestmark = pytest.mark.slow

TOTAL, EVERY = 32, 8  # intersection-v0 episodes last <= 13 steps: each env resets
DQN = {
    "learning_rate": 5e-4,
    "buffer_size": 1000,
    "learning_starts": 4,
    "batch_size": 8,
    "gamma": 0.95,
    "train_freq": 1,
    "gradient_steps": 1,
    "target_update_interval": 6,
    "double": True,
    "loss": "l2",
    "grad_clamp": 1.0,
    "exploration_schedule": "exponential",
    "exploration_tau": 6.0,
    "exploration_fraction": 0.5,
    "exploration_final_eps": 0.05,
}
NET = {"embedding": [8, 8], "heads": 2, "output_layers": [8]}


def train(root, n_envs, every, ckpt="ck"):
    """One training into ``root``; the paths of its trained network and stats."""
    out = [str(root / n) for n in ("u.pt", "t.pt", "s.json")]
    train_highway.main(
        *out,
        seed=3,
        net=NET,
        dqn=DQN,
        total_steps=TOTAL,
        n_envs=n_envs,
        checkpoint_every=every,
        checkpoint_dir=str(root / ckpt),
        order="shuffled",
    )
    return out[1], out[2]


def same_network(a, b):
    sa, sb = (torch_load_checked(p)["state_dict"] for p in (a, b))
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def stats(path, skip=("wall_s", "env_steps_per_s", "resumed_from", "steps_this_run")):
    return {k: v for k, v in json.loads(open(path).read()).items() if k not in skip}


@pytest.fixture(scope="module", params=[1, 2], ids=["n_envs1", "n_envs2"])
def runs(request, tmp_path_factory):
    """Per n_envs: a run without checkpoints, one with a checkpoint every EVERY steps, and
    that run "killed" after its first checkpoint (later ones deleted) and rerun."""
    n_envs = request.param
    root = tmp_path_factory.mktemp(f"resume{n_envs}")
    (root / "plain").mkdir()
    (root / "ckpt").mkdir()
    plain = train(root / "plain", n_envs, every=10 * TOTAL)
    assert latest_checkpoint(root / "plain" / "ck") == (None, 0)
    ckpt = train(root / "ckpt", n_envs, every=EVERY)
    assert latest_checkpoint(root / "ckpt" / "ck")[1] == TOTAL
    shutil.copytree(root / "ckpt", root / "killed")
    for steps in range(2 * EVERY, TOTAL + 1, EVERY):
        for path in checkpoint_paths(root / "killed" / "ck", steps):
            os.remove(path)
    (root / "killed" / "t.pt").unlink()
    resumed = train(root / "killed", n_envs, every=EVERY)
    return n_envs, plain, ckpt, resumed, root


def test_checkpoints_do_not_change_the_run(runs):
    _, plain, ckpt, _, _ = runs
    assert same_network(plain[0], ckpt[0])
    assert stats(plain[1]) == stats(ckpt[1])


def test_a_resumed_run_equals_an_uninterrupted_one(runs):
    n_envs, plain, _, resumed, _ = runs
    raw = json.loads(open(resumed[1]).read())
    assert raw["resumed_from"] == EVERY and raw["steps_this_run"] == TOTAL - EVERY
    assert stats(resumed[1]) == stats(plain[1])
    assert stats(plain[1])["episodes"] >= n_envs  # episodes ended: the rerun crossed env resets
    assert same_network(resumed[0], plain[0]), f"n_envs {n_envs}: trained network differs"


@pytest.mark.parametrize("runs", [1], indirect=True, ids=["n_envs1"])
@pytest.mark.parametrize("damage", ["missing", "truncated"])
def test_a_checkpoint_without_its_state_is_refused(runs, tmp_path, damage):
    n_envs, _, _, _, root = runs
    shutil.copytree(root / "ckpt", tmp_path / "w")
    state = checkpoint_paths(tmp_path / "w" / "ck", TOTAL)[2]
    if damage == "missing":
        os.remove(state)
    else:
        data = open(state, "rb").read()
        open(state, "wb").write(data[: len(data) // 2])
    (tmp_path / "w" / "t.pt").unlink()
    with pytest.raises(InputError, match=os.path.basename(state)):
        train(tmp_path / "w", n_envs, every=EVERY)
    assert not (tmp_path / "w" / "t.pt").exists()
