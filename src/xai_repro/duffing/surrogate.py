"""The Keras MLP surrogate of the Duffing study (build, load, predict).

Seed architecture: Flatten, 8 x Dense(200, relu), Dense(32) with relu, relu, sigmoid,
tanh, Dense(2); Adam(learning_rate=1e-3, beta_1=0.7) on MSE.
``train_surrogate`` fits it with the notebook's early stopping.
Used by the rules train_surrogate, import_surrogate, evaluate_surrogate and attribute_duffing.
"""

import logging
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from xai_repro.common import InputError, seed_everything

log = logging.getLogger(__name__)


def build_surrogate(
    n_inputs: int = 3,
    n_outputs: int = 2,
    *,
    width: int = 200,
    depth: int = 8,
    head_width: int = 32,
    head_activations: Sequence[str] = ("relu", "relu", "sigmoid", "tanh"),
    learning_rate: float = 1e-3,
    beta_1: float = 0.7,
):
    """A compiled Keras Sequential MLP: inputs (n, n_inputs) -> outputs (n, n_outputs)."""
    import keras

    layers = [keras.Input((n_inputs,)), keras.layers.Flatten()]
    layers += [keras.layers.Dense(width, activation="relu") for _ in range(depth)]
    layers += [keras.layers.Dense(head_width, activation=a) for a in head_activations]
    layers += [keras.layers.Dense(n_outputs)]
    model = keras.Sequential(layers, name="duffing_surrogate")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate, beta_1=beta_1), loss="mse"
    )
    return model


def load_surrogate(path):
    """Load a saved surrogate (.keras); a missing or foreign file raises InputError."""
    import keras

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: surrogate model file not found")
    try:
        # safe_mode (the default) refuses to deserialize arbitrary code (Lambda layers)
        model = keras.models.load_model(path, compile=False, safe_mode=True)
    except Exception as err:  # keras raises ValueError, OSError, zipfile errors...
        raise InputError(f"{path}: not a Keras model file ({type(err).__name__}: {err})") from err
    if len(model.inputs) != 1 or model.inputs[0].shape[-1] != 3 or model.outputs[0].shape[-1] != 2:
        raise InputError(f"{path}: expected a model mapping 3 features to 2 outputs")
    return model


def _checkpoint_key(layer: int, name: str) -> str:
    return f"layer_with_weights-{layer}/{name}/.ATTRIBUTES/VARIABLE_VALUE"


def expected_shapes(
    n_inputs: int = 3,
    n_outputs: int = 2,
    *,
    width: int = 200,
    depth: int = 8,
    head_width: int = 32,
    head_activations: Sequence[str] = ("relu", "relu", "sigmoid", "tanh"),
) -> list[tuple[tuple[int, int], tuple[int]]]:
    """(kernel shape, bias shape) of every Dense layer of build_surrogate's MLP, in order."""
    sizes = [n_inputs] + [width] * depth + [head_width] * len(head_activations) + [n_outputs]
    return [((a, b), (b,)) for a, b in zip(sizes[:-1], sizes[1:])]


