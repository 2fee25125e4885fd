"""Networks and weight files of the counterfactual study (fast: tiny Keras/torch models)."""

import numpy as np
import pytest

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
