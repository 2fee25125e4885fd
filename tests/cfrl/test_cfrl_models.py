"""Networks and weight files of the counterfactual study (fast: tiny Keras/torch models)."""

import numpy as np
import pytest

from xai_repro.cfrl.metrics import mean_image_error
from xai_repro.cfrl.models import (
    build_classifier,
    build_keras_autoencoder,
    build_torch_autoencoder,
    keras_predictor,
    load_autoencoder,
    load_classifier,
    load_weights,
    reconstruct,
    save_weights,
    set_keras_weights,
)
from xai_repro.cfrl.training import AutoencoderError, check_beats_mean_image
from xai_repro.common import InputError

keras = pytest.importorskip("keras")


@pytest.mark.parametrize("size", [8, 28])
def test_classifier_maps_images_to_ten_logits(size):
    model = build_classifier(keras, size)
    out = np.asarray(model(np.zeros((3, size, size, 1), np.float32), training=False))
    assert out.shape == (3, 10)
    probs = build_classifier(keras, size, probabilities=True)
    # the softmax head adds no weights, so the same weight list fits both
    assert [w.shape for w in probs.get_weights()] == [w.shape for w in model.get_weights()]


def test_mnist_classifier_has_the_seed_shape():
    model = build_classifier(keras, 28)
    shapes = [tuple(w.shape) for w in model.get_weights()]
    # alibi MNISTClassifier: Conv2D(64, 2), Conv2D(32, 2), Dense(256), Dense(10)
    assert shapes == [
        (2, 2, 1, 64),
        (64,),
        (2, 2, 64, 32),
        (32,),
        (1568, 256),
        (256,),
        (256, 10),
        (10,),
    ]


@pytest.mark.parametrize(("size", "latent"), [(8, 4), (28, 64)])
def test_keras_autoencoder_shapes_and_ranges(size, latent):
    encoder, decoder = build_keras_autoencoder(keras, size, latent, hidden_dim=16)
    x = np.random.default_rng(0).random((5, size, size, 1)).astype(np.float32)
    z = np.asarray(encoder(x))
    assert z.shape == (5, latent) and np.abs(z).max() <= 1  # tanh latent: the actor's range
    x_rec = reconstruct(encoder, decoder, x, backend="tensorflow", batch_size=2)
    assert x_rec.shape == x.shape and x_rec.min() >= 0 and x_rec.max() <= 1


def test_torch_autoencoder_is_nhwc():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    encoder, decoder = build_torch_autoencoder(8, 4, 16)
    x = np.random.default_rng(0).random((5, 8, 8, 1)).astype(np.float32)
    x_rec = reconstruct(encoder, decoder, x, backend="pytorch", batch_size=3)
    assert x_rec.shape == x.shape
    whole = reconstruct(encoder, decoder, x, backend="pytorch", batch_size=100)
    np.testing.assert_allclose(x_rec, whole, atol=1e-6)  # batched equals unbatched


