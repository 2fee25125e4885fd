"""highway-env's exact fast path (fast_sim, fast_numpy) gives bit-identical results to the
released functions, on every CPU.

The released functions take 2-vector ``np.dot`` and ``np.linalg.norm`` from numpy, whose
result depends on the BLAS kernel: with fused multiply-add (``fma``) it differs in the last bit
from ``a0*b0 + a1*b1`` (``plain``). The ``blas`` fixture builds both kinds of machine
explicitly, whatever this host's numpy does, by giving highway-env's lane and regulation
modules a numpy whose ``dot`` and ``linalg.norm`` follow one rule; ``host`` leaves numpy as
it is. Released and fast path then see the same arithmetic, and must agree bit for bit.
"""

import logging
import math
import types
from fractions import Fraction

import numpy as np
import pytest
from highway_env.road import lane as lane_module
from highway_env.road import regulation as regulation_module
from highway_env.road.lane import CircularLane, SineLane, StraightLane
from highway_env.road.road import RoadNetwork

from xai_repro.highway import fast_numpy, fast_sim
from xai_repro.highway.env import make_env, set_fast_path

ORIGINAL_CLOSEST = fast_sim._ORIGINALS[RoadNetwork, "get_closest_lane_index"]
BLAS_KINDS = ("host", "plain", "fma")


def _plain_dot(a, b):
    """A 2-vector dot without fused multiply-add: round(round(a0*b0) + round(a1*b1))."""
    (a0, a1), (b0, b1) = np.asarray(a, float).tolist(), np.asarray(b, float).tolist()
    return np.float64(a0 * b0 + a1 * b1)


def _fma_dot(a, b):
    """A 2-vector dot with one fused multiply-add: round(a1*b1 + round(a0*b0)), exactly."""
    (a0, a1), (b0, b1) = np.asarray(a, float).tolist(), np.asarray(b, float).tolist()
    if not all(map(math.isfinite, (a0, a1, b0, b1, a0 * b0))):
        return np.float64(a0 * b0 + a1 * b1)
    return np.float64(float(Fraction(a1) * Fraction(b1) + Fraction(a0 * b0)))


def _numpy_with(dot):
    """numpy's namespace whose dot and linalg.norm (sqrt(x.x)) of 2-vectors use ``dot``."""

    def dot2(a, b, *args):
        if args or np.shape(a) != (2,) or np.shape(b) != (2,):
            return np.dot(a, b, *args)
        return dot(a, b)

    def norm(x, *args, **kwargs):
        if args or kwargs or np.shape(x) != (2,):
            return np.linalg.norm(x, *args, **kwargs)
        return np.sqrt(dot(x, x))

    linalg = types.ModuleType("numpy.linalg")
    linalg.__dict__.update(np.linalg.__dict__, norm=norm)
    namespace = types.ModuleType("numpy")
    namespace.__dict__.update(np.__dict__, dot=dot2, linalg=linalg)
    return namespace


@pytest.fixture(params=BLAS_KINDS)
def blas(request, monkeypatch):
    """The BLAS kind the released lane and regulation code computes with."""
    if request.param != "host":
        dot = {"plain": _plain_dot, "fma": _fma_dot}[request.param]
        for module in (lane_module, regulation_module):
            monkeypatch.setattr(module, "np", _numpy_with(dot))
    return request.param


def test_the_constructed_kinds_differ():
    """plain and fma really are two machines: their dots differ in the last bit on ~1/4 of
    random pairs, so the tests below exercise both (the host is one of them or a third)."""
    rng = np.random.default_rng(0)
    a, b = rng.normal(scale=50.0, size=(2000, 2)), rng.normal(size=(2000, 2))
    plain = np.array([_plain_dot(x, y) for x, y in zip(a, b)])
    fused = np.array([_fma_dot(x, y) for x, y in zip(a, b)])
    differ = np.mean(plain != fused)
    assert 0.05 < differ < 0.6
    np.testing.assert_allclose(plain, fused, rtol=1e-12, atol=1e-12)


