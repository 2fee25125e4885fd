"""Exact scalar ``np.clip`` for highway-env's vehicle models, a patch of highway-env 1.12.1.

This module monkeypatches highway-env. The vehicles' controllers clip Python floats with
``np.clip`` (steering, heading, IDM acceleration: seven calls per vehicle and simulation
step), and on a scalar each call costs microseconds of numpy dispatch. ``install()`` gives the
modules ``highway_env.vehicle.controller``, ``.behavior`` and ``.objects`` a copy of the numpy
namespace whose ``clip`` takes a scalar path for exactly those argument types and calls numpy
for anything else; ``uninstall()`` gives the modules numpy back. Nothing else changes.
``xai_repro.highway.env.make_env(fast=...)`` is the one caller and logs what it did; like
``fast_sim`` it installs only on highway-env ``fast_sim.HIGHWAY_ENV_VERSION``.

Exactness on every CPU: ``clip`` does no arithmetic. It reproduces numpy's float64 clip loop,
``min(max(x, lo), hi)`` with numpy's NaN rule and comparison order (``x > lo ? x : lo``, then
``m < hi ? m : hi``; so ``clip(-0.0, 0, 1)`` is +0.0, as in numpy, where Python's
``max(-0.0, 0)`` would keep -0.0), and returns ``np.float64`` as numpy does. (``np.linalg.norm``
is left to numpy: its 2-vector result depends on the BLAS kernel.) ``scalars_match()`` checks
the rule against numpy on random, signed-zero, infinite and NaN probes;
tests/highway/test_fast_sim.py compares seeded trajectories bit for bit.
"""

import importlib
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


def _namespace():
    """numpy's namespace with ``clip`` replaced."""
    fast = types.ModuleType("numpy")
    fast.__dict__.update(np.__dict__)
    fast.clip = clip
    return fast


_FAST = _namespace()


def scalars_match(samples=500, seed=0):
    """Whether clip equals numpy's, bit for bit and in type, on probes (a test of the
    comparison rules above: clip does no arithmetic, so the result holds on every CPU)."""
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
    return True


def installed():
    """Whether every module has the fast namespace."""
    return all(importlib.import_module(name).np is _FAST for name in MODULES)


def install():
    """Give highway-env's vehicle modules the fast namespace (idempotent)."""
    for name in MODULES:
        importlib.import_module(name).np = _FAST
    return True


def uninstall():
    """Give highway-env's vehicle modules numpy back."""
    for name in MODULES:
        importlib.import_module(name).np = np
