"""Exact fast path for highway-env's intersection-v0 hot spots, a patch of highway-env 1.12.1.

A monkeypatch of highway-env, process-wide, only on the release it was written for (else it
patches nothing and logs why); ``xai_repro.highway.env.set_fast_path`` installs it, logged.

- ``RoadNetwork.get_closest_lane_index``: candidates from approximate distances to all
  ``StraightLane``/``CircularLane`` lanes at once (lane arrays per network, dropped by the
  patched ``RoadNetwork.add_lane``), ranked by highway-env's own ``distance_with_heading``.
- ``KinematicObservation.observe``: a float64 array instead of pandas DataFrames, from the
  vehicles' own properties (anything unusual takes the original code).
- ``RegulatedRoad.enforce_road_rules``: each vehicle's constant-speed prediction once per call
  instead of once per pair (it is pure); the distance pre-check on approximate norms, verified
  with highway-env's own ``np.linalg.norm`` wherever it is near the threshold.

Exact on every CPU: the original's 2-vector ``np.dot`` and ``np.linalg.norm`` go through BLAS,
whose kernel may fuse multiply-adds, so the patch never decides on its own arithmetic: its
vectorised values only select candidates, within a margin far above their rounding error
(``_margin``), and every value that reaches a decision comes from the original call.
tests/highway/test_fast_sim.py compares trajectories bit for bit under both kinds of kernel.
"""

import logging

import highway_env
import numpy as np
from highway_env import utils
from highway_env.envs.common.observation import KinematicObservation
from highway_env.road.lane import CircularLane, StraightLane
from highway_env.road.regulation import RegulatedRoad
from highway_env.road.road import RoadNetwork
from highway_env.vehicle.controller import ControlledVehicle, MDPVehicle
from highway_env.vehicle.kinematics import Vehicle

log = logging.getLogger(__name__)

HIGHWAY_ENV_VERSION = "1.12.1"  # the release whose internals the patches copy (the lock's)
_CACHE = "_fast_sim_lanes"
_CONFLICT_TIMES = np.arange(0.25, 3, 0.25)  # is_conflict_possible's defaults (step, horizon)


def _wrap(x):
    """highway_env.utils.wrap_to_pi, on arrays."""
    return ((x + np.pi) % (2 * np.pi)) - np.pi


def _is_vec2(position):
    return type(position) is np.ndarray and position.dtype == np.float64 and position.shape == (2,)


def _lane_arrays(network):
    """The network's lanes in get_closest_lane_index's order, as arrays per lane type."""
    indexes, straight, circular, other = [], [], [], []
    for _from, to_dict in network.graph.items():
        for _to, lanes in to_dict.items():
            for _id, lane in enumerate(lanes):
                k = len(indexes)
                indexes.append((_from, _to, _id))
                if type(lane) is StraightLane:
                    straight.append(
                        (k, *lane.start, *lane.direction, *lane.direction_lateral)
                        + (lane.heading, lane.length)
                    )
                elif type(lane) is CircularLane:
                    circular.append(
                        (k, *lane.center, lane.direction, lane.radius, lane.start_phase)
                        + (np.pi / 2 * lane.direction, lane.length)
                    )
                else:
                    other.append((k, lane))
    st = np.array(straight, dtype=np.float64).reshape(-1, 9).T
    ci = np.array(circular, dtype=np.float64).reshape(-1, 8).T
    extent = [abs(v) for row in straight for v in row[1:3]] + [row[-1] for row in straight]
    extent += [abs(v) for row in circular for v in (*row[1:3], row[4])] + [0.0]
    cache = (indexes, st[0].astype(int), st[1:], ci[0].astype(int), ci[1:], other, max(extent))
    setattr(network, _CACHE, cache)
    return cache


def _lanes(network):
    return network.__dict__.get(_CACHE) or _lane_arrays(network)


def _margin(*magnitudes):
    """A bound on |vectorised - highway-env's value| for inputs of these magnitudes: a few
    ulps of the largest intermediate differ (~1e-15 relative), 1e-9 leaves a factor ~1e5."""
    return 1e-9 * (1.0 + sum(abs(m) for m in magnitudes))


