"""The Duffing long tables: one writer, one reader, checked on small known tables."""

import numpy as np
import pandas as pd
import pytest

from xai_repro.common import InputError, write_csv
from xai_repro.duffing.tables import (
    attribution_frame,
    cube,
    long_frame,
    read_attributions,
    read_gradients,
)

POINTS = pd.DataFrame(
    {
        "slice": ["x0", "x0", "t"],
        "value": [-1.2, 1.3, 5.0],
        "x0": [-1.0, 1.0, 0.0],
        "v0": 0.0,
        "t": 0.0,
    }
)


def test_written_attributions_read_back_per_model(tmp_path):
    values = np.arange(18, dtype=float).reshape(3, 2, 3)
    path = tmp_path / "lime.csv"
    write_csv(
        path,
        pd.concat(
            [attribution_frame(POINTS, "ml", values), attribution_frame(POINTS, "true", 2 * values)]
        ),
    )
    (frame,) = read_attributions([path]).values()
    assert list(read_attributions([path])) == ["lime"]
    np.testing.assert_array_equal(cube(frame, "attr", "ml"), values)
    np.testing.assert_array_equal(cube(frame, "attr", "true"), 2 * values)
    np.testing.assert_array_equal(cube(frame, None, "ml")[:, 0], POINTS[["x0", "v0", "t"]])


def test_a_table_missing_a_column_is_refused(tmp_path):
    path = tmp_path / "finite_differences.csv"
    frame = long_frame(POINTS, {"grad": np.ones((3, 2, 3))}).drop(columns=["grad_t"])
    write_csv(path, frame)
    with pytest.raises(InputError, match=r"finite_differences.csv.*grad_t"):
        read_gradients(path)
