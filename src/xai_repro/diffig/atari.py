"""Imported Atari (Pong) Moore machine networks: the MMN code base's conv GRU policy.

- ``AtariGRUNet``: conv1..conv4 (3x3, stride 2, padding 1; channels 1->32->32->16->8, ReLU,
  ReLU6 after the last) on an 80x80 frame -> 8x5x5 = 200 features -> GRUCell(200, 32) ->
  actor Linear(32, n_actions), critic Linear(32, 1). As in the MMN code base the convs are
  registered both as ``conv1``..``conv4`` and inside ``input_ff``, so its state_dicts
  (``gru_net.conv1.weight`` and ``gru_net.input_ff.0.weight``, ...) load strictly.
- ObsQBN 200 -> 800 -> 100 (networks.QBN) and ``atari_hx_qbn`` (networks.QBN) 32 -> 512 -> 256 -> 64.
- Frames as the MMN code base's ``PongWrapper`` fed them: rows 35:195, RGB averaged, then
  ``scipy.misc.imresize(..., (80, 80))`` (scipy <= 1.2: the float frame is rescaled to uint8
  by its own min and max, then resized with PIL's bilinear filter), /255 -> (1, 80, 80).
- Actions: the network's 3 actions map to 0, 4, 5 (NOOP, RIGHTFIRE, LEFTFIRE) of Pong's
  6-action minimal set, as ``PongWrapper.step`` does; RIGHT moves the paddle up.
- The env: ALE/Pong-v5 configured as PongDeterministic-v4 (frameskip 4, no sticky actions,
  the minimal action set).

The Moore machine and differential IG come from moore_machine and diff_ig, with this module's env,
preprocessing and action map.
"""

from dataclasses import dataclass
from functools import partial

import numpy as np
import torch
from torch import nn

from xai_repro.diffig.io import load_mmn
from xai_repro.diffig.networks import QBN, GRUNet, MMNet, mmn_from_state_dict
from xai_repro.diffig.rollouts import Task, run_episode

ENV_ID = "ALE/Pong-v5"
FRAME = 80
FEATURES = 8 * 5 * 5
# network action -> ALE/Pong-v5 minimal action set index
# (NOOP, FIRE, RIGHT, LEFT, RIGHTFIRE, LEFTFIRE)
ACTION_MAPS = {3: (0, 4, 5), 6: (0, 1, 2, 3, 4, 5)}
ACTION_NAMES = {
    3: ("NOOP", "UPFIRE", "DOWNFIRE"),
    6: ("NOOP", "FIRE", "UP", "DOWN", "UPFIRE", "DOWNFIRE"),
}


class AtariGRUNet(GRUNet):
    def __init__(self, gru_size: int = 32, n_actions: int = 3, conv4: int = 8):
        convs = [
            nn.Conv2d(c_in, c_out, 3, stride=2, padding=1)
            for c_in, c_out in [(1, 32), (32, 32), (32, 16), (16, conv4)]
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
            gru_size=gru_size, n_actions=n_actions, input_ff=input_ff, features=conv4 * 5 * 5
        )
        self.conv1, self.conv2, self.conv3, self.conv4 = convs


def with_input_ff_aliases(state: dict) -> dict:
    """A conv GRU state_dict with ``input_ff.0/2/4/6`` beside ``conv1..conv4``.

    The MMN code base registers each conv twice, so its files hold both names of each tensor;
    some (ChopperCommand's) hold only ``conv*``: the alias is added. A file whose two names
    of one conv hold different tensors is ambiguous and refused (``ValueError``).
    """
    state = dict(state)
    for i in range(4):
        for part in ("weight", "bias"):
            conv, alias = f"conv{i + 1}.{part}", f"input_ff.{2 * i}.{part}"
            if conv not in state or alias not in state:
                state.setdefault(alias, state.get(conv))
                state.setdefault(conv, state.get(alias))
                if state[conv] is None:
                    raise ValueError(f"neither {conv} nor {alias} in the state_dict")
            elif not torch.equal(state[conv], state[alias]):
                raise ValueError(f"{conv} and {alias} differ: which one is the network's?")
    return state