@pytest.fixture
def patched():
    assert set_fast_path(True)
    assert set_fast_path(True)  # idempotent
    yield
    set_fast_path(False)


def _bits(value):
    return np.asarray(value, dtype=np.float64).tobytes()


def _trajectory(episodes, order, seed, config=None, fast=True):
    """Every step's observation, reward, flags, info and all vehicles' states, as bytes."""
    env = make_env(order=order, fast=fast)
    if config:
        env.unwrapped.configure(config)
    rng, steps = np.random.default_rng(seed), []
    for episode in range(episodes):
        obs, info = env.reset(seed=seed + episode)
        info.pop("action")  # reset's info holds action_space.sample(): unseeded, differs per run
        steps.append((obs.dtype.str, obs.tobytes(), repr(sorted(info.items()))))
        done = False
        while not done:
            obs, reward, terminated, truncated, info = env.step(int(rng.integers(3)))
            vehicles = [
                (_bits(v.position), _bits(v.heading), _bits(v.speed), v.lane_index)
                for v in env.unwrapped.road.vehicles
            ]
            flags = (terminated, truncated, repr(sorted(info.items())))
            steps.append((obs.dtype.str, obs.tobytes(), _bits(reward), flags, vehicles))
            done = terminated or truncated
    env.close()
    return steps


def _compare(episodes, order, seed, config=None):
    """highway-env as released (make_env(fast=False) removes every patch) against the fast
    path, step by step."""
    original = _trajectory(episodes, order, seed, config, fast=False)
    try:
        fast = _trajectory(episodes, order, seed, config, fast=True)
    finally:
        set_fast_path(False)
    assert len(fast) == len(original) > episodes
    for step, (a, b) in enumerate(zip(original, fast, strict=True)):
        assert a == b, f"step {step} differs"


def test_make_env_installs_and_removes_both_fast_paths(caplog):
    from highway_env.vehicle import behavior, controller, objects

    make_env(fast=False).close()
    assert RoadNetwork.get_closest_lane_index is ORIGINAL_CLOSEST
    assert all(module.np is np for module in (behavior, controller, objects))
    with caplog.at_level(logging.INFO, logger="xai_repro.highway.env"):
        make_env(fast=True).close()
    assert (
        "fast path installed" in caplog.text and "RoadNetwork.get_closest_lane_index" in caplog.text
    )
    assert fast_sim.installed() and RoadNetwork.get_closest_lane_index is not ORIGINAL_CLOSEST
    assert all(module.np is fast_numpy._FAST for module in (behavior, controller, objects))
    assert controller.np.clip is fast_numpy.clip and objects.np.linalg is np.linalg
    make_env(fast=False).close()
    assert not fast_sim.installed() and not fast_numpy.installed()


def test_another_highway_env_release_gets_no_patch(caplog):
    fast_sim.uninstall()
    with caplog.at_level(logging.WARNING, logger="xai_repro.highway.fast_sim"):
        assert not fast_sim.install(version="1.13.0")
    assert not fast_sim.installed() and RoadNetwork.get_closest_lane_index is ORIGINAL_CLOSEST
    assert "written for highway-env 1.12.1, found 1.13.0" in caplog.text


def test_fast_numpy_clip_equals_numpy():
    assert fast_numpy.scalars_match(samples=2000, seed=1)
    # signed zero: numpy's clip gives +0.0 where Python's max(-0.0, 0) would keep -0.0
    assert fast_numpy.clip(-0.0, 0, 1).tobytes() == np.clip(-0.0, 0, 1).tobytes()
    assert np.isnan(fast_numpy.clip(float("nan"), -1, 1))
    # anything but a float scalar between scalar bounds is numpy's own call
    array = np.array([-2.0, 0.5, 3.0])
    assert fast_numpy.clip(array, -1, 1).tolist() == [-1.0, 0.5, 1.0]
    assert type(fast_numpy.clip(5, 0, 3)) is type(np.clip(5, 0, 3))  # int stays int


