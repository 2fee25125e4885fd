"""Agents trained with rl-agents: their architecture, their environment, and evaluation
statistics that tell a trained agent from an untrained one.

An rl-agents run leaves a checkpoint (``{'state_dict', 'optimizer'}``), the agent config that
built the network (JSON, possibly over a ``base_config``) and the environment config
(``env.json``). The checkpoint alone cannot be loaded (see ``network.load_network``); the
architecture comes from the agent config, the observation from the environment config.
"""

import json
import os

import numpy as np

from xai_repro.common import InputError
from xai_repro.common.stats import Z95, wilson_interval
from xai_repro.highway.network import FEATURES, N_VEHICLES

ENV_ID = "intersection-v0"


def _read_json(path):
    try:
        with open(path) as fh:
            return json.load(fh)
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a readable JSON file ({exc})") from exc


def _merge(base, over):
    out = dict(base)
    for key, value in over.items():
        out[key] = (
            _merge(out[key], value)
            if isinstance(value, dict) and isinstance(out.get(key), dict)
            else value
        )
    return out


def read_agent_config(path):
    """An rl-agents agent config with its ``base_config`` chain merged in (rl-agents'
    ``Configurable.rec_update``). A base is looked up by its file name beside ``path``."""
    cfg = _read_json(path)
    base = cfg.pop("base_config", None)
    if base is None:
        return cfg
    base_path = os.path.join(os.path.dirname(os.fspath(path)), os.path.basename(base))
    if not os.path.exists(base_path):
        raise InputError(f"{path}: its base_config {base!r} is not beside it ({base_path})")
    return _merge(read_agent_config(base_path), cfg)


def rl_agents_architecture(agent_config_path):
    """{embedding, heads, output_layers} of an rl-agents EgoAttentionNetwork agent config;
    InputError for a model this workflow's network does not implement."""
    path = agent_config_path
    model = read_agent_config(path).get("model")
    if not isinstance(model, dict) or model.get("type") != "EgoAttentionNetwork":
        raise InputError(f"{path}: model type is not EgoAttentionNetwork")
    try:
        ego, others = model["embedding_layer"], model["others_embedding_layer"]
        attention, output = model["attention_layer"], model["output_layer"]
    except KeyError as exc:
        raise InputError(f"{path}: model has no {exc}") from exc
    if model.get("self_attention_layer") is not None:
        raise InputError(f"{path}: a self_attention_layer is not implemented here")
    if ego.get("layers") != others.get("layers"):
        raise InputError(f"{path}: ego and others embeddings of different sizes")
    if ego.get("in", len(FEATURES)) != len(FEATURES):
        raise InputError(f"{path}: embedding input {ego.get('in')} != {len(FEATURES)} features")
    if attention.get("feature_size", 64) != ego["layers"][-1]:
        raise InputError(f"{path}: attention feature_size != embedding output size")
    return {
        "embedding": list(ego["layers"]),
        "heads": int(attention.get("heads", 4)),
        "output_layers": list(output.get("layers", [64, 64])),
    }


def observation_config(overrides):
    """intersection-v0's default observation config with ``overrides`` (a dict, e.g. the
    ``observation`` of an rl-agents env.json). Keys the default lacks, and a vehicle count or
    feature list other than the network's input, are refused."""
    from highway_env.envs.intersection_env import IntersectionEnv

    default = IntersectionEnv.default_config()["observation"]
    extra = sorted(set(overrides) - set(default) - {"order"})
    if extra:
        raise InputError(f"observation: keys {extra} are not intersection-v0 observation keys")
    obs = dict(default, **overrides)
    if obs["type"] != "Kinematics" or obs["vehicles_count"] != N_VEHICLES:
        raise InputError(f"observation: the network reads Kinematics of {N_VEHICLES} vehicles")
    if list(obs["features"]) != FEATURES:
        raise InputError(f"observation: features {obs['features']} != {FEATURES}")
    return obs


