"""Rollouts of a GRU policy or an MMN on a task (greedy, epsilon-greedy, recorded).

A ``Task`` bundles what differs between environments: the env, how an observation becomes
the network's input, how a network action becomes an env action, the networks' builders and
a step cap. ``CARTPOLE`` is defined here; Pong's task lives in ``diffig.atari``.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import torch

from xai_repro.diffig.networks import QBN, GRUNet, MMNet, mmn_from_state_dict

OBS_NAMES = ("cart position", "cart velocity", "pole angle", "pole velocity")
ENV_ID = "CartPole-v1"


def make_env():
    import gymnasium as gym

    return gym.make(ENV_ID)


def expert_action(obs) -> int:
    """The controller the GRU imitates: push right iff 3 theta + theta_dot > 0."""
    return int(3.0 * obs[2] + obs[3] > 0)


def as_input(obs):
    return torch.tensor(obs, dtype=torch.float32)[None]  # a copy, never a view of env state


def cartpole_hx_qbn(gru_size: int, code: int) -> QBN:
    return QBN(gru_size, code, "tanh")


@dataclass(frozen=True)
class Task:
    """An environment and the MMN code base's networks for it."""

    name: str
    make_env: Callable
    preprocess: Callable = as_input
    env_action: Callable = int
    make_gru: Callable[[], GRUNet] = GRUNet
    make_hx_qbn: Callable[[int, int], QBN] = cartpole_hx_qbn
    mmn_from_state_dict: Callable = mmn_from_state_dict
    gru_state: Callable[[dict], dict] = dict  # a GRU file's state_dict -> the GRU's keys
    max_steps: int | None = None  # step cap of every episode (None: the env's own)


CARTPOLE = Task(ENV_ID, make_env)


def control_task(env_id: str, obs_dim: int, n_actions: int) -> Task:
    """Another control task of the MMN code base's ``main_control.py``: CartPole's networks
    with ``obs_dim`` inputs and ``n_actions`` actions, the raw observation as input."""
    import gymnasium as gym

    def make(gru_size=32, hx_code=64, obs_code=64):
        gru = GRUNet(obs_dim, gru_size, n_actions)
        return MMNet(gru, QBN(8, obs_code, "relu6"), cartpole_hx_qbn(gru_size, hx_code))

    return Task(
        env_id,
        lambda: gym.make(env_id),
        make_gru=lambda: GRUNet(obs_dim, 32, n_actions),
        mmn_from_state_dict=lambda state: mmn_from_state_dict(state, make=make),
    )


@torch.no_grad()
def run_episode(
    net: MMNet,
    env,
    seed: int,
    epsilon: float = 0.0,
    rng=None,
    record: bool = False,
    *,
    task: Task = CARTPOLE,
    explore_steps: int | None = None,
):
    """One greedy episode (epsilon-random actions if epsilon > 0); returns (return, record).

    Random actions are taken only during the first ``explore_steps`` steps when given.
    ``record['obs']`` holds the network's inputs (the preprocessed observations).
    """
    obs, _ = env.reset(seed=int(seed))
    hx = net.initial_hidden()
    total, rec = 0.0, defaultdict(list)
    done, steps = False, 0
    while not done:
        x = task.preprocess(obs)
        logits, hx, obs_code, hx_code = net.step(x, hx)
        action = int(logits.argmax(dim=1))
        exploring = explore_steps is None or steps <= explore_steps
        if epsilon > 0 and exploring and rng.random() < epsilon:
            action = int(rng.integers(logits.shape[1]))
        if record:
            rec["obs"].append(x[0].numpy())
            rec["features"].append(net.gru_net.input_ff(x)[0].numpy())
            rec["hidden"].append(hx[0].numpy().copy())
            rec["action"].append(action)
            if obs_code is not None:
                rec["obs_code"].append(obs_code[0].numpy().astype(np.int8))
            if hx_code is not None:
                rec["hx_code"].append(hx_code[0].numpy().astype(np.int8))
        obs, reward, terminated, truncated, _ = env.step(task.env_action(action))
        total += float(reward)
        steps += 1
        done = terminated or truncated or (task.max_steps is not None and steps >= task.max_steps)
    return total, {k: np.array(v) for k, v in rec.items()}