def lane_distances(network, position, heading):
    """Lane indexes and their distance_with_heading(position, heading), within ``_margin``
    (BLAS-free formulas; exact for lanes of other types)."""
    indexes, st_k, st, ci_k, ci, other, _ = _lanes(network)
    x, y = position.tolist()
    dist = np.empty(len(indexes))
    if st_k.size:  # StraightLane.local_coordinates, heading_at = lane.heading
        sx, sy, dx, dy, lx, ly, hd, ln = st
        ex, ey = x - sx, y - sy
        s, r = ex * dx + ey * dy, ex * lx + ey * ly
        angle = np.abs(_wrap(heading - hd))
        dist[st_k] = np.abs(r) + np.maximum(s - ln, 0.0) + np.maximum(0.0 - s, 0.0) + angle
    if ci_k.size:  # CircularLane.local_coordinates and heading_at
        cx, cy, sign, radius, phase, quarter, ln = ci
        ex, ey = x - cx, y - cy
        phi = phase + _wrap(np.arctan2(ey, ex) - phase)
        s = sign * (phi - phase) * radius
        r = sign * (radius - np.sqrt(ex * ex + ey * ey))
        psi = (sign * s / radius + phase) + quarter
        angle = np.abs(_wrap(heading - psi))
        dist[ci_k] = np.abs(r) + np.maximum(s - ln, 0.0) + np.maximum(0.0 - s, 0.0) + angle
    for k, lane in other:
        dist[k] = lane.distance_with_heading(position, heading)
    return indexes, dist


def _closest_lane_index(self, position, heading=None):
    """RoadNetwork.get_closest_lane_index: the first closest lane in the graph's order.

    Every lane whose approximate distance is within twice the error bound of the smallest is
    a candidate (the true first minimum always is one); the candidates are ranked by
    highway-env's own distance_with_heading, in the graph's order, as the original does.
    """
    original = _ORIGINALS[RoadNetwork, "get_closest_lane_index"]
    if heading is None or not isinstance(heading, float) or not _is_vec2(position):
        return original(self, position, heading)
    indexes, dist = lane_distances(self, position, heading)
    smallest = dist.min() if dist.size else np.nan
    if not (np.isfinite(smallest) and np.isfinite(heading)):
        return original(self, position, heading)
    x, y = position.tolist()
    bound = 2 * _margin(x, y, heading, smallest, _lanes(self)[-1], 2 * np.pi)
    candidates = np.flatnonzero(dist <= smallest + bound).tolist()
    if len(candidates) == 1:
        return indexes[candidates[0]]
    exact = [self.get_lane(indexes[k]).distance_with_heading(position, heading) for k in candidates]
    return indexes[candidates[int(np.argmin(exact))]]


def _add_lane(self, _from, _to, lane):
    self.__dict__.pop(_CACHE, None)
    return _ORIGINALS[RoadNetwork, "add_lane"](self, _from, _to, lane)


_ROW_FEATURES = {
    "presence": lambda v: 1,
    "x": lambda v: v.position[0],
    "y": lambda v: v.position[1],
    "vx": lambda v: v.velocity[0],
    "vy": lambda v: v.velocity[1],
    "heading": lambda v: v.heading,
    "cos_h": lambda v: v.direction[0],
    "sin_h": lambda v: v.direction[1],
    "cos_d": lambda v: v.destination_direction[0],
    "sin_d": lambda v: v.destination_direction[1],
    "long_off": lambda v: v.lane_offset[0],
    "lat_off": lambda v: v.lane_offset[1],
    "ang_off": lambda v: v.lane_offset[2],
}


def _row(v, features, origin, intentions):
    """Vehicle.to_dict(origin, intentions) restricted to ``features``, as a list."""
    row = []
    for f in features:
        if f in ("cos_d", "sin_d") and not intentions:
            row.append(0)
            continue
        value = _ROW_FEATURES[f](v)
        if origin is not None and f in ("x", "y", "vx", "vy"):
            value -= _ROW_FEATURES[f](origin)
        row.append(value)
    return row


def _observe(self):
    """KinematicObservation.observe on a float64 array (same values, same RNG calls)."""
    original = _ORIGINALS[KinematicObservation, "observe"]
    ok = self.env.road and self.features_range and set(self.features) <= set(_ROW_FEATURES)
    if not ok or type(self.observer_vehicle).to_dict is not Vehicle.to_dict:
        return original(self)
    ego, features = self.observer_vehicle, list(self.features)
    close = self.env.road.close_objects_to(
        ego,
        self.env.PERCEPTION_DISTANCE,
        count=self.vehicles_count - 1,
        see_behind=self.see_behind,
        sort=self.order == "sorted",
        vehicles_only=not self.include_obstacles,
    )
    close = close[-self.vehicles_count + 1 :] if close else []
    if any(type(v).to_dict is not Vehicle.to_dict for v in close):
        return original(self)
    origin = ego if not self.absolute else None
    rows = [_row(ego, features, None, True)]
    rows += [_row(v, features, origin, self.observe_intentions) for v in close]
    obs = np.array(rows, dtype=np.float64)
    if self.normalize:
        for feature, f_range in self.features_range.items():
            if feature in features:
                j = features.index(feature)
                obs[:, j] = utils.lmap(obs[:, j], [f_range[0], f_range[1]], [-1, 1])
                if self.clip:
                    obs[:, j] = np.clip(obs[:, j], -1, 1)
    if obs.shape[0] < self.vehicles_count:
        fill = np.zeros((self.vehicles_count - obs.shape[0], len(features)))
        obs = np.concatenate([obs, fill])
    if self.order == "shuffled":
        self.env.np_random.shuffle(obs[1:])
    return obs.astype(self.space().dtype)


