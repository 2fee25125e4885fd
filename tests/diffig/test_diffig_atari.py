"""Imported Atari (Pong) MMNs: key format, bad files, preprocessing, rollout, analysis."""

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from analyze_atari_mmn import main
from xai_repro.common import InputError
from xai_repro.diffig.atari import (
    ACTION_MAPS,
    FRAME,
    imresize_uint8,
    load_atari_mmn,
    make_atari_mmn,
    make_pong_env,
    preprocess_frame,
    record_episode,
)

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "mmn"


@pytest.fixture
def pong_mmn_file(tmp_path):
    """A random Pong MMN saved as the MMN code base saves one: torch.save(state_dict)."""
    torch.manual_seed(0)
    path = tmp_path / "pong_mmn.p"
    torch.save(make_atari_mmn().state_dict(), path)
    return path


def test_state_dict_has_the_original_key_format_and_shapes():
    state = make_atari_mmn().state_dict()
    # the convs are registered twice in the original GRUNet: both names are in its files
    assert state["gru_net.conv1.weight"].shape == (32, 1, 3, 3)
    assert torch.equal(state["gru_net.conv4.weight"], state["gru_net.input_ff.6.weight"])
    assert state["gru_net.gru.weight_ih"].shape == (3 * 32, 200)
    assert state["gru_net.actor_linear.weight"].shape == (3, 32)
    assert state["obx_net.encoder.0.weight"].shape == (800, 200)
    assert state["obx_net.encoder.2.weight"].shape == (100, 800)
    assert [state[f"bhx_net.encoder.{i}.weight"].shape[0] for i in (0, 2, 4)] == [512, 256, 64]
    assert state["bhx_net.decoder.4.weight"].shape == (32, 512)


def test_import_round_trip(pong_mmn_file):
    net = load_atari_mmn(pong_mmn_file)
    expected = torch.load(pong_mmn_file, weights_only=True)
    for key, value in net.state_dict().items():
        assert torch.equal(value, expected[key])


def test_bad_files_are_refused(tmp_path, pong_mmn_file):
    state = torch.load(pong_mmn_file, weights_only=True)
    missing = dict(state)
    del missing["bhx_net.encoder.4.weight"]
    torch.save(missing, tmp_path / "missing.p")
    wrong = dict(state)
    wrong["obx_net.encoder.0.weight"] = torch.zeros(800, 199)
    torch.save(wrong, tmp_path / "wrong.p")
    (tmp_path / "text.p").write_text("not a checkpoint")

    class Evil:
        def __reduce__(self):
            return (print, ("code ran",))

    (tmp_path / "evil.p").write_bytes(pickle.dumps({"x": Evil()}))
    for name in ("missing.p", "wrong.p", "text.p", "evil.p"):
        with pytest.raises(InputError, match=name):
            load_atari_mmn(tmp_path / name)


def test_imresize_rescales_a_float_frame_by_its_own_min_and_max():
    # scipy <= 1.2 imresize of a float array: (x - min) * 255 / (max - min), rounded half
    # up to uint8 (63.75 -> 64, 127.5 -> 128), then PIL's bilinear filter
    blocks = np.array([[10.0, 20.0], [30.0, 50.0]])
    same = imresize_uint8(np.kron(blocks, np.ones((2, 2))), (4, 4))  # no resampling
    assert same.dtype == np.uint8
    np.testing.assert_array_equal(same, np.kron([[0, 64], [128, 255]], np.ones((2, 2))))
    # halving: PIL's bilinear filter spans 2 source pixels either side of each output
    # centre, so the corners of 4x4 uniform blocks keep their values and the middle mixes
    half = imresize_uint8(np.kron(blocks, np.ones((4, 4))), (4, 4))
    assert [half[0, 0], half[0, 3], half[3, 0], half[3, 3]] == [0, 64, 128, 255]
    assert 0 < half[0, 1] < 64 < half[3, 1] < 255


