"""Reading and writing the diffig study's models and episodes (checked, atomic).

Models are torch state_dicts in the MMN code base's key format (gru_net.*, obx_net.*,
bhx_net.* for a whole MMN), so pretrained files of the seed's users load as they are.
"""

import numpy as np
import torch

from xai_repro.common import InputError, atomic_output, torch_load_checked
from xai_repro.diffig.networks import QBN, GRUNet, MMNet
from xai_repro.diffig.rollouts import CARTPOLE, Task, make_env, run_episode


def save_state(module: torch.nn.Module, path) -> None:
    with atomic_output(path) as tmp:
        torch.save(module.state_dict(), tmp)


def _state_dict(path):
    state = torch_load_checked(path, map_location="cpu")
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise InputError(f"{path}: not a state_dict (a mapping of names to tensors)")
    return state


def load_gru(path, task: Task = CARTPOLE) -> GRUNet:
    """A GRU policy state_dict (the MMN code base's ``gru_32/model.p`` keys), loaded strictly."""
    net = task.make_gru()
    try:
        net.load_state_dict(task.gru_state(_state_dict(path)))
    except (RuntimeError, ValueError) as err:
        raise InputError(
            f"{path}: not a {task.name} GRU policy state_dict ({str(err).splitlines()[0]})"
        ) from err
    return net.eval()


def load_qbn(path, out_activation: str) -> QBN:
    """A QBN state_dict; its input size, code size and hidden widths come from its shapes."""
    state = _state_dict(path)
    try:
        weights = [state[f"encoder.{2 * i}.weight"] for i in range(len(state) // 4)]
        code = weights[-1].shape[0]
        widths = tuple(w.shape[0] // code for w in weights[:-1])
        qbn = QBN(weights[0].shape[1], code, out_activation, widths=widths)
        qbn.load_state_dict(state)
    except (KeyError, RuntimeError, IndexError) as err:
        raise InputError(f"{path}: not a QBN state_dict ({str(err).splitlines()[0]})") from err
    return qbn


def load_mmn(path, *, from_state_dict=None, what: str = "MMN", task: Task = CARTPOLE) -> MMNet:
    """An MMN from a state_dict with keys gru_net.*, obx_net.*, bhx_net.* (CUDA-saved files load on CPU).

    ``from_state_dict`` builds the network (the task's by default).
    """
    state = _state_dict(path)
    build = from_state_dict or task.mmn_from_state_dict
    try:
        return build(state)
    except (KeyError, ValueError, RuntimeError, IndexError) as err:
        raise InputError(f"{path}: not an {what} state_dict ({str(err).splitlines()[0]})") from err


def load_observations(path) -> np.ndarray:
    """A torch-saved list of (1, 4) observation tensors (the seed's episode files) -> (T, 4)."""
    data = torch_load_checked(path, map_location="cpu")
    if isinstance(data, torch.Tensor):
        data = list(data)
    if not isinstance(data, (list, tuple)) or not data:
        raise InputError(f"{path}: expected a non-empty list of (1, 4) observation tensors")
    try:
        obs = np.stack([torch.as_tensor(t, dtype=torch.float32).reshape(-1).numpy() for t in data])
    except (RuntimeError, TypeError, ValueError) as err:
        raise InputError(f"{path}: observations of unequal or non-numeric shape ({err})") from err
    if obs.ndim != 2 or obs.shape[1] != 4:
        raise InputError(f"{path}: observations must be (1, 4) each, got {obs.shape[1:]} per step")
    if not np.isfinite(obs).all():
        raise InputError(f"{path}: observations contain NaN or inf")
    return obs


def episode_observations(mmn, observations_path, episode_seed: int) -> np.ndarray:
    """The observations of ``observations_path`` (see ``load_observations``) or, if it is
    empty, those of a greedy CartPole episode of ``mmn`` seeded ``episode_seed``."""
    if observations_path:
        return load_observations(observations_path)
    env = make_env()
    try:
        _, rec = run_episode(mmn, env, episode_seed, record=True)
    finally:
        env.close()
    return rec["obs"]
