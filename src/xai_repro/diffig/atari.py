"""Imported Atari (Pong) Moore machine networks: the MMN code base's conv GRU policy.

- ``AtariGRUNet``: conv1..conv4 (3x3, stride 2, padding 1; channels 1->32->32->16->8, ReLU,
  ReLU6 after the last) on an 80x80 frame -> 8x5x5 = 200 features -> GRUCell(200, 32) ->
  actor Linear(32, n_actions), critic Linear(32, 1). As in the MMN code base the convs are
  registered both as ``conv1``..``conv4`` and inside ``input_ff``, so its state_dicts
  (``gru_net.conv1.weight`` and ``gru_net.input_ff.0.weight``, ...) load strictly.
- ObsQBN 200 -> 800 -> 100 (networks.QBN) and ``atari_hx_qbn`` (networks.QBN) 32 -> 512 -> 256 -> 64.
- Frames: rows 35:195, RGB averaged, 2x2 area-averaged to 80x80, /255 -> (1, 80, 80).
- Actions: an MMN trained on Pong's 3-action set (NOOP, UP, DOWN) is mapped onto
  ALE/Pong-v5's minimal set (NOOP, FIRE, RIGHT, LEFT, ...): RIGHT moves the paddle up.

The Moore machine and differential IG come from moore_machine and diff_ig, with this module's env,
preprocessing and action map.
"""

import numpy as np
import torch
from torch import nn

from xai_repro.diffig.networks import QBN, GRUNet, MMNet, mmn_from_state_dict
from xai_repro.diffig.rollouts import run_episode

ENV_ID = "ALE/Pong-v5"
FRAME = 80
FEATURES = 8 * 5 * 5
# network action -> ALE/Pong-v5 minimal action set index
# (NOOP, FIRE, RIGHT, LEFT, RIGHTFIRE, LEFTFIRE)
ACTION_MAPS = {3: (0, 2, 3), 6: (0, 1, 2, 3, 4, 5)}
ACTION_NAMES = {3: ("NOOP", "UP", "DOWN"), 6: ("NOOP", "FIRE", "UP", "DOWN", "UPFIRE", "DOWNFIRE")}


class AtariGRUNet(GRUNet):
    def __init__(self, gru_size: int = 32, n_actions: int = 3):
        convs = [
            nn.Conv2d(c_in, c_out, 3, stride=2, padding=1)
            for c_in, c_out in [(1, 32), (32, 32), (32, 16), (16, 8)]
        ]
        input_ff = nn.Sequential(
            convs[0],
            nn.ReLU(),
            convs[1],
            nn.ReLU(),
            convs[2],
            nn.ReLU(),
            convs[3],
            nn.ReLU6(),
            nn.Flatten(),  # no parameters: the original keys are unchanged
        )
        super().__init__(
            gru_size=gru_size, n_actions=n_actions, input_ff=input_ff, features=FEATURES
        )
        self.conv1, self.conv2, self.conv3, self.conv4 = convs


def atari_hx_qbn(gru_size: int = 32, code: int = 64) -> QBN:
    """Hidden-state QBN of the Atari MMNs: 32 -> 512 -> 256 -> 64 ternary units, mirrored."""
    return QBN(gru_size, code, "tanh", widths=(8, 4))


def atari_mmn_shapes(state_dict) -> tuple[int, int, int, int]:
    """(gru_size, n_actions, hx_code, obs_code) of an Atari MMN state_dict."""
    try:
        gru_size = state_dict["gru_net.gru.weight_hh"].shape[1]
        n_actions = state_dict["gru_net.actor_linear.weight"].shape[0]
        hx_code = state_dict["bhx_net.encoder.4.weight"].shape[0]
        obs_code = state_dict["obx_net.encoder.2.weight"].shape[0]
    except KeyError as err:
        raise KeyError(f"not an Atari MMN state_dict: missing key {err}") from err
    if n_actions not in ACTION_MAPS:
        raise ValueError(f"{n_actions} actions: Pong MMNs have 3 or 6")
    return int(gru_size), int(n_actions), int(hx_code), int(obs_code)


def make_atari_mmn(gru_size=32, n_actions=3, hx_code=64, obs_code=100) -> MMNet:
    return MMNet(
        AtariGRUNet(gru_size, n_actions),
        QBN(FEATURES, obs_code, "relu6"),
        atari_hx_qbn(gru_size, hx_code),
    )


def atari_mmn_from_state_dict(state_dict) -> MMNet:
    """Build an Atari MMN from a state_dict (keys gru_net.*, obx_net.*, bhx_net.*), strictly."""
    return mmn_from_state_dict(state_dict, make=make_atari_mmn, shapes=atari_mmn_shapes)


def preprocess_frame(frame) -> torch.Tensor:
    """(210, 160, 3) uint8 RGB -> (1, 1, 80, 80) float in [0, 1] (a new tensor)."""
    frame = np.asarray(frame)
    if frame.shape != (210, 160, 3):
        raise ValueError(f"expected a (210, 160, 3) Atari frame, got {frame.shape}")
    gray = frame[35:195].astype(np.float32).mean(axis=2)  # (160, 160)
    small = gray.reshape(FRAME, 2, FRAME, 2).mean(axis=(1, 3)) / 255.0
    return torch.tensor(small, dtype=torch.float32)[None, None]


def make_pong_env():
    import ale_py
    import gymnasium as gym

    gym.register_envs(ale_py)
    return gym.make(ENV_ID, frameskip=4, repeat_action_probability=0.0)


def env_action_map(n_actions: int):
    mapping = ACTION_MAPS[n_actions]
    return lambda a: mapping[int(a)]


def record_episode(mmn: MMNet, *, seed: int, max_steps: int) -> dict:
    """One greedy episode (at most ``max_steps`` steps): return, preprocessed frames, actions."""
    env = make_pong_env()
    try:
        total, rec = run_episode(
            mmn,
            env,
            seed,
            record=True,
            preprocess=preprocess_frame,
            env_action=env_action_map(mmn.gru_net.actor_linear.out_features),
            max_steps=max_steps,
        )
    finally:
        env.close()
    return {"return": total, "frames": rec["obs"], "actions": rec["action"]}
