"""fast_sim's and fast_numpy's patches give bit-identical results to highway-env's originals."""

import numpy as np
import pytest
from highway_env.road.lane import CircularLane, SineLane, StraightLane
from highway_env.road.road import RoadNetwork

from xai_repro.highway import fast_numpy, fast_sim
from xai_repro.highway.env import make_env

ORIGINAL_CLOSEST = fast_sim._ORIGINALS[RoadNetwork, "get_closest_lane_index"]
ORIGINAL_LOCAL = fast_sim._ORIGINALS[StraightLane, "local_coordinates"]


@pytest.fixture
def patched():
    assert fast_sim.install()
    assert fast_sim.install()  # idempotent
    yield
    fast_sim.uninstall()


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
    paths (fast_sim and fast_numpy), step by step."""
    original = _trajectory(episodes, order, seed, config, fast=False)
    try:
        fast = _trajectory(episodes, order, seed, config, fast=True)
    finally:
        make_env(fast=False).close()
    assert len(fast) == len(original) > episodes
    for step, (a, b) in enumerate(zip(original, fast, strict=True)):
        assert a == b, f"step {step} differs"


def test_make_env_installs_and_removes_both_fast_paths():
    from highway_env.vehicle import behavior, controller, objects

    make_env(fast=False).close()
    assert RoadNetwork.get_closest_lane_index is ORIGINAL_CLOSEST
    assert all(module.np is np for module in (behavior, controller, objects))
    make_env(fast=True).close()
    assert RoadNetwork.get_closest_lane_index is not ORIGINAL_CLOSEST
    assert all(module.np is fast_numpy._FAST for module in (behavior, controller, objects))
    assert controller.np.clip is fast_numpy.clip and objects.np.linalg.norm is fast_numpy.norm
    make_env(fast=False).close()


def test_fast_numpy_scalars_equal_numpy():
    assert fast_numpy.scalars_match(samples=2000, seed=1)
    # signed zero: numpy's clip gives +0.0 where Python's max(-0.0, 0) would keep -0.0
    assert fast_numpy.clip(-0.0, 0, 1).tobytes() == np.clip(-0.0, 0, 1).tobytes()
    assert np.isnan(fast_numpy.clip(float("nan"), -1, 1))
    # anything but a float scalar between scalar bounds is numpy's own call
    array = np.array([-2.0, 0.5, 3.0])
    assert fast_numpy.clip(array, -1, 1).tolist() == [-1.0, 0.5, 1.0]
    assert type(fast_numpy.clip(5, 0, 3)) is type(np.clip(5, 0, 3))  # int stays int
    assert fast_numpy.norm(np.array([[3.0, 4.0]])) == 5.0
    assert fast_numpy.norm(np.array([3.0, 4.0]), ord=1) == 7.0


def test_a_one_ulp_change_is_caught(monkeypatch):
    """The comparison can fail: a clip one ulp nearer zero changes the vehicles' states."""

    def planted(a, a_min, a_max, *args, **kwargs):
        value = fast_numpy.clip(a, a_min, a_max, *args, **kwargs)
        return np.nextafter(value, 0.0) if type(value) is np.float64 else value

    monkeypatch.setattr(fast_numpy._FAST, "clip", planted)
    with pytest.raises(AssertionError, match="differs"):
        _compare(episodes=1, order="sorted", seed=7)


@pytest.mark.parametrize("order", ["sorted", "shuffled"])
def test_trajectories_identical(order):
    _compare(episodes=4, order=order, seed=7)


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


def test_lane_distances_and_coordinates_identical(patched):
    env = make_env()
    env.reset(seed=5)
    network = env.unwrapped.road.network
    lanes = network.lanes_list()
    assert {type(lane).__name__ for lane in lanes} == {"StraightLane", "CircularLane"}
    rng = np.random.default_rng(0)
    checked = 0
    for lane in lanes:
        points, headings = _probe_points(lane, rng, 150)
        for position, heading in zip(points, headings, strict=True):
            heading = float(heading)
            indexes, dist = fast_sim.lane_distances(network, position, heading)
            expected = [other.distance_with_heading(position, heading) for other in lanes]
            assert dist.tobytes() == _bits(expected)
            assert network.get_closest_lane_index(position, heading) == ORIGINAL_CLOSEST(
                network, position, heading
            )
            if isinstance(lane, StraightLane):
                got, want = lane.local_coordinates(position), ORIGINAL_LOCAL(lane, position)
                assert _bits(got) == _bits(want)
            checked += 1
    assert checked > 150 * len(lanes)
    env.close()


def test_other_lane_types_fall_back_to_the_original(patched):
    network = RoadNetwork()
    network.add_lane("a", "b", SineLane([0, 0], [80, 0], amplitude=2.0, pulsation=0.2, phase=0.0))
    network.add_lane("a", "b", StraightLane([0, 4], [80, 4]))
    network.add_lane("b", "c", CircularLane([80, 20], 20, -np.pi / 2, 0, clockwise=False))
    lanes = network.lanes_list()
    rng = np.random.default_rng(1)
    for _ in range(500):
        position, heading = rng.uniform([-10, -10], [110, 40]), float(rng.uniform(-4, 4))
        _, dist = fast_sim.lane_distances(network, position, heading)
        assert dist.tobytes() == _bits(
            [lane.distance_with_heading(position, heading) for lane in lanes]
        )
        want = ORIGINAL_CLOSEST(network, position, heading)
        assert network.get_closest_lane_index(position, heading) == want


def test_lane_cache_dropped_by_add_lane(patched):
    network = RoadNetwork()
    network.add_lane("a", "b", StraightLane([0, 0], [100, 0]))
    position = np.array([50.0, 9.0])
    assert network.get_closest_lane_index(position, 0.0) == ("a", "b", 0)
    network.add_lane("a", "b", StraightLane([0, 8], [100, 8]))
    assert network.get_closest_lane_index(position, 0.0) == ("a", "b", 1)


def test_numerics_probe_passes_here():
    assert fast_sim.numerics_match()
