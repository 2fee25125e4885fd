"""Differential-IG rows: seconds per differential IG pair on the config's episode, Moore
machine extraction seconds per 1,000 environment steps, and extraction cost against the
number of episodes; on the workflow's MMN (``<results>/diffig/models/mmn.pt``)."""

import contextlib
import dataclasses
import functools
from pathlib import Path

from gymnasium.wrappers import TransformAction

from xai_repro.bench.report import make_curve, make_row, seconds_per_item, timed
from xai_repro.diffig.diff_ig import differential_ig
from xai_repro.diffig.io import load_mmn
from xai_repro.diffig.moore_machine import extract_moore_machine
from xai_repro.diffig.rollouts import CARTPOLE, run_episode


def diff_ig_row(mmn, cfg: dict, repeats: int) -> dict:
    dig = cfg["diff_ig"]
    with contextlib.closing(CARTPOLE.make_env()) as env:
        obs = run_episode(mmn, env, dig["episode_seed"], record=True)[1]["obs"]
    kw, n = dict(m=dig["m"], rule=dig["rule"]), len(obs)
    pairs = [(i, j) for i, j in dig["pairs"] if i < n and j < n] or [(n - 1, 0)]
    differential_ig(mmn, obs, *pairs[0], **kw)  # warm-up
    seconds = seconds_per_item(
        lambda p: differential_ig(mmn, obs, *p, **kw), pairs, max(repeats, 3)
    )
    return make_row(
        "diffig.seconds_per_pair",
        f"differential IG, s per pair (m={dig['m']}, rule {dig['rule']})",
        "s/pair",
        (f"{len(pairs)} pair(s), episode of {n} steps", seconds),
    )


def machine_rows(mmn, cfg: dict, repeats: int, quick: bool):
    taken = []  # each env step's action; greedy rollouts from fixed seeds repeat exactly

    def make_env():  # CartPole, recording the action of every step
        return TransformAction(CARTPOLE.make_env(), lambda a: taken.append(a) or a, None)

    task = dataclasses.replace(CARTPOLE, make_env=make_env)
    points, steps, settings = {}, {}, dict(seed=cfg["seed"], task=task)
    for episodes in [1, 2, 4] if quick else [1, 2, 4, 8]:
        taken.clear()
        run = functools.partial(extract_moore_machine, mmn, episodes=episodes, **settings)
        points[episodes], steps[episodes] = timed(run, repeats), len(taken) // repeats
    per_1000 = [1000 * s / steps[e] for e, seconds in points.items() for s in seconds]
    row = make_row(
        "diffig.moore_machine_per_1000_steps",
        "Moore machine extraction, s per 1,000 env steps",
        "s/1000 steps",
        ("extract_moore_machine (all curve runs)", per_1000),
        notes="steps per run: " + ", ".join(f"{e} ep: {s}" for e, s in steps.items()),
    )
    note, what = "env steps: " + ", ".join(map(str, steps.values())), "Moore machine extraction"
    return row, make_curve("diffig.moore_machine", what, "episodes", points, note=note)


def measure(cfg: dict, results, repeats: int, quick: bool):
    """The differential-IG group's rows and curve."""
    mmn = load_mmn(Path(results) / "diffig/models/mmn.pt")
    row, curve = machine_rows(mmn, cfg, repeats, quick)
    return {"rows": [diff_ig_row(mmn, cfg, repeats), row], "curves": [curve]}