def read_checkpoint_weights(prefix, **architecture) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (kernel, bias) of every Dense layer from a Keras TF2 weights checkpoint.

    ``prefix`` is the checkpoint's prefix (``…/trainingmac_lotscp1.ckpt``, beside its
    ``.index`` and ``.data-*`` files), as Keras 2's ``ModelCheckpoint(save_weights_only=True)``
    wrote it: variables ``layer_with_weights-<i>/{kernel,bias}``. ``architecture`` is
    build_surrogate's keywords; every variable must exist with the shape that architecture
    gives, and no further layer may follow, else InputError names the file and the variable.
    """
    import tensorflow as tf

    prefix = Path(prefix)
    if not Path(f"{prefix}.index").is_file():
        raise InputError(f"{prefix}.index: checkpoint index not found")
    try:
        reader = tf.train.load_checkpoint(str(prefix))
    except Exception as err:  # tf raises DataLossError, NotFoundError, ...
        raise InputError(f"{prefix}: not a TF2 checkpoint ({type(err).__name__}: {err})") from err
    shapes = reader.get_variable_to_shape_map()
    layers = []
    for i, expected in enumerate(expected_shapes(**architecture)):
        pair = []
        for name, shape in zip(("kernel", "bias"), expected):
            key = _checkpoint_key(i, name)
            if key not in shapes:
                raise InputError(
                    f"{prefix}: variable {key} is missing (the architecture has "
                    f"{len(expected_shapes(**architecture))} Dense layers)"
                )
            if tuple(shapes[key]) != shape:
                raise InputError(
                    f"{prefix}: variable {key} has shape {tuple(shapes[key])}, "
                    f"the architecture expects {shape}"
                )
            pair.append(np.asarray(reader.get_tensor(key)))
        layers.append(tuple(pair))
    extra = _checkpoint_key(len(layers), "kernel")
    if extra in shapes:
        raise InputError(
            f"{prefix}: variable {extra} follows the architecture's last Dense layer "
            f"(the checkpoint holds more layers than the {len(layers)} expected)"
        )
    return layers


def import_checkpoint(prefix, **architecture):
    """A build_surrogate model carrying the weights of a TF2 checkpoint (read_checkpoint_weights)."""
    weights = read_checkpoint_weights(prefix, **architecture)
    model = build_surrogate(**architecture)
    dense = [layer for layer in model.layers if type(layer).__name__ == "Dense"]
    for layer, (kernel, bias) in zip(dense, weights, strict=True):
        layer.set_weights([kernel, bias])
    return model


_ACTIVATIONS = {
    "relu": lambda a: np.maximum(a, 0.0),
    "sigmoid": lambda a: 0.5 * (1.0 + np.tanh(0.5 * a)),  # overflow-free logistic
    "tanh": np.tanh,
    "elu": lambda a: np.where(a > 0, a, np.expm1(np.minimum(a, 0.0))),
    "linear": lambda a: a,
}


def dense_stack(model) -> list[tuple[np.ndarray, np.ndarray, str]]:
    """The (kernel, bias, activation) of every Dense layer of a Sequential MLP."""
    import keras

    stack = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.Dense):
            kernel, bias = (np.asarray(w, dtype=np.float64) for w in layer.get_weights())
            name = keras.activations.serialize(layer.activation)
            name = name if isinstance(name, str) else name.get("config", {}).get("name", name)
            if name not in _ACTIVATIONS:
                raise InputError(f"layer {layer.name}: unsupported activation {name!r}")
            stack.append((kernel, bias, name))
        elif not isinstance(layer, (keras.layers.Flatten, keras.layers.InputLayer)):
            raise InputError(f"layer {layer.name}: only Dense and Flatten layers are supported")
    return stack


def keras_predictor(model):
    """A numpy predict function (n, 3) -> (n, 2) equal to ``model(x)``.

    The explainers call the model thousands of times on small batches; a NumPy forward
    pass over the Dense weights avoids TensorFlow's per-call overhead (exact Shapley
    values on 30 points: 20 s through Keras). Tested equal to the Keras model.
    """
    stack = dense_stack(model)

    def predict(Z):
        a = np.asarray(Z, dtype=np.float64).reshape(len(Z), -1)
        for kernel, bias, activation in stack:
            a = _ACTIVATIONS[activation](a @ kernel + bias)
        return a

    return predict


def _progress_callback(epochs: int, every: int = 10):
    import keras

    class Progress(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            done = epoch + 1
            if done % every == 0 or done == 1:
                rate = done / (time.perf_counter() - self.start)
                log.info(
                    "epoch %d/%d loss %.3g val_loss %.3g (%.2f epochs/s, ETA %.0f s at most)",
                    done,
                    epochs,
                    logs["loss"],
                    logs["val_loss"],
                    rate,
                    (epochs - done) / rate,
                )

    return Progress()


def train_surrogate(Z, y, *, surrogate: dict, seed: int, verbose: int = 0):
    """Build and fit the surrogate on scaled inputs ``Z`` (n, 3) and targets ``y`` (n, 2).

    Returns (model, history DataFrame with epoch, loss, val_loss).
    """
    import keras

    seed_everything(seed)
    params = {k: surrogate[k] for k in ("width", "depth", "head_width", "head_activations")}
    model = build_surrogate(
        Z.shape[1],
        y.shape[1],
        learning_rate=surrogate["learning_rate"],
        beta_1=surrogate["beta_1"],
        **params,
    )
    callbacks = [
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=surrogate["patience"]),
        keras.callbacks.EarlyStopping(monitor="loss", patience=surrogate["patience"]),
        _progress_callback(surrogate["epochs"]),
    ]
    history = model.fit(
        Z.astype(np.float32),
        y.astype(np.float32),
        epochs=surrogate["epochs"],
        batch_size=surrogate["batch_size"],
        validation_split=surrogate["validation_split"],
        shuffle=True,
        callbacks=callbacks,
        verbose=verbose,
    )
    frame = pd.DataFrame(history.history)
    frame.insert(0, "epoch", np.arange(1, len(frame) + 1))
    return model, frame[["epoch", "loss", "val_loss"]]