def _conflict_possible(v1, v2, predictions):
    """RegulatedRoad.is_conflict_possible on precomputed predictions."""
    for v in (v1, v2):
        if id(v) not in predictions:
            predictions[id(v)] = v.predict_trajectory_constant_speed(_CONFLICT_TIMES)
    positions_1, headings_1 = predictions[id(v1)]
    positions_2, headings_2 = predictions[id(v2)]
    n = min(len(positions_1), len(positions_2))
    if not n:
        return False
    delta = np.array(positions_2[:n]) - np.array(positions_1[:n])
    approx = np.sqrt(delta[:, 0] * delta[:, 0] + delta[:, 1] * delta[:, 1])
    length = v1.LENGTH
    # the original skips a time if np.linalg.norm(delta) > LENGTH; near the threshold (or on
    # a non-finite value) that same call decides
    unsure = ~(np.abs(approx - length) > _margin(approx.max(initial=0.0), length))
    far = approx > length
    for t in np.flatnonzero(unsure):
        far[t] = np.linalg.norm(positions_2[t] - positions_1[t]) > length
    for t in np.flatnonzero(~far):
        if utils.rotated_rectangles_intersect(
            (positions_1[t], 1.5 * v1.LENGTH, 0.9 * v1.WIDTH, headings_1[t]),
            (positions_2[t], 1.5 * v2.LENGTH, 0.9 * v2.WIDTH, headings_2[t]),
        ):
            return True
    return False


def _enforce_road_rules(self):
    """RegulatedRoad.enforce_road_rules, predicting each vehicle once per call."""
    cls = type(self)
    if cls.is_conflict_possible is not RegulatedRoad.is_conflict_possible:
        return _ORIGINALS[RegulatedRoad, "enforce_road_rules"](self)
    for v in self.vehicles:
        if getattr(v, "is_yielding", False):
            if v.yield_timer >= self.YIELD_DURATION * self.REGULATION_FREQUENCY:
                v.target_speed = v.lane.speed_limit
                delattr(v, "color")
                v.is_yielding = False
            else:
                v.yield_timer += 1
    vehicles = self.vehicles
    predictions = {}  # id(vehicle) -> (positions, headings), filled on first use
    for i in range(len(vehicles) - 1):
        for j in range(i + 1, len(vehicles)):
            if _conflict_possible(vehicles[i], vehicles[j], predictions):
                yielding = self.respect_priorities(vehicles[i], vehicles[j])
                if yielding is not None and _yields(yielding):
                    yielding.color = self.YIELDING_COLOR
                    yielding.target_speed = 0
                    yielding.is_yielding = True
                    yielding.yield_timer = 0


def _yields(vehicle):
    return isinstance(vehicle, ControlledVehicle) and not isinstance(vehicle, MDPVehicle)


_PATCHES = {
    (RoadNetwork, "get_closest_lane_index"): _closest_lane_index,
    (RoadNetwork, "add_lane"): _add_lane,
    (KinematicObservation, "observe"): _observe,
    (RegulatedRoad, "enforce_road_rules"): _enforce_road_rules,
}
_ORIGINALS = {(cls, name): getattr(cls, name) for cls, name in _PATCHES}  # at import: released
PATCHED = tuple(f"{cls.__name__}.{name}" for cls, name in _PATCHES)


def installed():
    """Whether every patch is in place."""
    return all(getattr(c, n) is fn for (c, n), fn in _PATCHES.items())


def install(version=None):
    """Patch highway-env (idempotent). Returns False, patching nothing, when highway-env's
    version (``version``, default the imported one) is not ``HIGHWAY_ENV_VERSION``."""
    version = highway_env.__version__ if version is None else version
    if version != HIGHWAY_ENV_VERSION:
        msg = "highway-env fast path not installed: written for highway-env %s, found %s"
        log.warning(msg, HIGHWAY_ENV_VERSION, version)
        return False
    for (cls, name), function in _PATCHES.items():
        setattr(cls, name, function)
    return True


def uninstall():
    """Restore highway-env's original functions."""
    for (cls, name), function in _ORIGINALS.items():
        setattr(cls, name, function)