def atari_hx_qbn(gru_size: int = 32, code: int = 64) -> QBN:
    """Hidden-state QBN of the Atari MMNs: 32 -> 512 -> 256 -> 64 ternary units, mirrored."""
    return QBN(gru_size, code, "tanh", widths=(8, 4))


def atari_mmn_shapes(state_dict, check_actions: bool = True) -> tuple[int, int, int, int]:
    """(gru_size, n_actions, hx_code, obs_code) of an Atari MMN state_dict."""
    try:
        gru_size = state_dict["gru_net.gru.weight_hh"].shape[1]
        n_actions = state_dict["gru_net.actor_linear.weight"].shape[0]
        hx_code = state_dict["bhx_net.encoder.4.weight"].shape[0]
        obs_code = state_dict["obx_net.encoder.2.weight"].shape[0]
    except KeyError as err:
        raise KeyError(f"not an Atari MMN state_dict: missing key {err}") from err
    if check_actions and n_actions not in ACTION_MAPS:
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


def load_atari_mmn(path) -> MMNet:
    """An Atari MMN from a state_dict in the MMN code base's format, in eval mode; a file
    that is not one is refused with an ``InputError`` naming it."""
    return load_mmn(path, from_state_dict=atari_mmn_from_state_dict, what="Atari MMN").eval()