def test_a_one_ulp_change_is_caught(monkeypatch):
    """The comparison can fail: a clip one ulp nearer zero changes the vehicles' states."""

    def planted(a, a_min, a_max, *args, **kwargs):
        value = fast_numpy.clip(a, a_min, a_max, *args, **kwargs)
        return np.nextafter(value, 0.0) if type(value) is np.float64 else value

    monkeypatch.setattr(fast_numpy._FAST, "clip", planted)
    with pytest.raises(AssertionError, match="differs"):
        _compare(episodes=1, order="sorted", seed=7)


def _near_tie():
    """A network of two lanes whose released distances tie exactly on an fma machine while
    the vectorised (plain) formula puts the first lane an ulp behind: (network, position,
    heading). Lane A is oblique (its dot products round differently with fma), lane B
    horizontal (exact under every rule), placed so that B's distance equals A's."""
    rng = np.random.default_rng(0)
    for _ in range(5000):
        theta = float(rng.uniform(0.1, 1.4))
        direction = np.array([math.cos(theta), math.sin(theta)])
        start = rng.uniform(-50, 50, 2)
        a = StraightLane(start, start + 100 * direction)
        position = start + rng.uniform(10, 90) * direction + rng.uniform(1, 4) * a.direction_lateral
        heading = float(a.heading)
        exact = a.distance_with_heading(position, heading)
        network = RoadNetwork()
        network.add_lane("a", "b", a)
        approx = fast_sim.lane_distances(network, position, heading)[1][0]
        if not approx > exact:
            continue
        x, y = position.tolist()
        y_b = y - (exact - abs(fast_sim._wrap(heading)))
        for _ in range(8):
            b = StraightLane([x - 50, y_b], [x + 50, y_b])
            tie = b.distance_with_heading(position, heading)
            if tie == exact:
                network.add_lane("a", "b", b)
                return network, position, heading
            y_b = np.nextafter(y_b, -np.inf if tie < exact else np.inf)
    raise AssertionError("no near tie constructed")


def test_deciding_on_the_approximate_distance_is_caught(monkeypatch, patched):
    """The candidate check matters: on an fma machine, the vectorised argmin alone (no
    ranking by the released distance) picks the wrong one of two tied lanes; the fast path
    picks the released one."""
    for module in (lane_module, regulation_module):
        monkeypatch.setattr(module, "np", _numpy_with(_fma_dot))
    network, position, heading = _near_tie()
    indexes, dist = fast_sim.lane_distances(network, position, heading)
    assert ORIGINAL_CLOSEST(network, position, heading) == ("a", "b", 0)
    assert indexes[int(np.argmin(dist))] == ("a", "b", 1)  # the unverified choice
    assert network.get_closest_lane_index(position, heading) == ("a", "b", 0)


@pytest.mark.parametrize("order", ["sorted", "shuffled"])
def test_trajectories_identical(order, blas):
    _compare(episodes=4 if blas == "host" else 1, order=order, seed=7)


def test_relative_observation_with_intentions_identical():
    features = ["presence", "x", "y", "vx", "vy", "heading", "cos_d", "sin_d", "long_off"]
    observation = {"type": "Kinematics", "vehicles_count": 8, "features": features}
    observation.update(absolute=False, observe_intentions=True, order="shuffled")
    observation["features_range"] = {"x": [-50, 50], "y": [-50, 50], "heading": [-3, 3]}
    _compare(episodes=2, order="shuffled", seed=3, config={"observation": observation})


@pytest.mark.slow
@pytest.mark.parametrize("order", ["sorted", "shuffled"])
def test_many_trajectories_identical(order):
    _compare(episodes=12, order=order, seed=100)  # 200 per order checked once (docs)