def test_imresize_of_a_constant_frame_is_finite_zero():
    out = imresize_uint8(np.full((160, 160), 87.0), (80, 80))
    assert out.shape == (80, 80) and not out.any()


def test_preprocessing_crops_averages_rescales_and_resizes():
    frame = np.full((210, 160, 3), 90, dtype=np.uint8)  # background: 90, not 0
    frame[:35] = 255  # the score bar is cropped away (it would set the maximum)
    frame[195:] = 255
    frame[35 + 40 : 35 + 80, 100:140] = (200, 150, 100)  # an object of mean 150
    x = preprocess_frame(frame)
    assert x.shape == (1, 1, FRAME, FRAME) and x.dtype == torch.float32
    img = x[0, 0].numpy()
    assert img[0, 0] == 0.0  # background -> the frame's minimum -> 0
    assert np.allclose(img[22:38, 52:68], 1.0)  # inside the object -> its maximum -> 1
    assert 0 < img[20, 60] < 1  # the object's blurred edge (bilinear over 2x2 source pixels)
    assert np.isfinite(preprocess_frame(np.zeros((210, 160, 3), np.uint8)).numpy()).all()
    with pytest.raises(ValueError, match="210, 160, 3"):
        preprocess_frame(np.zeros((84, 84, 3)))


def test_a_games_crop_is_taken_before_the_rescale():
    frame = np.zeros((210, 160, 3), dtype=np.uint8)
    frame[:, :10] = 255  # Freeway's left margin: cropped away, so it sets no maximum
    frame[100:120, 50:90] = 100
    x = preprocess_frame(frame, rows=(25, 195), cols=(10, 160))[0, 0].numpy()
    assert x.max() == 1.0 and x[0, 0] == 0.0  # the object, not the margin, is the maximum
    assert preprocess_frame(frame)[0, 0].numpy()[40, 0] == 1.0  # Pong's crop keeps it


def test_action_map_names_the_right_pong_actions():
    env = make_pong_env()
    try:
        meanings = env.unwrapped.get_action_meanings()
    finally:
        env.close()
    assert [meanings[a] for a in ACTION_MAPS[3]] == ["NOOP", "RIGHTFIRE", "LEFTFIRE"]
    assert len(meanings) == len(ACTION_MAPS[6])


def test_rollout_records_preprocessed_frames():
    torch.manual_seed(1)
    rec = record_episode(make_atari_mmn().eval(), seed=0, max_steps=12)
    assert rec["frames"].shape == (12, 1, FRAME, FRAME)
    assert rec["frames"].max() <= 1.0 and rec["frames"].std() > 0
    assert set(rec["actions"]) <= {0, 1, 2}


def test_analysis_writes_metrics_and_figures(tmp_path, pong_mmn_file):
    atari = {"seed": 0, "max_steps": 15, "machine_episodes": 1, "m": 10, "pairs": [[5, 12]]}
    kw = dict(seed=0, atari=atari, diff_ig={"m": 10, "rule": "seed"}, minimize_restarts=5)
    fig = tmp_path / "out" / "diff_ig_5_12.png"
    main(pong_mmn_file, tmp_path / "out" / "metrics.json", [fig], **kw)
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["episode"]["steps"] == 15
    assert sum(metrics["action_counts"].values()) == 15
    assert metrics["moore_machine"]["states_before"] >= metrics["moore_machine"]["states_after"]
    pair = metrics["diff_ig"][0]
    # this random MMN codes steps 5 and 12 alike: no unit differs, so the masked map is 0
    rec = record_episode(load_atari_mmn(pong_mmn_file), seed=0, max_steps=15)
    assert pair["differing_units"] == _differing_units(pong_mmn_file, rec["frames"], 5, 12) == 0
    assert pair["masked_abs_sum"] == 0
    assert fig.stat().st_size > 0
    # a pair outside the episode: an error naming the key, nothing written
    bad = tmp_path / "bad"
    atari_bad = dict(atari, pairs=[[5, 99]])
    with pytest.raises(InputError, match="diffig.atari.pairs"):
        main(pong_mmn_file, bad / "metrics.json", [bad / "f.png"], **dict(kw, atari=atari_bad))
    assert not bad.exists() or not any(bad.iterdir())