def read_env_config(path):
    """The observation config of an rl-agents env.json for intersection-v0 (see
    observation_config); another environment id or destination is refused."""
    cfg = _read_json(path)
    if cfg.get("id") != ENV_ID:
        raise InputError(f"{path}: environment {cfg.get('id')!r} is not {ENV_ID}")
    extra = sorted(set(cfg) - {"id", "import_module", "observation", "destination"})
    if extra:
        raise InputError(f"{path}: environment keys {extra} are not supported")
    from highway_env.envs.intersection_env import IntersectionEnv

    if cfg.get("destination", "o1") != IntersectionEnv.default_config()["destination"]:
        raise InputError(f"{path}: destination {cfg['destination']!r} is not the default")
    try:
        return observation_config(cfg.get("observation", {}))
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from exc


def configure_observation(env, observation):
    """Give ``env`` (from make_env) this observation config; it takes effect at the next
    reset, where highway-env rebuilds its observation type."""
    env.unwrapped.configure({"observation": dict(observation)})
    return env


def bootstrap_mean_interval(values, rng, resamples=10_000, level=0.95):
    """Percentile bootstrap interval [lo, hi] of the mean of ``values``."""
    values = np.asarray(values, dtype=float)
    idx = rng.integers(0, len(values), size=(resamples, len(values)))
    means = values[idx].mean(axis=1)
    tail = (1 - level) / 2 * 100
    return [float(np.percentile(means, tail)), float(np.percentile(means, 100 - tail))]


def episode_statistics(episodes, rng):
    """Return (mean, std, bootstrap 95 % interval), crash and arrival rates (Wilson 95 %) of
    run_episode records."""
    returns = np.array([e["return"] for e in episodes], dtype=float)
    n = len(episodes)
    crashes = sum(bool(e["crashed"]) for e in episodes)
    arrivals = sum(bool(e["arrived"]) for e in episodes)
    return {
        "episodes": n,
        "mean_return": float(returns.mean()),
        "std_return": float(returns.std()),
        "return_ci95": bootstrap_mean_interval(returns, rng),
        "crash_rate": crashes / n,
        "crash_rate_ci95": wilson_interval(crashes, n),
        "arrival_rate": arrivals / n,
        "arrival_rate_ci95": wilson_interval(arrivals, n),
        "returns": returns.tolist(),
    }


def rate_difference_interval(k1, n1, k2, n2, z=Z95):
    """Newcombe's hybrid score interval [lo, hi] of p1 - p2 (his method 10), from the two
    Wilson intervals."""
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson_interval(k1, n1, z)
    l2, u2 = wilson_interval(k2, n2, z)
    d = p1 - p2
    return [
        float(d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)),
        float(d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)),
    ]


def separation(first, second, rng, resamples=10_000):
    """first - second of crash rate, arrival rate and mean return, each with a 95 % interval
    (Newcombe for the rates; for the return a bootstrap over the shared episode seeds, the
    two policies' episodes resampled together)."""
    a = np.array([e["return"] for e in first], dtype=float)
    b = np.array([e["return"] for e in second], dtype=float)
    if len(a) != len(b):
        raise ValueError("separation: both policies need the same episode seeds")
    idx = rng.integers(0, len(a), size=(resamples, len(a)))
    diffs = a[idx].mean(axis=1) - b[idx].mean(axis=1)
    out = {
        "return": {
            "difference": float(a.mean() - b.mean()),
            "ci95": [float(np.percentile(diffs, 2.5)), float(np.percentile(diffs, 97.5))],
        }
    }
    for key, field in (("crash_rate", "crashed"), ("arrival_rate", "arrived")):
        k1, k2 = sum(bool(e[field]) for e in first), sum(bool(e[field]) for e in second)
        out[key] = {
            "difference": k1 / len(first) - k2 / len(second),
            "ci95": rate_difference_interval(k1, len(first), k2, len(second)),
        }
    return out
