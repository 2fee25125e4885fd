"""Exact scalar fast paths for the numpy calls in highway-env's vehicle models (1.12).

The vehicles' controllers clip Python floats with ``np.clip`` (steering, heading, IDM
acceleration: seven calls per vehicle and simulation step) and the collision pre-check takes
``np.linalg.norm`` of 2-vectors; on scalars each call costs microseconds of numpy dispatch
(a py-spy profile of the training's env workers put them at ~15 % of their time, after
``fast_sim``). ``install()`` gives the modules ``highway_env.vehicle.controller``,
``.behavior`` and ``.objects`` a copy of the numpy namespace whose ``clip`` and
``linalg.norm`` take a scalar path for exactly those argument types and call numpy for
anything else; ``uninstall()`` gives the modules numpy back. Nothing else changes.

Exactness: ``clip`` reproduces numpy's float64 clip loop, ``min(max(x, lo), hi)`` with
numpy's NaN rule and comparison order (``x > lo ? x : lo``, then ``m < hi ? m : hi``; so
``clip(-0.0, 0, 1)`` is +0.0, as in numpy, where Python's ``max(-0.0, 0)`` would keep -0.0),
and returns ``np.float64`` as numpy does. ``norm`` of a float64 2-vector is
``sqrt((x0*x0 + x1*x1) + 0.0)`` (numpy computes ``sqrt(dot(x, x))``; ``fast_sim`` relies on
the same identity). ``install()`` first compares both with numpy on random,
signed-zero, infinite and NaN probes and patches nothing (returns False) if one differs.
tests/highway/test_fast_sim.py compares seeded trajectories bit for bit.
"""

import importlib
import math
import types

import numpy as np

MODULES = (
    "highway_env.vehicle.controller",
    "highway_env.vehicle.behavior",
    "highway_env.vehicle.objects",
)
_FLOATS = (float, np.float64)
_BOUNDS = (float, int, np.float64)


def clip(a, a_min, a_max, *args, **kwargs):
    """np.clip; a float scalar between scalar bounds takes numpy's float64 rule in Python."""
    if args or kwargs or type(a) not in _FLOATS:
        return np.clip(a, a_min, a_max, *args, **kwargs)
    if type(a_min) not in _BOUNDS or type(a_max) not in _BOUNDS:
        return np.clip(a, a_min, a_max, *args, **kwargs)
    x, lo, hi = float(a), float(a_min), float(a_max)
    m = x if (x != x or x > lo) else lo  # _NPY_MAX: NaN stays
    return np.float64(m if (m != m or m < hi) else hi)  # _NPY_MIN


def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002 (numpy's signature)
    """np.linalg.norm; a float64 2-vector with the default arguments takes sqrt(x.x)."""
    if (
        ord is None
        and axis is None
        and not keepdims
        and type(x) is np.ndarray
        and x.dtype == np.float64
        and x.shape == (2,)
    ):
        x0, x1 = x.tolist()
        return np.float64(math.sqrt((x0 * x0 + x1 * x1) + 0.0))
    return np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)


def _namespace():
    """numpy's namespace with ``clip`` and ``linalg.norm`` replaced."""
    linalg = types.ModuleType("numpy.linalg")
    linalg.__dict__.update(np.linalg.__dict__)
    linalg.norm = norm
    fast = types.ModuleType("numpy")
    fast.__dict__.update(np.__dict__)
    fast.clip, fast.linalg = clip, linalg
    return fast


_FAST = _namespace()


def scalars_match(samples=500, seed=0):
    """Whether clip and norm equal numpy's, bit for bit and in type, on probes."""
    rng = np.random.default_rng(seed)
    specials = [0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 0.5, -0.5]
    xs = [*rng.normal(scale=2.0, size=samples).tolist(), *specials]
    bounds = [(-1, 1), (-0.7853981633974483, 0.7853981633974483), (0, 0), (0.0, 1), (1, -1)]
    bounds += [(-np.inf, 0.0), (np.nan, 1.0), (-1.0, np.nan), (np.float64(-5.0), 5)]
    for x in xs:
        for value in (x, np.float64(x)):
            for lo, hi in bounds:
                want, got = np.clip(value, lo, hi), clip(value, lo, hi)
                if type(want) is not type(got) or want.tobytes() != got.tobytes():
                    return False
    vectors = rng.normal(scale=30.0, size=(samples, 2))
    vectors[:6] = [[0.0, -0.0], [-0.0, -0.0], [3.0, 4.0], [np.inf, 1.0], [np.nan, 0.0], [1e-200, 0]]
    for v in vectors:
        want, got = np.linalg.norm(v), norm(v)
        if type(want) is not type(got) or want.tobytes() != got.tobytes():
            return False
    return True


def install():
    """Give highway-env's vehicle modules the fast namespace (idempotent); False (nothing
    patched) if scalars_match() fails on this machine."""
    modules = [importlib.import_module(name) for name in MODULES]
    if all(module.np is _FAST for module in modules):
        return True
    if not scalars_match():
        return False
    for module in modules:
        module.np = _FAST
    return True


def uninstall():
    """Give highway-env's vehicle modules numpy back."""
    for name in MODULES:
        importlib.import_module(name).np = np
