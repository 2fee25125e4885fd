"""The Keras MLP surrogate of the Duffing study (build, load, predict).

Seed architecture: Flatten, 8 x Dense(200, relu), Dense(32) with relu, relu, sigmoid,
tanh, Dense(2); Adam(learning_rate=1e-3, beta_1=0.7) on MSE.
Used by the rules train_surrogate, evaluate_surrogate and attribute_duffing.
"""

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from _helpers import InputError


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


def keras_predictor(model, batch_size: int = 65536):
    """A numpy predict function (n, 3) -> (n, 2) that avoids model.predict's overhead."""

    def predict(Z):
        Z = np.asarray(Z, dtype=np.float32)
        parts = [
            np.asarray(model(Z[i : i + batch_size], training=False))
            for i in range(0, len(Z), batch_size)
        ]
        return np.concatenate(parts).astype(np.float64) if parts else np.empty((0, 2))

    return predict
