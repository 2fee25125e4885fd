"""The forced Duffing oscillator and its "true model" predictor (Duffing study).

    x'' + delta x' + alpha x + beta x^3 = gamma cos(omega t)

``duffing_flow`` maps rows (x0, v0, t) to (x(t), v(t)) by integrating each row with
an adaptive Dormand-Prince 8(5,3) method (the DOP853 tableau scipy uses), compiled
with numba and parallel over rows. The notebook called ``odeint`` once per row
(``odeint_loop_flow`` keeps that as the benchmark baseline); ``reference_flow`` is a
per-row ``solve_ivp`` at tight tolerances that both are checked against.

Used by the rules simulate_duffing, benchmark_true_model, attribute_duffing and
differentiate_models.
"""

from collections.abc import Mapping

import numba
import numpy as np
from scipy.integrate import odeint, solve_ivp
from scipy.integrate._ivp import dop853_coefficients as _dop

FEATURES = ("x0", "v0", "t")
TARGETS = ("xt", "vt")
SEED_ODE = {"alpha": -1.0, "beta": 1.0, "delta": 0.3, "gamma": 0.37, "omega": 1.2}

_N_STAGES = _dop.N_STAGES
_A = np.ascontiguousarray(_dop.A[:_N_STAGES, :_N_STAGES])
_B = np.ascontiguousarray(_dop.B)
_C = np.ascontiguousarray(_dop.C[:_N_STAGES])
_E3 = np.ascontiguousarray(_dop.E3)
_E5 = np.ascontiguousarray(_dop.E5)


def _ode_args(ode: Mapping[str, float]) -> tuple[float, float, float, float, float]:
    missing = [k for k in SEED_ODE if k not in ode]
    if missing:
        raise KeyError(f"duffing.ode: missing coefficient(s) {missing}")
    return tuple(float(ode[k]) for k in ("alpha", "beta", "delta", "gamma", "omega"))


@numba.njit(cache=True, fastmath=True, inline="always")
def _accel(t, x, v, alpha, beta, delta, gamma, omega):
    return gamma * np.cos(omega * t) - (delta * v + alpha * x + beta * x * x * x)


@numba.njit(cache=True, fastmath=True)
def _integrate_row(x0, v0, t_end, alpha, beta, delta, gamma, omega, rtol, atol, A, B, C, E3, E5):
    """Integrate one row from t=0 to t_end with adaptive DOP853; return (x, v, steps)."""
    if t_end == 0.0:
        return x0, v0, 0
    n_stages = B.shape[0]
    kx = np.empty(n_stages + 1)
    kv = np.empty(n_stages + 1)
    t, x, v = 0.0, x0, v0
    direction = 1.0 if t_end > 0 else -1.0
    h = min(abs(t_end), 0.05)
    fx, fv = v, _accel(t, x, v, alpha, beta, delta, gamma, omega)
    steps = 0
    rejected = False
    while direction * (t_end - t) > 0.0:
        if h > abs(t_end - t):
            h = abs(t_end - t)
        hs = direction * h
        kx[0], kv[0] = fx, fv
        for s in range(1, n_stages):
            dx = 0.0
            dv = 0.0
            for j in range(s):
                dx += A[s, j] * kx[j]
                dv += A[s, j] * kv[j]
            xs = x + hs * dx
            vs = v + hs * dv
            kx[s] = vs
            kv[s] = _accel(t + C[s] * hs, xs, vs, alpha, beta, delta, gamma, omega)
        sx = 0.0
        sv = 0.0
        for j in range(n_stages):
            sx += B[j] * kx[j]
            sv += B[j] * kv[j]
        x_new = x + hs * sx
        v_new = v + hs * sv
        kx[n_stages] = v_new
        kv[n_stages] = _accel(t + hs, x_new, v_new, alpha, beta, delta, gamma, omega)
        # error estimate of scipy's DOP853 (_estimate_error_norm)
        scale_x = atol + max(abs(x), abs(x_new)) * rtol
        scale_v = atol + max(abs(v), abs(v_new)) * rtol
        e5x = 0.0
        e5v = 0.0
        e3x = 0.0
        e3v = 0.0
        for j in range(n_stages + 1):
            e5x += E5[j] * kx[j]
            e5v += E5[j] * kv[j]
            e3x += E3[j] * kx[j]
            e3v += E3[j] * kv[j]
        e5 = (e5x / scale_x) ** 2 + (e5v / scale_v) ** 2
        e3 = (e3x / scale_x) ** 2 + (e3v / scale_v) ** 2
        if e5 == 0.0 and e3 == 0.0:
            err = 0.0
        else:
            err = h * e5 / np.sqrt((e5 + 0.01 * e3) * 2.0)
        if err < 1.0:
            if err == 0.0:
                factor = 10.0
            else:
                factor = min(10.0, 0.9 * err ** (-1.0 / 8.0))
            if rejected:
                factor = min(1.0, factor)
            t = t + hs
            x, v = x_new, v_new
            fx, fv = kx[n_stages], kv[n_stages]
            h *= factor
            rejected = False
            steps += 1
        else:
            h *= max(0.2, 0.9 * err ** (-1.0 / 8.0))
            rejected = True
    return x, v, steps


@numba.njit(cache=True, parallel=True)
def _flow_rows(X, alpha, beta, delta, gamma, omega, rtol, atol, A, B, C, E3, E5):
    n = X.shape[0]
    out = np.empty((n, 2))
    for i in numba.prange(n):
        x, v, _ = _integrate_row(
            X[i, 0], X[i, 1], X[i, 2], alpha, beta, delta, gamma, omega, rtol, atol, A, B, C, E3, E5
        )
        out[i, 0] = x
        out[i, 1] = v
    return out


