"""Networks of the counterfactual study, and their weight files.

28x28 inputs (MNIST) get the seed's networks: alibi's ``MNISTClassifier`` (2 conv blocks,
Dense(256), logits) and ``MNISTEncoder``/``MNISTDecoder`` (3 conv blocks to a tanh latent,
and back). 8x8 inputs (digits) get the same classifier shape sized down and a dense
autoencoder. The Keras builders take the ``keras`` module as an argument, so the same
architecture is built with Keras 3 (classifier, TF backend of CFRL) and with tf-keras
(the TF1 graph-mode baseline), and weights move between them as a list of arrays.

Images are NHWC (n, H, W, 1) everywhere; the PyTorch autoencoder permutes internally
and is initialised as Keras initialises its twin.
"""

import numpy as np

from xai_repro.common import InputError, read_npz, write_npz

N_CLASSES = 10


def build_classifier(keras, image_size: int, *, probabilities: bool = False):
    """Classifier of (n, S, S, 1) images in [0, 1] -> (n, 10) logits (or softmax)."""
    layers = keras.layers
    # alibi.models.tensorflow.MNISTClassifier for 28x28, the same shape sized down for 8x8
    conv1, conv2, dense = (64, 32, 256) if image_size == 28 else (32, 16, 64)
    body = [
        layers.Conv2D(conv1, 2, padding="same", activation="relu"),
        layers.MaxPool2D(pool_size=2, strides=2),
        layers.Dropout(0.3),
        layers.Conv2D(conv2, 2, padding="same", activation="relu"),
        layers.MaxPool2D(pool_size=2, strides=2),
        layers.Dropout(0.3),
        layers.Flatten(),
        layers.Dense(dense, activation="relu"),
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


def init_like_keras(*modules) -> None:
    """Keras' default initialisation of every Linear and Conv2d layer of ``modules``:
    Glorot-uniform weights, zero biases. With PyTorch's defaults the MNIST decoder's output
    hardly depends on the image at first, and training can stall at the mean image."""
    from torch import nn

    for layer in (layer for module in modules for layer in module.modules()):
        if isinstance(layer, nn.Linear | nn.Conv2d):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)


def build_torch_autoencoder(image_size: int, latent_dim: int, hidden_dim: int):
    """PyTorch twin of ``build_keras_autoencoder`` (NHWC in and out), initialised as
    Keras initialises it (``init_like_keras``)."""
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

        encoder = _NHWC(MNISTEncoder(latent_dim=latent_dim), permute_in=True)
        decoder = _NHWC(MNISTDecoder(latent_dim=latent_dim), permute_in=False)
    else:
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
    init_like_keras(encoder, decoder)
    return encoder, decoder


def fit_torch_autoencoder(
    model,
    x,
    *,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    seed: int,
    on_epoch=None,
    device: str = "cpu",
) -> list:
    """Train a PyTorch autoencoder (images NHWC -> images) with binary cross-entropy.

    Minibatches are reshuffled every epoch by a generator seeded with ``seed``;
    ``on_epoch(epoch, loss)`` is called after each epoch. Returns the mean loss per epoch.
    Batches and model live on ``device`` while training; the model comes back on the CPU.
    """
    import torch

    model.to(device)
    data = torch.from_numpy(np.asarray(x, dtype=np.float32))
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    loss_fn = torch.nn.BCELoss()
    generator = torch.Generator().manual_seed(seed)
    losses = []
    for epoch in range(epochs):
        order = torch.randperm(len(data), generator=generator)
        total = 0.0
        for i in range(0, len(data), batch_size):
            batch = data[order[i : i + batch_size]].to(device)
            optimizer.zero_grad()
            loss = loss_fn(model(batch), batch)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        losses.append(total / len(data))
        if on_epoch is not None:
            on_epoch(epoch, losses[-1])
    model.eval()
    model.cpu()
    return losses


def save_weights(path, arrays: list) -> None:
    """Write a list of weight arrays (``model.get_weights()``) as npz, atomically."""
    write_npz(path, compressed=False, **{f"w{i:03d}": np.asarray(a) for i, a in enumerate(arrays)})


def load_weights(path) -> list:
    """Read a weight list written by ``save_weights`` (no pickles)."""
    data = read_npz(path)
    return [data[k] for k in sorted(data)]


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


def load_autoencoder(path, *, backend: str, image_size: int, autoencoder: dict):
    """Rebuild the autoencoder of ``backend`` (config ``cfrl.autoencoder``) and load its
    weights: (encoder, decoder)."""
    latent_dim, hidden_dim = autoencoder["latent_dim"], autoencoder["hidden_dim"]
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
        autoencoder_path, backend=backend, image_size=image_size, autoencoder=autoencoder
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
