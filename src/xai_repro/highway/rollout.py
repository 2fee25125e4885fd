"""One seeded, rendered greedy episode of a Q-network, with what the analyses read: states,
actions, rewards, Q-values, attention matrices, every nn.Linear's activations (forward hooks)
and rgb frames (SDL_VIDEODRIVER=offscreen)."""

import os

import numpy as np
import torch
from torch import nn

from xai_repro.highway.env import make_env


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


def rollout(net, seed, max_steps=1000, order="sorted"):
    if os.environ.get("SDL_VIDEODRIVER") in (None, "dummy"):
        os.environ["SDL_VIDEODRIVER"] = "offscreen"
    env = make_env(render=True, order=order)
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
