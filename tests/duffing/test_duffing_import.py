"""The notebook's own surrogate (../shared/fixtures/duffing/notebook_surrogate): import and refusals."""

import json

import numpy as np
import pytest

import import_surrogate
from conftest import REPO
from xai_repro.common import InputError
from xai_repro.duffing.ode import StandardScaler
from xai_repro.duffing.surrogate import keras_predictor, load_surrogate, read_checkpoint_weights

CHECKPOINT = REPO.parent / "shared" / "fixtures" / "duffing" / "notebook_surrogate"
PREFIX = CHECKPOINT / "trainingmac_lotscp1.ckpt"
NOTEBOOK = {
    "width": 200,
    "depth": 8,
    "head_width": 32,
    "head_activations": ["relu", "relu", "sigmoid", "tanh"],
}
# the analytic moments of the notebook's generator: U[-2, 2], U[-1, 1], linspace(0, 50, 500, endpoint=False)
MOMENTS = {
    "mean": [0.0, 0.0, 24.95],
    "scale": [4 / 12**0.5, 2 / 12**0.5, 0.1 * ((500**2 - 1) / 12) ** 0.5],
}

needs_fixture = pytest.mark.skipif(
    not PREFIX.with_suffix(".ckpt.index").is_file(), reason="no fixture"
)


def _raw_forward(Z):
    """The notebook's network computed by hand from the checkpoint's raw variables."""
    import tensorflow as tf

    reader = tf.train.load_checkpoint(str(PREFIX))
    activations = ["relu"] * 10 + ["sigmoid", "tanh", "linear"]
    a = np.asarray(Z, dtype=np.float64)
    for i, act in enumerate(activations):
        W = reader.get_tensor(f"layer_with_weights-{i}/kernel/.ATTRIBUTES/VARIABLE_VALUE")
        b = reader.get_tensor(f"layer_with_weights-{i}/bias/.ATTRIBUTES/VARIABLE_VALUE")
        a = a @ W.astype(np.float64) + b
        if act == "relu":
            a = np.maximum(a, 0)
        elif act == "sigmoid":
            a = 1 / (1 + np.exp(-a))
        elif act == "tanh":
            a = np.tanh(a)
    return a


@needs_fixture
def test_notebook_checkpoint_imports_and_predicts_as_its_raw_variables(tmp_path):
    model_path, scaler_path = tmp_path / "m.keras", tmp_path / "s.json"
    import_surrogate.main(PREFIX, model_path, scaler_path, architecture=NOTEBOOK, scaler=MOMENTS)
    model = load_surrogate(model_path)
    assert (
        model.count_params()
        == 3 * 200 + 200 + 7 * (200 * 200 + 200) + 200 * 32 + 32 + 3 * (32 * 32 + 32) + 32 * 2 + 2
    )
    scaler = StandardScaler.from_dict(json.loads(scaler_path.read_text()))
    rng = np.random.default_rng(0)
    raw = np.column_stack([rng.uniform(-2, 2, 64), rng.uniform(-1, 1, 64), rng.uniform(0, 50, 64)])
    Z = scaler.transform(raw)
    expected = _raw_forward(Z)
    # float32 weights: Keras computes in float32, the predictor and the hand pass in float64
    np.testing.assert_allclose(np.asarray(model(Z.astype("float32"))), expected, atol=1e-4)
    np.testing.assert_allclose(keras_predictor(model)(Z), expected, atol=1e-9)


def test_moments_are_the_generators_analytic_moments():
    t = np.linspace(0, 50, 500, endpoint=False)
    np.testing.assert_allclose(MOMENTS["mean"][2], t.mean(), rtol=1e-12)
    np.testing.assert_allclose(MOMENTS["scale"][2], t.std(), rtol=1e-12)
    u = np.linspace(-1, 1, 2_000_001)  # a fine grid stands in for U[-1, 1]
    np.testing.assert_allclose(MOMENTS["scale"][1], u.std(), rtol=1e-5)
    np.testing.assert_allclose(MOMENTS["scale"][0], (2 * u).std(), rtol=1e-5)


@needs_fixture
@pytest.mark.parametrize(
    ("architecture", "message"),
    [
        (
            {**NOTEBOOK, "depth": 7},
            r"layer_with_weights-7/kernel.*\(200, 200\).*expects \(200, 32\)",
        ),
        (
            {**NOTEBOOK, "width": 100},
            r"layer_with_weights-0/kernel.*\(3, 200\).*expects \(3, 100\)",
        ),
        (
            {**NOTEBOOK, "head_activations": ["relu", "relu", "sigmoid"]},
            r"layer_with_weights-11/kernel.*\(32, 32\).*expects \(32, 2\)",
        ),
        (
            {**NOTEBOOK, "depth": 9},
            r"layer_with_weights-8/kernel.*\(200, 32\).*expects \(200, 200\)",
        ),
    ],
)
def test_a_mismatched_architecture_is_refused_naming_file_and_variable(
    tmp_path, architecture, message
):
    with pytest.raises(InputError, match=r"trainingmac_lotscp1\.ckpt: variable " + message):
        import_surrogate.main(
            PREFIX,
            tmp_path / "m.keras",
            tmp_path / "s.json",
            architecture=architecture,
            scaler=MOMENTS,
        )
    assert not list(tmp_path.iterdir())


def _write_checkpoint(path, shapes):
    """A TF2 checkpoint with variables layer_with_weights-<i>/<name> of the given shapes."""
    import tensorflow as tf

    layers = {}
    for i, pair in enumerate(shapes):
        layers[f"layer_with_weights-{i}"] = layer = tf.Module()
        for name, shape in pair.items():
            setattr(layer, name, tf.Variable(np.zeros(shape, "float32")))
    return tf.train.Checkpoint(**layers).write(str(path))


ARCH = {"width": 4, "depth": 1, "head_width": 2, "head_activations": ["tanh"]}
FITTING = [
    {"kernel": (3, 4), "bias": (4,)},
    {"kernel": (4, 2), "bias": (2,)},
    {"kernel": (2, 2), "bias": (2,)},
]


def test_a_fitting_synthetic_checkpoint_imports_its_values(tmp_path):
    weights = read_checkpoint_weights(_write_checkpoint(tmp_path / "w.ckpt", FITTING), **ARCH)
    assert [(k.shape, b.shape) for k, b in weights] == [
        ((3, 4), (4,)),
        ((4, 2), (2,)),
        ((2, 2), (2,)),
    ]


def test_a_checkpoint_with_an_extra_layer_is_refused(tmp_path):
    extra = [*FITTING, {"kernel": (2, 2), "bias": (2,)}]
    with pytest.raises(
        InputError, match=r"w\.ckpt: variable layer_with_weights-3/kernel.*more layers"
    ):
        read_checkpoint_weights(_write_checkpoint(tmp_path / "w.ckpt", extra), **ARCH)


def test_a_checkpoint_missing_a_variable_is_refused(tmp_path):
    prefix = _write_checkpoint(tmp_path / "ck" / "w.ckpt", [{"kernel": (3, 4)}])  # no bias
    arch = ARCH
    with pytest.raises(InputError, match=r"w\.ckpt: variable layer_with_weights-0/bias.* missing"):
        read_checkpoint_weights(prefix, **arch)
    with pytest.raises(InputError, match=r"nope\.ckpt\.index"):
        read_checkpoint_weights(tmp_path / "nope.ckpt", **arch)
