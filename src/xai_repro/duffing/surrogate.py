"""The Keras MLP surrogate of the Duffing study (build, load, predict).

Seed architecture: Flatten, 8 x Dense(200, relu), Dense(32) with relu, relu, sigmoid,
tanh, Dense(2); Adam(learning_rate=1e-3, beta_1=0.7) on MSE.
Used by the rules train_surrogate, evaluate_surrogate and attribute_duffing.
"""

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from xai_repro.common import InputError


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
