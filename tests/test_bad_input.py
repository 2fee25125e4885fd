"""Bad input, the cases of docs/bad-input.md that the study tests do not already try:
the shared readers (truncated JSON/NPZ, an NPZ carrying a pickle, a missing array) and,
through Snakemake on a copy of the finished test run, a truncated metrics file and a
misspelled references key: non-zero exit, an error naming the file, no output left."""

import numpy as np
import pytest
import yaml

from conftest import run_snakemake
from workflow_state import TEST_CONFIG, clone_run, completed_test_run
from xai_repro.common import InputError, read_json, read_npz, write_json, write_npz


class _Payload:
    def __reduce__(self):
        return (print, ("code ran",))


def test_truncated_json_is_refused_naming_it(tmp_path):
    path = tmp_path / "metrics.json"
    write_json(path, {"a": [1, 2, 3]})
    path.write_text(path.read_text()[:-6])
    with pytest.raises(InputError, match="metrics.json: not valid JSON"):
        read_json(path)


def test_truncated_npz_is_refused_naming_it(tmp_path):
    path = tmp_path / "rollout.npz"
    write_npz(path, obs=np.zeros((50, 5, 5)))
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(InputError, match="rollout.npz"):
        read_npz(path)


def test_npz_carrying_a_pickle_is_refused(tmp_path, capfd):
    path = tmp_path / "evil.npz"
    np.savez(path, payload=np.array([_Payload()], dtype=object))
    with pytest.raises(InputError, match="evil.npz"):
        read_npz(path)
    assert "code ran" not in capfd.readouterr().out  # the pickle was never loaded


def test_npz_missing_an_array_is_refused_naming_it(tmp_path):
    path = tmp_path / "data.npz"
    write_npz(path, x=np.zeros(3))
    with pytest.raises(InputError, match=r"data.npz: missing array\(s\) \['y'\]"):
        read_npz(path, keys=["x", "y"])


def test_npz_writer_refuses_object_arrays_and_leaves_nothing(tmp_path):
    with pytest.raises(ValueError):
        write_npz(tmp_path / "out.npz", payload=np.array([_Payload()], dtype=object))
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def finished(tmp_path):
    return clone_run(completed_test_run(), tmp_path / "workflow")


def _scorecard_fails(work, expected):
    proc = run_snakemake(
        # targets before --configfile, which takes every following word as a config file
        work,
        "results/scorecard.json",
        "--cores",
        "1",
        "--configfile",
        TEST_CONFIG,
        check=False,
    )
    assert proc.returncode != 0, proc.stdout[-2000:]
    log = (work / "logs" / "scorecard" / "build_scorecard.log").read_text()
    assert "InputError" in log and expected in log, log[-2000:]
    left = sorted(p.name for p in (work / "results").glob("*scorecard*"))
    assert left == [], f"left behind: {left}"


@pytest.mark.slow
def test_workflow_refuses_a_truncated_metrics_file(finished):
    path = finished / "results" / "test" / "diffig" / "metrics.json"
    path.write_text(path.read_text()[:-10])
    _scorecard_fails(finished, "results/test/diffig/metrics.json: not valid JSON")


@pytest.mark.slow
def test_workflow_refuses_a_misspelled_reference_key(finished):
    refs = finished / "config" / "references"
    refs.mkdir(exist_ok=True)
    row = {
        "id": "diffig.typo",
        "claim": "x",
        "metric": "x",
        "reference": 1.0,
        "source": "s",
        "tolerence": {"abs": 0.1},
        "configs": ["test"],
    }
    (refs / "diffig.yaml").write_text(yaml.safe_dump([row]))
    _scorecard_fails(finished, "tolerence")
