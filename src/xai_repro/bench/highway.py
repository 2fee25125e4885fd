"""Highway rows: DQN training env steps/s with n subprocess envs against 1 env, env step cost
with and without the exact fast paths, integrated gradients seconds per state on the
workflow's trained network (``<results>/highway/models/trained.pt``)."""

import contextlib
import functools
import time
from pathlib import Path

import numpy as np

from xai_repro.bench.report import interleaved, make_curve, make_row, seconds_per_item
from xai_repro.highway.attribution import integrated_gradients
from xai_repro.highway.env import make_env
from xai_repro.highway.network import load_network
from xai_repro.highway.training import training_steps_per_s


def training_rows(cfg: dict, repeats: int, quick: bool):
    """Env steps/s of DQN training (updates included) with n subprocess envs against 1 env,
    alternating so that both see the same load."""
    steps = 60 if quick else cfg["benchmark"]["steps"]
    n_envs, order = cfg["benchmark"]["n_envs"], cfg.get("env", {}).get("order", "sorted")
    # gradient updates must happen inside the timed window
    dqn = dict(cfg["dqn"], learning_starts=min(cfg["dqn"]["learning_starts"], steps // 5))
    env_fn, kw = functools.partial(make_env, order=order), dict(net=cfg["network"], dqn=dqn)
    rates = {n: [] for n in (1, n_envs)}
    for _ in range(repeats):
        for n, got in rates.items():
            got.append(training_steps_per_s(env_fn, n, steps=steps, seed=cfg["seed"], **kw))
    row = make_row(
        "highway.env_steps_per_s",
        f"DQN training env steps/s ({steps} steps with updates)",
        "env steps/s",
        (f"{n_envs} subprocess envs", rates[n_envs]),
        ("1 env", rates[1]),
        notes="ratio = subprocess over single env",
    )
    points, what = {n: [100 / r for r in v] for n, v in rates.items()}, "s per 100 env steps"
    return row, make_curve("highway.n_envs", f"highway training, {what}", "n_envs", points)


def env_step_row(cfg: dict, repeats: int, quick: bool) -> dict:
    """CPU ms per env step: highway-env as released (``make_env(fast=False)``) against the
    exact fast paths ``make_env`` installs, on the same seeded episodes and random actions
    (the trajectories are bit-identical)."""
    episodes, order, steps = 3 if quick else 10, cfg.get("env", {}).get("order", "sorted"), {}

    def run(fast: bool):
        env, rng, steps[fast] = make_env(order=order, fast=fast), np.random.default_rng(100), 0
        for episode in range(episodes):
            env.reset(seed=100 + episode)
            done = False
            while not done:
                _, _, terminated, truncated, _ = env.step(int(rng.integers(3)))
                steps[fast], done = steps[fast] + 1, terminated or truncated
        env.close()

    runs = {fast: functools.partial(run, fast) for fast in (True, False)}
    cpu = interleaved(runs, repeats, clock=time.process_time)
    ms = {fast: [1e3 * s / steps[fast] for s in seconds] for fast, seconds in cpu.items()}
    make_env(fast=True).close()  # the fast paths back for the rows that follow
    return make_row(
        "highway.env_step_ms",
        f"highway-env CPU ms per env step ({episodes} seeded episodes, random actions)",
        "ms/step",
        ("fast_sim + fast_numpy (make_env)", ms[True]),
        ("highway-env as released", ms[False]),
        higher_is_better=False,
    )


def ig_row(cfg: dict, results, repeats: int, quick: bool) -> dict:
    import torch

    net = load_network(Path(results) / "highway/models/trained.pt")
    with contextlib.closing(make_env(order=cfg.get("env", {}).get("order", "sorted"))) as env:
        states = np.stack([env.reset(seed=s)[0] for s in range(4 if quick else 10)])
    x = list(torch.as_tensor(states, dtype=torch.float32)[:, None])
    steps = cfg["analysis"]["ig_steps"]
    integrated_gradients(net, x[0], 0, n_steps=steps)  # captum import, warm-up
    seconds = seconds_per_item(
        lambda xi: integrated_gradients(net, xi, int(net(xi).argmax()), n_steps=steps),
        x,
        max(repeats, 3),
    )
    return make_row(
        "highway.ig_seconds_per_state",
        f"integrated gradients, s per state ({steps} steps)",
        "s/state",
        (f"captum IG, {len(x)} states", seconds),
    )


def measure(cfg: dict, results, repeats: int, quick: bool):
    """The highway group's rows and curve."""
    row, curve = training_rows(cfg, repeats, quick)
    rows = [row, env_step_row(cfg, repeats, quick), ig_row(cfg, results, repeats, quick)]
    return {"rows": rows, "curves": [curve]}