def evaluate(net: MMNet, episodes: int, seed: int, task: Task = CARTPOLE) -> np.ndarray:
    """Greedy returns over ``episodes`` seeded episodes (seeds seed, seed+1, ...)."""
    env = task.make_env()
    try:
        return np.array([run_episode(net, env, seed + e, task=task)[0] for e in range(episodes)])
    finally:
        env.close()


def collect_bottleneck_data(
    gru: GRUNet,
    *,
    episodes: int,
    epsilon: float,
    seed: int,
    task: Task = CARTPOLE,
    max_steps: int | None = None,
) -> dict:
    """Observation features and hidden states from rollouts, as the MMN code base draws them.

    Even episodes are greedy; odd ones take random actions with probability ``epsilon``
    until a step drawn uniformly from 0, 2 %, 4 % ... of the step cap (its
    ``generate_max_steps``; ``max_steps``, else the task's, else 500), then act greedily;
    every episode is capped there.
    """
    rng = np.random.default_rng(seed)
    cap = max_steps or task.max_steps or 500
    task = replace(task, max_steps=cap)
    env = task.make_env()
    feats, hidden, returns = [], [], []
    for e in range(episodes):
        eps = epsilon if e % 2 else 0.0
        explore = int(rng.choice(np.arange(0, cap, max(1, int(0.02 * cap)))))
        total, rec = run_episode(
            MMNet(gru), env, seed + e, eps, rng, record=True, task=task, explore_steps=explore
        )
        feats.append(rec["features"])
        hidden.append(rec["hidden"])
        returns.append(total)
    env.close()
    return {
        "features": np.concatenate(feats),
        "hidden": np.concatenate(hidden),
        "returns": np.array(returns),
    }


@torch.no_grad()
def hidden_state_agreement(gru: GRUNet, inputs: np.ndarray, *, draws: int, seed: int) -> float:
    """How little the GRU's greedy action depends on its memory.

    For every input (preprocessed observations, e.g. of its own greedy episodes), the action
    after one GRU step from ``draws`` hidden states drawn uniformly from [-1, 1]^n is
    compared with the action from the first draw; returns the fraction that agree (1: the
    memory never changes the action; about 1/n_actions: the action is set by the memory).
    """
    gen = torch.Generator().manual_seed(seed)
    feats = gru.input_ff(torch.as_tensor(np.asarray(inputs, dtype=np.float32)))
    actions = [
        gru.actor_linear(
            gru.gru(feats, torch.rand(len(feats), gru.gru_size, generator=gen) * 2 - 1)
        ).argmax(1)
        for _ in range(draws)
    ]
    return float(torch.stack([(a == actions[0]).float() for a in actions[1:]]).mean())


def returns_and_inputs(net, task, episodes: int, seed: int):
    """The returns of ``net`` on ``episodes`` episodes seeded ``seed``, ``seed + 1``, ...
    and every input it saw on them, concatenated in order."""
    env = task.make_env()
    try:
        runs = [run_episode(net, env, seed + e, record=True, task=task) for e in range(episodes)]
    finally:
        env.close()
    return np.array([r for r, _ in runs]), np.concatenate([rec["obs"] for _, rec in runs])


AGREEMENT_INPUTS = 2000  # evenly spaced inputs of the GRU's episodes
AGREEMENT_DRAWS = 10  # random hidden states per input


def evaluate_networks(nets: dict, task, episodes: int, seed: int, *, agreement_seed: int) -> dict:
    """Greedy returns of each network of ``nets`` (name -> MMNet) on the same seeded episodes:
    per name the mean, std and every return; with a ``gru`` entry also
    ``hidden_state_agreement`` on up to ``AGREEMENT_INPUTS`` evenly spaced inputs of its
    episodes, ``AGREEMENT_DRAWS`` random hidden states each."""
    out = {}
    for name, net in nets.items():
        r, inputs = returns_and_inputs(net, task, episodes, seed)
        out[name] = {"mean": float(r.mean()), "std": float(r.std()), "returns": r.tolist()}
        if name == "gru":
            pick = np.linspace(0, len(inputs) - 1, min(AGREEMENT_INPUTS, len(inputs))).astype(int)
            out["hidden_state_agreement"] = hidden_state_agreement(
                net.gru_net, inputs[pick], draws=AGREEMENT_DRAWS, seed=agreement_seed
            )
    return out