def _probe_points(lane, rng, n):
    """Random points and headings near the lane, plus points exactly on its ends/centre line."""
    s = rng.uniform(-10, lane.length + 10, n)
    r = rng.uniform(-8, 8, n)
    points = [lane.position(a, b) for a, b in zip(s, r, strict=True)]
    points += [lane.position(0, 0), lane.position(lane.length, 0), lane.position(5.0, 0)]
    points += [np.round(p) for p in points[:20]] + [np.array([0.0, -0.0])]
    headings = rng.uniform(-7, 7, len(points))
    headings[: len(points) // 2] = [lane.heading_at(a) for a in s[: len(points) // 2]]
    return points, headings


def test_closest_lane_identical_and_distances_within_the_margin(patched, blas):
    env = make_env()
    env.reset(seed=5)
    network = env.unwrapped.road.network
    lanes = network.lanes_list()
    assert {type(lane).__name__ for lane in lanes} == {"StraightLane", "CircularLane"}
    rng = np.random.default_rng(0)
    checked = inexact = 0
    for lane in lanes:
        points, headings = _probe_points(lane, rng, 40 if blas == "fma" else 150)
        for position, heading in zip(points, headings, strict=True):
            heading = float(heading)
            _, dist = fast_sim.lane_distances(network, position, heading)
            expected = np.array([other.distance_with_heading(position, heading) for other in lanes])
            bound = fast_sim._margin(*position, heading, expected.min(), 2 * np.pi, 300)
            assert np.abs(dist - expected).max() <= bound / 1e4  # the margin's safety factor
            inexact += dist.tobytes() != expected.tobytes()
            assert network.get_closest_lane_index(position, heading) == ORIGINAL_CLOSEST(
                network, position, heading
            )
            checked += 1
    assert checked > 40 * len(lanes)
    if blas == "fma":  # the vectorised formulas are the plain ones: here they must differ
        assert inexact > 0
    env.close()


def test_other_lane_types_fall_back_to_the_original(patched):
    network = RoadNetwork()
    network.add_lane("a", "b", SineLane([0, 0], [80, 0], amplitude=2.0, pulsation=0.2, phase=0.0))
    network.add_lane("a", "b", StraightLane([0, 4], [80, 4]))
    network.add_lane("b", "c", CircularLane([80, 20], 20, -np.pi / 2, 0, clockwise=False))
    sine = network.lanes_list()[0]
    rng = np.random.default_rng(1)
    for _ in range(500):
        position, heading = rng.uniform([-10, -10], [110, 40]), float(rng.uniform(-4, 4))
        _, dist = fast_sim.lane_distances(network, position, heading)
        assert dist[0].tobytes() == _bits(sine.distance_with_heading(position, heading))
        want = ORIGINAL_CLOSEST(network, position, heading)
        assert network.get_closest_lane_index(position, heading) == want


def test_equidistant_lanes_keep_the_graph_order(patched):
    """Two identical lanes: the first in the graph's order wins, as in the original."""
    network = RoadNetwork()
    network.add_lane("a", "b", StraightLane([0, 0], [100, 0]))
    network.add_lane("c", "d", StraightLane([0, 0], [100, 0]))
    assert network.get_closest_lane_index(np.array([50.0, 1.0]), 0.0) == ("a", "b", 0)


def test_non_finite_inputs_use_the_original(patched):
    network = RoadNetwork()
    network.add_lane("a", "b", StraightLane([0, 0], [100, 0]))
    network.add_lane("a", "b", StraightLane([0, 8], [100, 8]))
    for position, heading in [(np.array([np.nan, 1.0]), 0.0), (np.array([5.0, 1.0]), np.inf)]:
        want = ORIGINAL_CLOSEST(network, position, heading)
        assert network.get_closest_lane_index(position, heading) == want


def test_lane_cache_dropped_by_add_lane(patched):
    network = RoadNetwork()
    network.add_lane("a", "b", StraightLane([0, 0], [100, 0]))
    position = np.array([50.0, 9.0])
    assert network.get_closest_lane_index(position, 0.0) == ("a", "b", 0)
    network.add_lane("a", "b", StraightLane([0, 8], [100, 8]))
    assert network.get_closest_lane_index(position, 0.0) == ("a", "b", 1)