@pytest.mark.parametrize(("size", "latent"), [(8, 4), (28, 64)])
def test_torch_autoencoder_starts_as_keras_would(size, latent):
    """Glorot-uniform weights and zero biases (Keras' defaults), not PyTorch's."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    layers = [
        m
        for part in build_torch_autoencoder(size, latent, 16)
        for m in part.modules()
        if isinstance(m, torch.nn.Linear | torch.nn.Conv2d)
    ]
    assert len(layers) == (4 if size == 8 else 9)  # alibi: 3 conv + dense; dense + 4 conv
    for layer in layers:
        w = layer.weight.detach()
        receptive = w[0, 0].numel() if w.ndim == 4 else 1
        fan_in, fan_out = w.shape[1] * receptive, w.shape[0] * receptive
        bound = float(np.sqrt(6.0 / (fan_in + fan_out)))
        assert torch.all(layer.bias == 0)
        assert w.abs().max() <= bound
        if w.numel() >= 500:  # the uniform's standard deviation, bound / sqrt(3), within 10 %
            assert abs(float(w.std()) / (bound / np.sqrt(3)) - 1) < 0.1


def test_mean_image_error_known_answer():
    x_train = np.array([[[0.0]], [[2.0]]])  # mean image 1
    x = np.array([[[1.0]], [[3.0]]])
    np.testing.assert_allclose(mean_image_error(x_train, x), [0.0, 4.0])


def test_an_autoencoder_that_returns_the_mean_image_is_refused():
    rng = np.random.default_rng(0)
    x_train, x_val = rng.random((50, 8, 8, 1)), rng.random((20, 8, 8, 1))
    mean_mse = float(mean_image_error(x_train, x_val).mean())
    stalled = np.broadcast_to(x_train.mean(axis=0), x_val.shape)  # ignores its input
    stalled_mse = float(np.mean((x_val - stalled) ** 2))
    with pytest.raises(AutoencoderError, match=r"val.npz.*1\.000 of the training mean image"):
        check_beats_mean_image(stalled_mse, mean_mse, max_ratio=0.9, source="val.npz")
    # a reconstruction half-way between the mean image and the input leaves 1/4 of the error
    half = 0.5 * (stalled + x_val)
    half_mse = float(np.mean((x_val - half) ** 2))
    ratio = check_beats_mean_image(half_mse, mean_mse, max_ratio=0.9, source="val.npz")
    assert ratio == pytest.approx(0.25, rel=1e-9)
    assert check_beats_mean_image(stalled_mse, mean_mse, max_ratio=None, source="") > 0.9
    with pytest.raises(AutoencoderError):  # a diverged (NaN) loss fails the check too
        check_beats_mean_image(float("nan"), mean_mse, max_ratio=0.9, source="val.npz")


def test_weights_roundtrip_gives_the_same_predictions(tmp_path):
    keras.utils.set_random_seed(0)
    model = build_classifier(keras, 8)
    path = tmp_path / "classifier.npz"
    save_weights(path, model.get_weights())
    again = load_classifier(path, 8)
    x = np.random.default_rng(1).random((4, 8, 8, 1)).astype(np.float32)
    np.testing.assert_allclose(keras_predictor(model)(x), keras_predictor(again)(x), atol=1e-6)
    # the predictor gives the same answer in small batches
    np.testing.assert_allclose(
        keras_predictor(again, batch_size=3)(x), keras_predictor(again)(x), atol=1e-6
    )


def test_weights_for_another_network_are_refused_naming_the_file(tmp_path):
    path = tmp_path / "classifier.npz"
    save_weights(path, build_classifier(keras, 8).get_weights())
    with pytest.raises(InputError, match="classifier.npz.*do not fit"):
        load_classifier(path, 28)


@pytest.mark.parametrize("content", [b"", b"not a zip file at all"])
def test_garbage_weights_are_refused_naming_the_file(tmp_path, content):
    path = tmp_path / "actor.npz"
    path.write_bytes(content)
    with pytest.raises(InputError, match="actor.npz"):
        load_weights(path)
    with pytest.raises(InputError, match="missing.npz"):
        load_weights(tmp_path / "missing.npz")


def test_set_keras_weights_checks_count(tmp_path):
    model = build_classifier(keras, 8)
    with pytest.raises(InputError, match="w.npz"):
        set_keras_weights(model, model.get_weights()[:-1], tmp_path / "w.npz")


def test_autoencoder_checkpoints_load_and_bad_ones_are_refused(tmp_path):
    torch = pytest.importorskip("torch")
    encoder, decoder = build_torch_autoencoder(8, 4, 16)
    good = tmp_path / "autoencoder.pt"
    torch.save(torch.nn.ModuleDict({"encoder": encoder, "decoder": decoder}).state_dict(), good)
    enc2, _ = load_autoencoder(
        good, backend="pytorch", image_size=8, autoencoder={"latent_dim": 4, "hidden_dim": 16}
    )
    x = torch.rand(2, 8, 8, 1)
    torch.testing.assert_close(enc2(x), encoder(x))
    with pytest.raises(InputError, match="autoencoder.pt.*do not fit"):
        load_autoencoder(
            good, backend="pytorch", image_size=8, autoencoder={"latent_dim": 5, "hidden_dim": 16}
        )
    bad = tmp_path / "truncated.pt"
    bad.write_bytes(good.read_bytes()[:100])
    with pytest.raises(InputError, match="truncated.pt"):
        load_autoencoder(
            bad, backend="pytorch", image_size=8, autoencoder={"latent_dim": 4, "hidden_dim": 16}
        )
    tf_weights = tmp_path / "autoencoder.npz"
    e, d = build_keras_autoencoder(keras, 8, 4, 16)
    save_weights(tf_weights, [*e.get_weights(), *d.get_weights()])
    load_autoencoder(
        tf_weights,
        backend="tensorflow",
        image_size=8,
        autoencoder={"latent_dim": 4, "hidden_dim": 16},
    )
    with pytest.raises(InputError, match="autoencoder.npz"):
        load_autoencoder(
            tf_weights,
            backend="tensorflow",
            image_size=8,
            autoencoder={"latent_dim": 4, "hidden_dim": 32},
        )
