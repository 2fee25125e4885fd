"""Exact training checkpoints: a resumed run continues bit for bit like an uninterrupted one.

SB3's own zip (``model.save``) holds the networks, the optimizer and the algorithm's counters
(``num_timesteps``, ``_n_calls``, ``_n_updates``, ``_episode_num``, ``exploration_rate``,
``ep_info_buffer``, ``_last_obs``, ``_last_episode_starts``); ``save_replay_buffer`` the replay
buffer. Not saved by SB3, and written here to ``dqn_state_<n>_steps.pkl``: every environment's
whole object (highway-env's simulation, its ``np_random``, the Monitor's running episode,
the worker process's global RNGs), the main process's numpy / Python / torch RNG states and the
action-space RNG that epsilon-greedy samples. ``load`` reseeds every RNG from the seed and
would reset the environments (``force_reset``), so all of this is put back after loading.

A checkpoint is taken where the algorithm's state is consistent: at the start of a rollout
(after the previous step's transition is stored and its gradient step done) or at the end of
training, never inside a step (SB3's CheckpointCallback saves inside one: after the envs have
stepped but before the transition is stored).
"""

import glob
import json
import logging
import os
import pickle
import random
import re

import gymnasium as gym
import numpy as np
import torch

from xai_repro.common import InputError, atomic_output

log = logging.getLogger(__name__)

FORMAT = 2  # checkpoints of an older layout (no state file) are discarded by the settings stamp


class StateWrapper(gym.Wrapper):
    """The outermost env wrapper: its inner env's whole state as bytes, and back in place
    (reached through ``VecEnv.env_method``, also inside SubprocVecEnv's worker processes)."""

    def get_state(self):
        return pickle.dumps(
            {"env": self.env, "np_random": np.random.get_state(), "random": random.getstate()}
        )

    def set_state(self, blob):
        # our own file, written by the same run with the same settings (see read_state)
        state = pickle.loads(blob)  # noqa: S301
        self.env = state["env"]
        np.random.set_state(state["np_random"])
        random.setstate(state["random"])


def checkpoint_paths(checkpoint_dir, steps):
    """SB3 zip, replay buffer and training state of the checkpoint at ``steps``."""
    stem = os.path.join(checkpoint_dir, "dqn_{}" + f"{steps}_steps")
    return (
        stem.format("") + ".zip",
        stem.format("replay_buffer_") + ".pkl",
        stem.format("state_") + ".pkl",
    )


def latest_checkpoint(checkpoint_dir):
    """Path and step count of the newest ``dqn_<steps>_steps.zip`` in ``checkpoint_dir``."""
    best = (None, 0)
    for path in glob.glob(os.path.join(checkpoint_dir, "dqn_*_steps.zip")):
        m = re.search(r"dqn_(\d+)_steps\.zip$", path)
        if m and int(m.group(1)) > best[1]:
            best = (path, int(m.group(1)))
    return best


def stamp(settings):
    """The settings as stored in the stamp and state files (JSON round trip, format added)."""
    return json.loads(json.dumps({"checkpoint_format": FORMAT, **settings}))


def resumable_checkpoint(checkpoint_dir, settings, total_steps):
    """The checkpoint to resume from: only one written with the same settings (and checkpoint
    format) and within ``total_steps``; checkpoints of other settings are deleted (warning)."""
    for stale in glob.glob(os.path.join(checkpoint_dir, ".dqn_*")):  # a killed atomic write
        os.remove(stale)
    stamp_path = os.path.join(checkpoint_dir, "settings.json")
    current = stamp(settings)
    previous = None
    if os.path.exists(stamp_path):
        try:
            with open(stamp_path) as fh:
                previous = json.load(fh)
        except ValueError:
            previous = None
        if previous != current:
            log.warning(
                "%s: checkpoints were written with other settings; starting afresh", checkpoint_dir
            )
    if previous != current:
        for path in glob.glob(os.path.join(checkpoint_dir, "dqn_*")):
            os.remove(path)
    with atomic_output(stamp_path) as tmp, open(tmp, "w") as fh:
        json.dump(current, fh)
    path, steps = latest_checkpoint(checkpoint_dir)
    if path and steps > total_steps:
        log.warning("%s has %d steps > total_steps %d; starting afresh", path, steps, total_steps)
        return None, 0
    return path, steps


