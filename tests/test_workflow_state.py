"""workflow_state.compare_runs on two tiny hand-made runs: exact for the same settings,
within a stated tolerance for runs that may round differently (test_slurm.py)."""

import json

import numpy as np
import pytest

from workflow_state import compare_runs

torch = pytest.importorskip("torch")
TOL = {"rtol": 1e-4, "atol": 1e-6}


def _run(root, weight, table_value, metric):
    """A finished run's results/: a checkpoint, an array file, a table and metrics."""
    out = root / "results" / "run" / "study"
    out.mkdir(parents=True)
    torch.save({"w": torch.tensor([1.0, 2.0]) * weight, "steps": torch.tensor([3])}, out / "m.pt")
    np.savez(out / "a.npz", x=np.array([0.5, 1.5]) * weight)
    (out / "t.csv").write_text(f"name,value\nq,{table_value!r}\n")
    (out / "metrics.json").write_text(json.dumps({"score": metric, "seconds": metric * 7}))
    return root


@pytest.mark.parametrize(
    "rel, tolerance, explained",
    [
        (0.0, None, True),  # the same numbers: equal either way
        (1e-7, None, False),  # one rounding apart: not bit-identical
        (1e-7, TOL, True),  # ... but within the tolerance
        (1e-2, TOL, False),  # a real change: outside it
    ],
)
def test_compare_runs_exact_or_within_tolerance(tmp_path, rel, tolerance, explained):
    first = _run(tmp_path / "a", 1.0, 0.25, 0.8)
    second = _run(tmp_path / "b", 1.0 + rel, 0.25 * (1 + rel), 0.8 * (1 + rel))
    diff = compare_runs(second, first, tolerance=tolerance)
    assert not diff["only_in_one"]
    clean = not diff["unexplained"] and not diff["changed_metrics"]
    assert clean is explained, diff
    if not explained:  # every kind of file is caught, not just one
        assert len(diff["unexplained"]) == 3, diff  # m.pt, a.npz, t.csv
        assert diff["changed_metrics"] == ["results/run/study/metrics.json: score"], diff


def test_compare_runs_integer_tensors_stay_exact(tmp_path):
    first = _run(tmp_path / "a", 1.0, 0.25, 0.8)
    second = _run(tmp_path / "b", 1.0, 0.25, 0.8)
    path = second / "results/run/study/m.pt"
    torch.save({"w": torch.tensor([1.0, 2.0]), "steps": torch.tensor([4])}, path)
    assert compare_runs(second, first, tolerance=TOL)["unexplained"] == ["results/run/study/m.pt"]