def _as_rows(X) -> np.ndarray:
    X = np.ascontiguousarray(np.asarray(X, dtype=np.float64))
    if X.ndim != 2 or X.shape[1] != 3:
        raise ValueError(f"expected rows (x0, v0, t) of shape (n, 3), got {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError("rows (x0, v0, t) contain NaN or inf")
    return X


def duffing_flow(
    X, ode: Mapping[str, float] = SEED_ODE, rtol: float = 1e-10, atol: float = 1e-10
) -> np.ndarray:
    """State (x(t), v(t)) for each row (x0, v0, t) of ``X`` (n, 3) -> (n, 2).

    Each row starts at time 0 (the forcing phase is gamma cos(omega t) from t=0).
    Rows run in parallel over numba's threads (``numba.set_num_threads``).
    """
    X = _as_rows(X)
    if len(X) == 0:
        return np.empty((0, 2))
    return _flow_rows(X, *_ode_args(ode), float(rtol), float(atol), _A, _B, _C, _E3, _E5)


def _rhs(t, u, alpha, beta, delta, gamma, omega):
    x, v = u
    return [v, gamma * np.cos(omega * t) - (delta * v + alpha * x + beta * x**3)]


def reference_flow(X, ode: Mapping[str, float] = SEED_ODE, tol: float = 1e-11) -> np.ndarray:
    """Tight per-row reference: scipy ``solve_ivp`` DOP853 with rtol = atol = ``tol``."""
    X = _as_rows(X)
    args = _ode_args(ode)
    out = np.empty((len(X), 2))
    for i, (x0, v0, t) in enumerate(X):
        if t == 0:
            out[i] = (x0, v0)
            continue
        sol = solve_ivp(_rhs, (0.0, t), [x0, v0], method="DOP853", rtol=tol, atol=tol, args=args)
        out[i] = sol.y[:, -1]
    return out


def odeint_loop_flow(X, ode: Mapping[str, float] = SEED_ODE, points: int = 500) -> np.ndarray:
    """The notebook's true model: one ``odeint`` call per row on a 500-point grid."""
    X = _as_rows(X)
    args = _ode_args(ode)

    def eom(u, t, alpha, beta, delta, gamma, omega):
        return _rhs(t, u, alpha, beta, delta, gamma, omega)

    out = np.empty((len(X), 2))
    for i, (x0, v0, t) in enumerate(X):
        # The notebook used endpoint=False, which stops one grid step short of t: a bug
        # (its "true" state was at t - t/500). The grid here ends at t.
        grid = np.linspace(0.0, t, points)
        out[i] = odeint(eom, [x0, v0], grid, args=args)[-1]
    return out


class StandardScaler:
    """Feature scaling stored as plain numbers (mean, scale), JSON-serialisable."""

    def __init__(self, mean, scale, columns=FEATURES):
        self.mean = np.asarray(mean, dtype=float)
        self.scale = np.asarray(scale, dtype=float)
        self.columns = tuple(columns)
        if self.mean.shape != (len(self.columns),) or self.scale.shape != self.mean.shape:
            raise ValueError(f"scaler needs {len(self.columns)} means and scales")
        if not (self.scale > 0).all():
            raise ValueError("scaler scales must be positive")

    @classmethod
    def fit(cls, X, columns=FEATURES) -> "StandardScaler":
        X = np.asarray(X, dtype=float)
        scale = X.std(axis=0)
        scale[scale == 0] = 1.0
        return cls(X.mean(axis=0), scale, columns)

    def transform(self, X) -> np.ndarray:
        return (np.asarray(X, dtype=float) - self.mean) / self.scale

    def inverse_transform(self, Z) -> np.ndarray:
        return np.asarray(Z, dtype=float) * self.scale + self.mean

    def to_dict(self) -> dict:
        return {
            "columns": list(self.columns),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> "StandardScaler":
        return cls(d["mean"], d["scale"], d.get("columns", FEATURES))


class TrueModel:
    """The Duffing ODE as a predictor on scaled inputs (rows of x0, v0, t -> xt, vt)."""

    def __init__(self, scaler: StandardScaler, ode=SEED_ODE, rtol=1e-10, atol=1e-10):
        self.scaler = scaler
        self.ode = dict(ode)
        self.rtol = rtol
        self.atol = atol

    def predict(self, Z) -> np.ndarray:
        Z = np.asarray(Z, dtype=float)
        return duffing_flow(self.scaler.inverse_transform(Z), self.ode, self.rtol, self.atol)


def central_differences(predict, Z, delta: float = 0.01) -> np.ndarray:
    """Jacobian d predict / d Z by central differences: (n, n_outputs, n_features).

    The notebook planned this as its analytic reference (``num_grad``): signed central
    differences, as here (only its docstring wrote |.|), but with its perturbed inputs
    built transposed and never finished. Here each output keeps its own signed derivative.
    """
    Z = np.asarray(Z, dtype=float)
    n, d = Z.shape
    steps = np.eye(d) * delta
    # one batched call: 2 * d perturbed copies of every row
    batch = np.concatenate([Z + s for s in steps] + [Z - s for s in steps])
    out = np.asarray(predict(batch))
    plus = out[: n * d].reshape(d, n, -1)
    minus = out[n * d :].reshape(d, n, -1)
    return ((plus - minus) / (2 * delta)).transpose(1, 2, 0)


def load_scaler(path) -> "StandardScaler":
    """Read ``scaler.json`` written by split_duffing; a bad file raises InputError naming it."""
    from xai_repro.common import InputError, read_json

    data = read_json(path)
    try:
        return StandardScaler.from_dict(data)
    except (KeyError, TypeError, ValueError) as err:
        raise InputError(f"{path}: not a scaler file ({type(err).__name__}: {err})") from err
