"""CartPole rollouts of a GRU policy or an MMN (greedy, epsilon-greedy, recorded)."""

from collections import defaultdict

import numpy as np
import torch

from xai_repro.diffig.networks import GRUNet, MMNet

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


@torch.no_grad()
def run_episode(
    net: MMNet,
    env,
    seed: int,
    epsilon: float = 0.0,
    rng=None,
    record: bool = False,
    *,
    preprocess=as_input,
    env_action=int,
    max_steps: int | None = None,
):
    """One greedy episode (epsilon-random actions if epsilon > 0); returns (return, record).

    ``record['obs']`` holds the network's inputs (the preprocessed observations). Defaults are
    CartPole's; an Atari MMN passes its frame preprocessing, action map and a step cap.
    """
    obs, _ = env.reset(seed=int(seed))
    hx = net.initial_hidden()
    total, rec = 0.0, defaultdict(list)
    done, steps = False, 0
    while not done:
        x = preprocess(obs)
        logits, hx, obs_code, hx_code = net.step(x, hx)
        action = int(logits.argmax(dim=1))
        if epsilon > 0 and rng.random() < epsilon:
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
        obs, reward, terminated, truncated, _ = env.step(env_action(action))
        total += float(reward)
        steps += 1
        done = terminated or truncated or (max_steps is not None and steps >= max_steps)
    return total, {k: np.array(v) for k, v in rec.items()}


def evaluate(net: MMNet, episodes: int, seed: int) -> np.ndarray:
    """Greedy returns over ``episodes`` seeded episodes (seeds seed, seed+1, ...)."""
    env = make_env()
    try:
        return np.array([run_episode(net, env, seed + e)[0] for e in range(episodes)])
    finally:
        env.close()


def collect_bottleneck_data(gru: GRUNet, *, episodes: int, epsilon: float, seed: int) -> dict:
    """Observation features (n, 8) and hidden states (n, 32) from epsilon-greedy rollouts."""
    rng = np.random.default_rng(seed)
    env = make_env()
    feats, hidden = [], []
    for e in range(episodes):
        _, rec = run_episode(MMNet(gru), env, seed + e, epsilon=epsilon, rng=rng, record=True)
        feats.append(rec["features"])
        hidden.append(rec["hidden"])
    env.close()
    return {"features": np.concatenate(feats), "hidden": np.concatenate(hidden)}
