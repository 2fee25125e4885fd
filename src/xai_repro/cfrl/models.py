"""Networks of the counterfactual study, and their weight files.

28x28 inputs (MNIST) get the seed's networks: alibi's ``MNISTClassifier`` (2 conv blocks,
Dense(256), logits) and ``MNISTEncoder``/``MNISTDecoder`` (3 conv blocks to a tanh latent,
and back). 8x8 inputs (digits) get the same classifier shape sized down and a dense
autoencoder. The Keras builders take the ``keras`` module as an argument, so the same
architecture is built with Keras 3 (classifier, TF backend of CFRL) and with tf-keras
(the TF1 graph-mode baseline), and weights move between them as a list of arrays.

Images are NHWC (n, H, W, 1) everywhere; the PyTorch autoencoder permutes internally.
"""

from pathlib import Path

import numpy as np

from xai_repro.common import InputError

N_CLASSES = 10


def build_classifier(keras, image_size: int, *, probabilities: bool = False):
    """Classifier of (n, S, S, 1) images in [0, 1] -> (n, 10) logits (or softmax)."""
    layers = keras.layers
    if image_size == 28:  # alibi.models.tensorflow.MNISTClassifier, layer by layer
        body = [
            layers.Conv2D(64, 2, padding="same", activation="relu"),
            layers.MaxPool2D(pool_size=2, strides=2),
            layers.Dropout(0.3),
            layers.Conv2D(32, 2, padding="same", activation="relu"),
            layers.MaxPool2D(pool_size=2, strides=2),
            layers.Dropout(0.3),
            layers.Flatten(),
            layers.Dense(256, activation="relu"),
        ]
    else:  # the same shape, sized down for 8x8 digits
        body = [
            layers.Conv2D(32, 2, padding="same", activation="relu"),
            layers.MaxPool2D(pool_size=2, strides=2),
            layers.Dropout(0.3),
            layers.Conv2D(16, 2, padding="same", activation="relu"),
            layers.MaxPool2D(pool_size=2, strides=2),
            layers.Dropout(0.3),
            layers.Flatten(),
            layers.Dense(64, activation="relu"),
        ]
    head = [layers.Dense(N_CLASSES)]
    if probabilities:
        head.append(layers.Softmax())
    return keras.Sequential([keras.Input((image_size, image_size, 1)), *body, *head])


def build_keras_autoencoder(keras, image_size: int, latent_dim: int, hidden_dim: int):
    """(encoder, decoder): images (n, S, S, 1) -> tanh latent (n, latent_dim) -> images in [0, 1]."""
    layers = keras.layers
    if image_size == 28:  # alibi.models.tensorflow.MNISTEncoder / MNISTDecoder
        encoder = keras.Sequential(
            [
                keras.Input((28, 28, 1)),
                layers.Conv2D(16, 3, padding="same", activation="relu"),
                layers.MaxPool2D(pool_size=2, strides=2),
                layers.Conv2D(8, 3, padding="same", activation="relu"),
                layers.MaxPool2D(pool_size=2, strides=2),
                layers.Conv2D(8, 3, padding="same", activation="relu"),
                layers.MaxPool2D(pool_size=2, strides=2),
                layers.Flatten(),
                layers.Dense(latent_dim, activation="tanh"),
            ]
        )
        decoder = keras.Sequential(
            [
                keras.Input((latent_dim,)),
                layers.Dense(128, activation="relu"),
                layers.Reshape((4, 4, 8)),
                layers.Conv2D(8, 3, padding="same", activation="relu"),
                layers.UpSampling2D(2),
                layers.Conv2D(8, 3, padding="same", activation="relu"),
                layers.UpSampling2D(2),
                layers.Conv2D(8, 3, padding="valid", activation="relu"),
                layers.UpSampling2D(2),
                layers.Conv2D(1, 3, padding="same", activation="sigmoid"),
            ]
        )
    else:
        pixels = image_size * image_size
        encoder = keras.Sequential(
            [
                keras.Input((image_size, image_size, 1)),
                layers.Flatten(),
                layers.Dense(hidden_dim, activation="relu"),
                layers.Dense(latent_dim, activation="tanh"),
            ]
        )
        decoder = keras.Sequential(
            [
                keras.Input((latent_dim,)),
                layers.Dense(hidden_dim, activation="relu"),
                layers.Dense(pixels, activation="sigmoid"),
                layers.Reshape((image_size, image_size, 1)),
            ]
        )
    return encoder, decoder


