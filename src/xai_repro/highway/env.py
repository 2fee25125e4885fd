"""highway-env's intersection-v0 with rl-agents' observation, greedy policies and episodes."""

import torch

VEHICLE_ORDERS = ("sorted", "shuffled")


def make_env(render=False, order="sorted", fast=True):
    """intersection-v0 with rl-agents' observation (15 vehicles x 7 features).

    ``order``: highway-env's order of the other vehicles' rows, "sorted" by distance
    (highway-env's default) or "shuffled" (rl-agents' IntersectionEnv env.json).
    ``fast``: install the exact fast paths (``fast_sim``, ``fast_numpy``: bit-identical
    trajectories, tests/highway/test_fast_sim.py); False removes them. Either way the change is
    process-wide (they patch highway-env), so it applies to every env of the process.
    """
    import gymnasium as gym
    import highway_env  # noqa: F401  (registers the envs)
    from highway_env.envs.intersection_env import IntersectionEnv

    from xai_repro.highway import fast_numpy, fast_sim

    for patch in (fast_sim, fast_numpy):
        if fast:
            patch.install()
        else:
            patch.uninstall()

    if order not in VEHICLE_ORDERS:
        raise ValueError(f"vehicle order {order!r} not in {VEHICLE_ORDERS}")
    observation = dict(IntersectionEnv.default_config()["observation"], order=order)
    return gym.make(
        "intersection-v0",
        render_mode="rgb_array" if render else None,
        config={"observation": observation},
    )


def greedy_policy(net):
    def act(obs):
        with torch.no_grad():
            return int(net(torch.as_tensor(obs, dtype=torch.float32)[None]).argmax(1).item())

    return act


def run_episode(env, policy, seed):
    """One seeded episode: return, crashed, arrived, length."""
    obs, _ = env.reset(seed=seed)
    total, done, steps, info = 0.0, False, 0, {}
    while not done:
        obs, reward, terminated, truncated, info = env.step(policy(obs))
        total += float(reward)
        steps += 1
        done = terminated or truncated
    arrived = bool(info.get("rewards", {}).get("arrived_reward", 0.0) > 0)
    return {
        "return": total,
        "crashed": bool(info.get("crashed", False)),
        "arrived": arrived,
        "length": steps,
    }
