"""Greedy episodes of a Q-network: one seeded, rendered episode with what the figures read
(states, actions, rewards, Q-values, attention matrices, every nn.Linear's activations by
forward hooks, rgb frames with SDL_VIDEODRIVER=offscreen), and the states of many seeded
episodes, pooled, that every analysis reads."""

import logging
import os
import time

import numpy as np
import torch
from torch import nn

from xai_repro.highway.env import make_env
from xai_repro.highway.pretrained import observation_config

log = logging.getLogger(__name__)


def record_linear_activations(net):
    """Attach forward hooks to every nn.Linear; returns (store, handles)."""
    store = {}

    def hook(name):
        def fn(_module, _inp, out):
            store[name] = out.detach().reshape(out.shape[0], -1).numpy().copy()

        return fn

    handles = [
        m.register_forward_hook(hook(n)) for n, m in net.named_modules() if isinstance(m, nn.Linear)
    ]
    return store, handles


def frame_is_blank(frame):
    """True when a frame carries no picture (constant colour, e.g. SDL 'dummy' black frames)."""
    return float(np.asarray(frame, dtype=float).std()) < 1.0


def rollout(net, seed, max_steps=1000, order="sorted", observation=None):
    """One rendered greedy episode (``observation``: keys over the default observation
    config, make_env)."""
    if os.environ.get("SDL_VIDEODRIVER") in (None, "dummy"):
        os.environ["SDL_VIDEODRIVER"] = "offscreen"
    env = make_env(render=True, order=order, observation=observation)
    store, handles = record_linear_activations(net)
    obs, _ = env.reset(seed=int(seed))
    rec = {"obs": [], "actions": [], "rewards": [], "q": [], "attention": [], "frames": []}
    acts = {}
    done, info, steps = False, {}, 0
    while not done and steps < max_steps:
        rec["frames"].append(env.render())
        x = torch.as_tensor(np.asarray(obs, dtype=np.float32))[None]
        with torch.no_grad():
            q = net(x)
            att = net.get_attention_matrix(x)  # (1, heads, 1, entities)
        for name, value in store.items():
            acts.setdefault(name, []).append(value[0])
        action = int(q.argmax(1).item())
        rec["obs"].append(x[0].numpy())
        rec["q"].append(q[0].numpy())
        rec["attention"].append(att[0, :, 0, :].numpy())
        rec["actions"].append(action)
        obs, reward, term, trunc, info = env.step(action)
        rec["rewards"].append(float(reward))
        done, steps = term or trunc, steps + 1
    for h in handles:
        h.remove()
    env.close()
    out = {k: np.asarray(v) for k, v in rec.items()}
    out.update({f"act__{k}": np.asarray(v) for k, v in acts.items()})
    out["crashed"] = np.array(bool(info.get("crashed", False)))
    if frame_is_blank(out["frames"][0]):
        raise RuntimeError(
            "rendered frames are blank: check SDL_VIDEODRIVER (must be offscreen, not dummy)"
        )
    return out


def collect_states(net, seeds, observation=None, log_every=10):
    """Greedy episodes of ``net``, one per seed, in intersection-v0 with ``observation`` (keys
    over the default observation config, ``order`` included). Returns arrays: per state
    ``obs`` (S, entities, features), ``episode`` (S,: index into the seeds), ``actions``,
    ``q`` (S, actions); per episode ``episode_seeds``, ``episode_returns``,
    ``episode_crashed``, ``episode_arrived``, ``episode_lengths``."""
    env = make_env(observation=observation_config(observation or {}))
    rec = {k: [] for k in ("obs", "episode", "actions", "q")}
    eps = {f"episode_{k}": [] for k in ("seeds", "returns", "crashed", "arrived", "lengths")}
    t0 = time.perf_counter()
    try:
        for i, seed in enumerate(seeds):
            obs, _ = env.reset(seed=int(seed))
            done, info, total, steps = False, {}, 0.0, 0
            while not done:
                x = torch.as_tensor(np.asarray(obs, dtype=np.float32))[None]
                with torch.no_grad():
                    q = net(x)[0]
                action = int(q.argmax())
                rec["obs"].append(x[0].numpy())
                rec["episode"].append(i)
                rec["actions"].append(action)
                rec["q"].append(q.numpy())
                obs, reward, term, trunc, info = env.step(action)
                total, steps, done = total + float(reward), steps + 1, term or trunc
            eps["episode_seeds"].append(int(seed))
            eps["episode_returns"].append(total)
            eps["episode_crashed"].append(bool(info.get("crashed", False)))
            eps["episode_arrived"].append(info.get("rewards", {}).get("arrived_reward", 0) > 0)
            eps["episode_lengths"].append(steps)
            if (i + 1) % log_every == 0:
                log.info("%d/%d episodes, %.1f s", i + 1, len(seeds), time.perf_counter() - t0)
    finally:
        env.close()
    return {k: np.asarray(v) for k, v in {**rec, **eps}.items()}