def build_torch_autoencoder(image_size: int, latent_dim: int, hidden_dim: int):
    """PyTorch twin of ``build_keras_autoencoder`` (NHWC in and out)."""
    from torch import nn

    class _NHWC(nn.Module):
        """Wrap an NCHW module so it takes or returns NHWC tensors."""

        def __init__(self, module, *, permute_in: bool):
            super().__init__()
            self.module = module
            self.permute_in = permute_in

        def forward(self, x):
            if self.permute_in:
                return self.module(x.permute(0, 3, 1, 2))
            return self.module(x).permute(0, 2, 3, 1)

    if image_size == 28:
        from alibi.models.pytorch import MNISTDecoder, MNISTEncoder

        return (
            _NHWC(MNISTEncoder(latent_dim=latent_dim), permute_in=True),
            _NHWC(MNISTDecoder(latent_dim=latent_dim), permute_in=False),
        )
    pixels = image_size * image_size
    encoder = nn.Sequential(
        nn.Flatten(),
        nn.Linear(pixels, hidden_dim),
        nn.ReLU(),
        nn.Linear(hidden_dim, latent_dim),
        nn.Tanh(),
    )
    decoder = nn.Sequential(
        nn.Linear(latent_dim, hidden_dim),
        nn.ReLU(),
        nn.Linear(hidden_dim, pixels),
        nn.Sigmoid(),
        nn.Unflatten(1, (image_size, image_size, 1)),
    )
    return encoder, decoder


def save_weights(path, arrays: list) -> None:
    """Write a list of weight arrays (``model.get_weights()``) as npz, atomically."""
    from xai_repro.common import atomic_output

    with atomic_output(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **{f"w{i:03d}": np.asarray(a) for i, a in enumerate(arrays)})


def load_weights(path) -> list:
    """Read a weight list written by ``save_weights`` (no pickles)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: weights file not found")
    try:
        with np.load(path, allow_pickle=False) as data:
            return [data[k] for k in sorted(data.files)]
    except (OSError, ValueError, EOFError) as err:
        raise InputError(f"{path}: not a readable weights npz ({err})") from err


def set_keras_weights(model, arrays: list, path) -> None:
    """``model.set_weights(arrays)``, with an InputError naming ``path`` on any mismatch."""
    expected = [tuple(w.shape) for w in model.get_weights()]
    found = [tuple(a.shape) for a in arrays]
    if expected != found:
        raise InputError(
            f"{path}: weights do not fit the network built from the config "
            f"(expected shapes {expected}, found {found})"
        )
    model.set_weights(arrays)


def load_torch_state(module, path) -> None:
    """Load a weights-only torch checkpoint into ``module``; mismatches name ``path``."""
    from xai_repro.common import torch_load_checked

    state = torch_load_checked(path)
    if not isinstance(state, dict):
        raise InputError(f"{path}: expected a state_dict, found {type(state).__name__}")
    try:
        module.load_state_dict(state)
    except RuntimeError as err:
        raise InputError(f"{path}: weights do not fit the network ({err})") from err


def load_autoencoder(path, *, backend: str, image_size: int, latent_dim: int, hidden_dim: int):
    """Rebuild the autoencoder of ``backend`` and load its weights: (encoder, decoder)."""
    if backend == "tensorflow":
        import keras

        encoder, decoder = build_keras_autoencoder(keras, image_size, latent_dim, hidden_dim)
        arrays = load_weights(path)
        n_enc = len(encoder.get_weights())
        set_keras_weights(encoder, arrays[:n_enc], path)
        set_keras_weights(decoder, arrays[n_enc:], path)
        return encoder, decoder
    import torch

    encoder, decoder = build_torch_autoencoder(image_size, latent_dim, hidden_dim)
    load_torch_state(torch.nn.ModuleDict({"encoder": encoder, "decoder": decoder}), path)
    encoder.eval()
    decoder.eval()
    return encoder, decoder


def keras_predictor(model, batch_size: int = 1024):
    """A numpy -> numpy black-box predictor around a Keras model (inference mode)."""

    def predict(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        if len(x) <= batch_size:
            return np.asarray(model(x, training=False))
        return np.concatenate(
            [
                np.asarray(model(x[i : i + batch_size], training=False))
                for i in range(0, len(x), batch_size)
            ]
        )

    return predict


def load_classifier(path, image_size: int):
    """Rebuild the Keras 3 classifier and load its weights."""
    import keras

    model = build_classifier(keras, image_size)
    set_keras_weights(model, load_weights(path), path)
    return model


def load_predictor_and_autoencoder(
    classifier_path, autoencoder_path, *, image_size: int, autoencoder: dict, backend: str
):
    """The classifier as a batch predictor, and the autoencoder's (encoder, decoder)."""
    predictor = keras_predictor(load_classifier(classifier_path, image_size))
    encoder, decoder = load_autoencoder(
        autoencoder_path,
        backend=backend,
        image_size=image_size,
        latent_dim=autoencoder["latent_dim"],
        hidden_dim=autoencoder["hidden_dim"],
    )
    return predictor, encoder, decoder


def reconstruct(encoder, decoder, x: np.ndarray, *, backend: str, batch_size: int = 1024):
    """Autoencoder reconstructions of images ``x`` (n, S, S, 1), as numpy."""
    outs = []
    for i in range(0, len(x), batch_size):
        chunk = np.asarray(x[i : i + batch_size], dtype=np.float32)
        if backend == "tensorflow":
            outs.append(np.asarray(decoder(encoder(chunk, training=False), training=False)))
        else:
            import torch

            with torch.no_grad():
                outs.append(decoder(encoder(torch.from_numpy(chunk))).numpy())
    return np.concatenate(outs)
