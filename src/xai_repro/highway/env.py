"""highway-env's intersection-v0 with rl-agents' observation, greedy policies and episodes."""

import logging

import torch

VEHICLE_ORDERS = ("sorted", "shuffled")
log = logging.getLogger(__name__)


def set_fast_path(fast):
    """Install (``fast=True``) or remove highway-env's exact fast path, and log which.

    The fast path (``fast_sim``: four patched functions; ``fast_numpy``: a scalar ``np.clip``)
    monkeypatches highway-env for the whole process, so every env of the process gets it; it
    gives bit-identical trajectories on every CPU (docs/highway.md, "Simulator speed"). It
    installs only on the highway-env release it was written for. Returns whether it is on.
    """
    from xai_repro.highway import fast_numpy, fast_sim

    if not fast:
        if fast_sim.installed() or fast_numpy.installed():
            log.info("highway-env fast path removed: released highway-env functions")
        fast_sim.uninstall()
        fast_numpy.uninstall()
        return False
    if fast_sim.installed() and fast_numpy.installed():
        return True
    if not fast_sim.install():  # logs why
        fast_numpy.uninstall()
        return False
    fast_numpy.install()
    patched = ", ".join([*fast_sim.PATCHED, "np.clip of the vehicle models"])
    log.info("highway-env fast path installed (monkeypatches %s)", patched)
    return True


def make_env(render=False, order="sorted", fast=None, observation=None):
    """intersection-v0 with rl-agents' observation (15 vehicles x 7 features).

    ``order``: highway-env's order of the other vehicles' rows, "sorted" by distance
    (highway-env's default) or "shuffled" (rl-agents' IntersectionEnv env.json).
    ``observation``: further keys of the observation config (e.g. ``absolute``,
    ``observe_intentions``, ``vehicles_count`` of an rl-agents env.json), over the defaults.
    ``fast``: ``set_fast_path(fast)`` first (process-wide, logged); None leaves the process's
    setting as it is (a job sets it once from the config's ``highway.env.fast``).
    """
    import gymnasium as gym
    import highway_env  # noqa: F401  (registers the envs)
    from highway_env.envs.intersection_env import IntersectionEnv

    if fast is not None:
        set_fast_path(fast)
    config = dict(IntersectionEnv.default_config()["observation"], order=order)
    config.update(observation or {})
    if config["order"] not in VEHICLE_ORDERS:
        raise ValueError(f"vehicle order {config['order']!r} not in {VEHICLE_ORDERS}")
    return gym.make(
        "intersection-v0",
        render_mode="rgb_array" if render else None,
        config={"observation": config},
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