def capture_state(model, settings):
    """What SB3's zip and replay buffer lack for an exact continuation (see module doc)."""
    return {
        "format": FORMAT,
        "steps": int(model.num_timesteps),
        "settings": stamp(settings),
        "envs": model.get_env().env_method("get_state"),
        "np_random": np.random.get_state(),
        "random": random.getstate(),
        "torch": torch.get_rng_state().numpy(),
        "action_space": model.action_space.np_random.bit_generator.state,
    }


def restore_state(model, state):
    """Put a captured state back into a model loaded from the matching zip and buffer."""
    env = model.get_env()
    if len(state["envs"]) != env.num_envs:
        raise ValueError(f"{len(state['envs'])} saved environments, {env.num_envs} running")
    for i, blob in enumerate(state["envs"]):
        env.env_method("set_state", blob, indices=[i])
    np.random.set_state(state["np_random"])
    random.setstate(state["random"])
    torch.set_rng_state(torch.from_numpy(state["torch"]))
    model.action_space.np_random.bit_generator.state = state["action_space"]


def write_checkpoint(model, checkpoint_dir, settings):
    """Replay buffer, training state, then SB3's zip, each atomically: the zip (what
    latest_checkpoint looks for) only exists once the other two are complete."""
    zip_path, buf_path, state_path = checkpoint_paths(checkpoint_dir, model.num_timesteps)
    with atomic_output(buf_path) as tmp:
        model.save_replay_buffer(tmp)
    with atomic_output(state_path) as tmp, open(tmp, "wb") as fh:
        pickle.dump(capture_state(model, settings), fh, protocol=pickle.HIGHEST_PROTOCOL)
    with atomic_output(zip_path) as tmp:
        model.save(tmp)


def read_state(path, steps, settings):
    """The training state at ``path``, refused (InputError naming the file) when it is missing,
    unreadable or written for other steps or settings."""
    if not os.path.exists(path):
        raise InputError(
            f"{path}: missing: the checkpoint of {steps} steps has no training state, so it "
            "cannot be resumed exactly; delete its directory to train afresh"
        )
    try:
        with open(path, "rb") as fh:
            # pickle, not a safe format: it holds live environment objects. The file is our own,
            # written beside the zip by this training with the settings checked below.
            state = pickle.load(fh)  # noqa: S301
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"{path}: not a readable training state ({exc})") from exc
    expected = {"format": FORMAT, "steps": steps, "settings": stamp(settings)}
    if not isinstance(state, dict) or any(state.get(k) != v for k, v in expected.items()):
        raise InputError(f"{path}: a training state of other steps, settings or format")
    return state


def checkpoint_callback(period, checkpoint_dir, settings):
    """An SB3 callback writing a checkpoint each time ``num_timesteps`` reaches a multiple of
    ``period``: at the next rollout start (or the end of training), where the state is whole.
    The cadence follows the global step count, so a resumed run checkpoints where an
    uninterrupted one does; writing one draws no random number (a run with checkpoints equals
    one without)."""
    from stable_baselines3.common.callbacks import BaseCallback

    class ExactCheckpoint(BaseCallback):
        def _on_training_start(self):
            self.next_at = (self.model.num_timesteps // period + 1) * period

        def _save_if_due(self):
            steps = self.model.num_timesteps
            if steps >= self.next_at:
                write_checkpoint(self.model, checkpoint_dir, settings)
                self.next_at = (steps // period + 1) * period

        def _on_rollout_start(self):
            self._save_if_due()

        def _on_training_end(self):
            self._save_if_due()

        def _on_step(self):
            return True

    return ExactCheckpoint()