def _differing_units(model_path, frames, i, j) -> int:
    mmn = load_atari_mmn(model_path)
    with torch.no_grad():
        codes = mmn.obx_net.encode(mmn.gru_net.input_ff(torch.tensor(frames[[i, j]])))
    return int((codes[0] != codes[1]).sum())


@pytest.mark.skipif(not (FIXTURES / "pong_mmn_64_100.p").exists(), reason="fixture absent")
def test_analysis_of_the_authors_mmn_at_their_differing_pair(tmp_path):
    """The differential-IG README's pair (input 43, baseline 103) on the authors' Pong MMN:
    observation codes that differ, so the masked map is the mean IG over those units."""
    model = FIXTURES / "pong_mmn_64_100.p"
    atari = {"seed": 0, "max_steps": 110, "machine_episodes": 1, "m": 10, "pairs": [[43, 103]]}
    kw = dict(seed=0, atari=atari, diff_ig={"m": 10, "rule": "seed"}, minimize_restarts=0)
    out = tmp_path / "out"
    main(model, out / "metrics.json", [out / "diff_ig_43_103.png"], **kw)
    pair = json.loads((out / "metrics.json").read_text())["diff_ig"][0]
    frames = record_episode(load_atari_mmn(model), seed=0, max_steps=110)["frames"]
    differing = _differing_units(model, frames, 43, 103)
    assert differing > 0
    assert pair["differing_units"] == differing
    assert pair["masked_abs_sum"] > 0 and pair["unmasked_abs_sum"] > 0
    assert pair["completeness_gap"] > 0
    assert pair["completeness_relative_error"] == pytest.approx(
        pair["completeness_error"] / pair["completeness_gap"]
    )


@pytest.mark.slow
def test_workflow_analyses_an_imported_pong_mmn(workflow_copy, pong_mmn_file):
    import shutil

    import yaml

    from conftest import run_snakemake

    (workflow_copy / "inputs").mkdir()
    shutil.copy(pong_mmn_file, workflow_copy / "inputs" / "pong.p")
    config = yaml.safe_load((workflow_copy / "config" / "test.yaml").read_text())
    config["studies"] = ["diffig"]
    config["diffig"]["atari"]["model"] = "inputs/pong.p"
    (workflow_copy / "config" / "atari.yaml").write_text(yaml.safe_dump(config))
    run_snakemake(
        workflow_copy,
        "results/atari/diffig/atari/metrics.json",
        "--cores",
        "2",
        "--configfile",
        "config/atari.yaml",
    )
    metrics = json.loads((workflow_copy / "results/atari/diffig/atari/metrics.json").read_text())
    assert metrics["episode"]["steps"] == config["diffig"]["atari"]["max_steps"]
    assert (workflow_copy / "results/atari/diffig/atari/figures/diff_ig_10_20.png").exists()


def test_a_games_mmn_round_trips_through_its_task():
    from xai_repro.diffig.networks import QBN, MMNet
    from xai_repro.diffig.tasks import get_task

    task = get_task("FreewayDeterministic-v4")
    torch.manual_seed(2)
    gru = task.make_gru()
    assert gru.gru.weight_ih.shape == (3 * 32, 100)  # conv4 with 4 channels: 4 x 5 x 5
    mmn = MMNet(gru, QBN(100, 100, "relu6"), task.make_hx_qbn(32, 64))
    again = task.mmn_from_state_dict(mmn.state_dict())
    for key, value in mmn.state_dict().items():
        assert torch.equal(again.state_dict()[key], value)
