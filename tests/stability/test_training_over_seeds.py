"""Training curves over seeds: every seed's history read, drawn and never dropped, the band
over the steps all seeds share, on constructed seed folders of every study's format."""

import numpy as np
import pytest
from seed_folders import TRAINING_FILES, checkpoint_zip, make_training

import plot_training_over_seeds
from xai_repro.common import InputError, write_json
from xai_repro.stability.curves import band, training_curves, training_figure
from xai_repro.stability.histories import READERS

STUDIES = sorted(TRAINING_FILES)
SEEDS = [0, 3, 5]
# one panel per study and the (x, y) that seed s's constructed history gives it
EXPECTED = {
    "duffing": (
        "surrogate: training loss",
        lambda s: (np.arange(1, 6 + s), np.exp(-np.arange(1, 6 + s) / 3) + s),
    ),
    "cfrl": ("CFRL: validity on held-out images", lambda s: ([250, 500], [0.2 * s] * 2)),
    "diffig": (
        "GRU policy: mean return per DAgger iteration",
        lambda s: (np.arange(2 + s), 100.0 * s + np.arange(2 + s)),
    ),
    "highway": (
        "DQN: mean return of the last 100 training episodes",
        lambda s: ([15, 30, 45, 60], [s + 1.5 * n / 100 for n in (15, 30, 45, 60)]),
    ),
}


def _folders(tmp_path, study, seeds=SEEDS):
    return {seed: make_training(tmp_path, study, seed).parent for seed in seeds}


def _seed_labels(ax):
    return {line.get_label() for line in ax.get_lines() if line.get_label().startswith("seed")}


@pytest.mark.parametrize("study", STUDIES)
def test_every_seed_is_read_and_drawn_in_every_panel(tmp_path, study):
    metrics = [make_training(tmp_path, study, seed) for seed in SEEDS]
    figure = tmp_path / "results" / "run" / study / "figures" / "training_over_seeds.png"
    plot_training_over_seeds.main(
        [str(p) for p in metrics],
        figure,
        run="run",
        study=study,
        seeds=SEEDS,
        files=TRAINING_FILES[study],
    )
    assert figure.stat().st_size > 0
    curves = training_curves(study, _folders(tmp_path, study), TRAINING_FILES[study])
    title, expected = EXPECTED[study]
    for seed in SEEDS:
        x, y = curves[title]["per_seed"][seed]
        np.testing.assert_allclose(x, expected(seed)[0])
        np.testing.assert_allclose(y, expected(seed)[1])
    fig = training_figure(curves, study=study, run="run", seeds=SEEDS)
    drawn = [ax for ax in fig.axes if ax.get_title()]
    assert len(drawn) == len(curves)
    # every constructed history has points of every quantity at every seed
    for ax, (title, entry) in zip(drawn, curves.items()):
        assert ax.get_title().startswith(title)
        assert list(entry["per_seed"]) == SEEDS, title
        assert _seed_labels(ax) == {f"seed {s}" for s in SEEDS}, title


def test_a_seed_missing_from_the_figure_fails_the_check(tmp_path):
    """The check above counts each seed: a figure drawn over fewer seeds than it is given
    lacks that seed's line."""
    curves = training_curves("duffing", _folders(tmp_path, "duffing"), TRAINING_FILES["duffing"])
    fig = training_figure(
        {t: {**e, "per_seed": {s: e["per_seed"][s] for s in (0, 5)}} for t, e in curves.items()},
        study="duffing",
        run="run",
        seeds=SEEDS,
    )
    assert _seed_labels(fig.axes[0]) == {"seed 0", "seed 5"}


def test_a_seed_without_its_history_file_is_an_error_naming_it(tmp_path):
    folders = _folders(tmp_path, "diffig")
    (folders[3] / "models" / "hx_qbn_history.csv").unlink()
    with pytest.raises(InputError, match=r"seed3/diffig/models/hx_qbn_history.csv"):
        training_curves("diffig", folders, TRAINING_FILES["diffig"])


def test_seeds_and_files_must_match(tmp_path):
    metrics = [make_training(tmp_path, "duffing", seed) for seed in (0, 1)]
    with pytest.raises(InputError, match="2 metrics.json files for the 3 seeds"):
        plot_training_over_seeds.main(
            metrics, tmp_path / "f.png", run="r", study="duffing", seeds=[0, 1, 2], files=["x"]
        )
    with pytest.raises(InputError, match="no reader for the history file"):
        training_curves("duffing", _folders(tmp_path, "duffing"), ["models/other.csv"])


