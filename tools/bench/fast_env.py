"""highway-env step cost with and without the exact fast paths, side by side in one process.

Variants: highway-env as released, ``fast_sim`` only, ``fast_sim`` + ``fast_numpy`` (what
``make_env`` installs). Each repeat runs the same seeded episodes with the same random actions
in every variant (order rotated per repeat) and times CPU seconds per env step.

    python tools/bench/fast_env.py --episodes 20 --repeats 5
"""

import argparse
import os
import statistics
import time

import numpy as np

os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")

from xai_repro.common import limit_threads  # noqa: E402
from xai_repro.highway import fast_numpy, fast_sim  # noqa: E402

VARIANTS = ("released", "fast_sim", "fast_sim+fast_numpy")


def set_variant(name):
    fast_sim.uninstall()
    fast_numpy.uninstall()
    if name != "released":
        assert fast_sim.install()
    if name == "fast_sim+fast_numpy":
        assert fast_numpy.install()


def cpu_per_step(episodes, seed):
    import gymnasium as gym
    from highway_env.envs.intersection_env import IntersectionEnv

    # make_env's env, built directly: make_env itself would install both fast paths
    observation = dict(IntersectionEnv.default_config()["observation"], order="sorted")
    env = gym.make("intersection-v0", config={"observation": observation})
    rng, steps = np.random.default_rng(seed), 0
    start = time.process_time()
    for episode in range(episodes):
        env.reset(seed=seed + episode)
        done = False
        while not done:
            _, _, terminated, truncated, _ = env.step(int(rng.integers(3)))
            steps += 1
            done = terminated or truncated
    env.close()
    return (time.process_time() - start) / steps


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--episodes", type=int, default=20)
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    limit_threads(1)
    times = {v: [] for v in VARIANTS}
    for r in range(args.repeats):
        for v in VARIANTS[r % 3 :] + VARIANTS[: r % 3]:
            set_variant(v)
            times[v].append(cpu_per_step(args.episodes, seed=100 + r))
    set_variant("fast_sim+fast_numpy")
    base = times["released"]
    for v in VARIANTS:
        ratios = [b / t for b, t in zip(base, times[v], strict=True)]
        ms = [1e3 * t for t in times[v]]
        print(
            f"{v:22s} ms/step min {min(ms):.2f} median {statistics.median(ms):.2f} "
            f"max {max(ms):.2f}; speed-up vs released (same repeat) median "
            f"{statistics.median(ratios):.2f}x [{min(ratios):.2f}, {max(ratios):.2f}]"
        )


if __name__ == "__main__":
    main()