def imresize_uint8(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``scipy.misc.imresize(image, size)`` of scipy <= 1.2 for a 2-d float array.

    ``bytescale``: (x - min) * 255 / (max - min), clipped, rounded half up to uint8 (a
    constant image has max - min taken as 1, so it maps to 0); then PIL's bilinear resize.
    """
    from PIL import Image

    data = np.asarray(image, dtype=np.float64)
    low, span = data.min(), data.max() - data.min()
    scaled = (data - low) * (255.0 / (span if span > 0 else 1.0))
    as_bytes = (scaled.clip(0, 255) + 0.5).astype(np.uint8)
    resized = Image.fromarray(as_bytes, mode="L").resize(size[::-1], Image.BILINEAR)
    return np.asarray(resized, dtype=np.uint8)


def preprocess_frame(frame, rows=(35, 195), cols=(0, 160)) -> torch.Tensor:
    """(210, 160, 3) uint8 RGB -> (1, 1, 80, 80) float in [0, 1] (a new tensor), cropped to
    ``rows`` and ``cols`` first (Pong's crop by default)."""
    frame = np.asarray(frame)
    if frame.shape != (210, 160, 3):
        raise ValueError(f"expected a (210, 160, 3) Atari frame, got {frame.shape}")
    crop = frame[rows[0] : rows[1], cols[0] : cols[1]]
    small = imresize_uint8(crop.mean(axis=2), (FRAME, FRAME))
    return torch.tensor(small.astype(np.float32) / 255.0)[None, None]


def make_pong_env():
    import ale_py
    import gymnasium as gym

    gym.register_envs(ale_py)
    # PongDeterministic-v4: frameskip 4, no sticky actions, the minimal action set
    return gym.make(ENV_ID, frameskip=4, repeat_action_probability=0.0, full_action_space=False)


def env_action_map(n_actions: int):
    mapping = ACTION_MAPS[n_actions]
    return lambda a: mapping[int(a)]


def pong_task(max_steps: int | None = None, n_actions: int = 3) -> Task:
    """PongDeterministic-v4 with the MMN code base's networks and input."""
    return Task(
        "PongDeterministic-v4",
        make_pong_env,
        preprocess=preprocess_frame,
        env_action=env_action_map(n_actions),
        make_gru=lambda: AtariGRUNet(32, n_actions),
        make_hx_qbn=atari_hx_qbn,
        mmn_from_state_dict=atari_mmn_from_state_dict,
        max_steps=max_steps,
    )


@dataclass(frozen=True)
class Game:
    """An Atari game as the MMN code base's ``env_wrapper.py`` feeds it: the frame crop, the
    network's actions as indices of the env's minimal action set, the frameskip and sticky
    action probability of its gym env (``-Deterministic-v4``: a fixed frameskip, no sticky
    actions; ``-v0``: a frameskip drawn from [2, 5) each step, sticky actions 0.25), and the
    channels of the GRU's last conv."""

    env_id: str
    rows: tuple[int, int]
    cols: tuple[int, int]
    actions: tuple[int, ...]
    frameskip: int | tuple[int, int]
    conv4: int = 8
    sticky: float = 0.0


ALL_18 = tuple(range(18))
GAMES = {
    # SpaceInvaderWrapper: rows 0:195 (Crop15And195 crops :195), Discrete(4)
    "SpaceInvadersDeterministic-v4": Game(
        "ALE/SpaceInvaders-v5", (0, 195), (0, 160), (0, 1, 2, 3), 3
    ),
    # FreewayWrapper: rows 25:195, columns 10:, the whole minimal set
    "FreewayDeterministic-v4": Game("ALE/Freeway-v5", (25, 195), (10, 160), (0, 1, 2), 4, conv4=4),
    # BreakoutWrapper is Crop35And195: rows 35:195; the whole minimal set
    "BreakoutDeterministic-v4": Game("ALE/Breakout-v5", (35, 195), (0, 160), (0, 1, 2, 3), 4),
    # BowlingWrapper: rows 105:172, Discrete(4): the first 4 of the minimal set
    "BowlingDeterministic-v4": Game(
        "ALE/Bowling-v5", (105, 172), (0, 160), (0, 1, 2, 3), 4, conv4=4
    ),
    # BoxingWrapper: rows 15:180, columns 30:130; the whole minimal set (18)
    "BoxingDeterministic-v4": Game("ALE/Boxing-v5", (15, 180), (30, 130), ALL_18, 4, conv4=4),
    # no wrapper of its own: AtariWrapper, rows 5:195; -v0 (sticky, random frameskip)
    "ChopperCommand-v0": Game(
        "ALE/ChopperCommand-v5", (5, 195), (0, 160), ALL_18, (2, 5), sticky=0.25
    ),
}


def game_task(name: str, max_steps: int | None = None) -> Task:
    """A game of ``GAMES`` with the MMN code base's network and input (pretrained GRUs)."""
    import ale_py
    import gymnasium as gym

    game = GAMES[name]

    def make_env():
        gym.register_envs(ale_py)
        return gym.make(
            game.env_id,
            frameskip=game.frameskip,
            repeat_action_probability=game.sticky,
            full_action_space=False,
        )

    n_actions = len(game.actions)

    def make_mmn(gru_size, hx_code, obs_code):
        return MMNet(
            AtariGRUNet(gru_size, n_actions, game.conv4),
            QBN(game.conv4 * 25, obs_code, "relu6"),
            atari_hx_qbn(gru_size, hx_code),
        )

    def shapes(state):
        return tuple(atari_mmn_shapes(state, check_actions=False)[i] for i in (0, 2, 3))

    return Task(
        name,
        make_env,
        mmn_from_state_dict=partial(mmn_from_state_dict, make=make_mmn, shapes=shapes),
        preprocess=partial(preprocess_frame, rows=game.rows, cols=game.cols),
        env_action=lambda a: game.actions[int(a)],
        make_gru=lambda: AtariGRUNet(32, len(game.actions), game.conv4),
        make_hx_qbn=atari_hx_qbn,
        gru_state=with_input_ff_aliases,
        max_steps=max_steps,
    )


def record_episode(mmn: MMNet, *, seed: int, max_steps: int) -> dict:
    """One greedy episode (at most ``max_steps`` steps): return, preprocessed frames, actions."""
    task = pong_task(max_steps, mmn.gru_net.actor_linear.out_features)
    env = task.make_env()
    try:
        total, rec = run_episode(mmn, env, seed, record=True, task=task)
    finally:
        env.close()
    return {"return": total, "frames": rec["obs"], "actions": rec["action"]}