def test_the_band_covers_the_steps_every_seed_has():
    per_seed = {
        0: (np.array([1, 2, 3]), np.array([1.0, 2.0, 3.0])),
        1: (np.array([1, 2]), np.array([3.0, 4.0])),
        2: (np.array([2, 3, 4]), np.array([8.0, 0.0, 0.0])),
    }
    spread = band(per_seed)
    np.testing.assert_array_equal(spread["x"], [2])
    np.testing.assert_allclose(
        [spread["mean"][0], spread["min"][0], spread["max"][0]], [14 / 3, 2, 8]
    )
    assert band({0: per_seed[0]}) is None  # one seed: no band
    assert band({**per_seed, 3: (np.zeros(0), np.zeros(0))}) is None  # a seed without points


def test_duffing_seeds_that_stop_early_share_the_band_of_their_common_epochs(tmp_path):
    curves = training_curves("duffing", _folders(tmp_path, "duffing"), TRAINING_FILES["duffing"])
    spread = curves["surrogate: validation loss"]["band"]
    np.testing.assert_array_equal(spread["x"], np.arange(1, 6))  # seed 0 stops after 5 epochs
    np.testing.assert_allclose(spread["mean"], np.exp(-np.arange(1, 6) / 3) + 0.1 + 8 / 3)


def test_empty_cells_are_left_out_not_zero(tmp_path):
    curves = training_curves("cfrl", _folders(tmp_path, "cfrl", [0, 1]), TRAINING_FILES["cfrl"])
    assert "CFRL: sparsity loss" in curves
    x, y = curves["CFRL: critic loss"]["per_seed"][1]
    assert len(x) == 5 and np.all(y == 1.1)
    curves = training_curves(
        "diffig", _folders(tmp_path, "diffig", [0]), ["models/mmn_history.csv"]
    )
    x, y = curves["MMN fine-tuning: mean return (step 0: before)"]["per_seed"][0]
    np.testing.assert_array_equal(x, [0, 1])


def test_highway_reads_its_checkpoints_up_to_the_training_length(tmp_path):
    folders = _folders(tmp_path, "highway", [0, 1])
    # a checkpoint of an earlier, longer training is left out
    checkpoint_zip(folders[1] / "checkpoints" / "dqn_75_steps.zip", 75, [99.0])
    curves = training_curves("highway", folders, TRAINING_FILES["highway"])
    x, _ = curves["DQN: mean return of the last 100 training episodes"]["per_seed"][1]
    np.testing.assert_array_equal(x, [15, 30, 45, 60])
    x, y = curves["DQN: mean length of the last 100 training episodes"]["per_seed"][0]
    np.testing.assert_allclose(y, [10.0] * 4)


def test_a_highway_seed_without_checkpoints_is_named_in_its_panels(tmp_path):
    folders = _folders(tmp_path, "highway", [0, 1])
    for path in (folders[1] / "checkpoints").iterdir():
        path.unlink()
    curves = training_curves("highway", folders, TRAINING_FILES["highway"])
    entry = curves["DQN: mean return of the last 100 training episodes"]
    assert len(entry["per_seed"][1][0]) == 0 and entry["band"] is None
    fig = training_figure(curves, study="highway", run="run", seeds=[0, 1])
    notes = [t.get_text() for t in fig.axes[0].texts]
    assert "no points: seed 1" in notes


def test_a_checkpoint_buffer_of_anything_but_episode_records_is_refused(tmp_path):
    folders = _folders(tmp_path, "highway", [0, 1])
    bad = folders[0] / "checkpoints" / "dqn_15_steps.zip"
    checkpoint_zip(bad, 15, [], ep_info=np.zeros(3))  # a pickled ndarray, not a deque
    with pytest.raises(InputError, match=r"dqn_15_steps.zip: ep_info_buffer is not"):
        training_curves("highway", folders, TRAINING_FILES["highway"])
    bad.write_bytes(b"not a zip")
    with pytest.raises(InputError, match=r"dqn_15_steps.zip: not a readable SB3 checkpoint"):
        training_curves("highway", folders, TRAINING_FILES["highway"])
    write_json(folders[0] / "models" / "train_stats.json", {"episodes": 3})
    with pytest.raises(InputError, match="total_steps"):
        training_curves("highway", folders, TRAINING_FILES["highway"])


def test_every_history_file_of_the_rules_has_a_reader():
    for study, files in TRAINING_FILES.items():
        assert set(files) == set(READERS[study]), study
