"""The networks of the diffig study (no file I/O).

- ``GRUNet``: features Linear(4,16) -> ELU -> Linear(16,8) -> ReLU6, GRUCell(8, 32),
  actor Linear(32, 2), critic Linear(32, 1) (module names as in the MMN code base, so
  its state_dicts load: ``input_ff.*``, ``gru.*``, ``actor_linear.*``, ``critic_linear.*``).
- ``QBN``: Linear(n, 8B) -> Tanh -> Linear(8B, B) -> ternary quantization (straight-through),
  decoder Linear(B, 8B) -> Tanh -> Linear(8B, n) -> ReLU6 (observation QBN) or Tanh (hidden QBN).
- ``MMNet``: the GRU with either or both QBNs inserted (``gru_net``, ``obx_net``, ``bhx_net``).
"""

import torch
from torch import nn


class TernaryTanh(nn.Module):
    """y = 1.5 tanh(x) + 0.5 tanh(-3x), rounded to {-1, 0, 1}; straight-through gradient."""

    def forward(self, x):
        y = 1.5 * torch.tanh(x) + 0.5 * torch.tanh(-3.0 * x)
        return y + (torch.round(y) - y).detach()


class GRUNet(nn.Module):
    """Feature layers -> GRUCell -> actor and critic heads.

    The feature layers default to CartPole's Linear(obs_dim, 16) -> ELU -> Linear(16, 8) ->
    ReLU6; another observation space passes its own ``input_ff`` and its output size.
    """

    def __init__(
        self,
        obs_dim: int = 4,
        gru_size: int = 32,
        n_actions: int = 2,
        *,
        input_ff: nn.Module | None = None,
        features: int = 8,
    ):
        super().__init__()
        if input_ff is None:
            input_ff = nn.Sequential(
                nn.Linear(obs_dim, 16), nn.ELU(), nn.Linear(16, features), nn.ReLU6()
            )
        self.input_ff = input_ff
        self.gru = nn.GRUCell(features, gru_size)
        self.critic_linear = nn.Linear(gru_size, 1)
        self.actor_linear = nn.Linear(gru_size, n_actions)
        self.gru_size = gru_size

    def init_hidden(self, batch: int = 1):
        return torch.zeros(batch, self.gru_size)


class QBN(nn.Module):
    """Quantized bottleneck autoencoder of an n-d vector into B ternary units.

    Hidden layers of ``widths`` x B units with Tanh (CartPole's QBNs: one of 8B; the Atari
    hidden-state QBN: 8B then 4B), then B ternary units; the decoder mirrors the encoder.
    """

    def __init__(self, n: int, code: int, out_activation: str, widths: tuple = (8,)):
        super().__init__()
        sizes = [n, *(w * code for w in widths), code]
        encoder, decoder = [], []
        for a, b in zip(sizes[:-1], sizes[1:]):
            encoder += [nn.Linear(a, b), nn.Tanh()]
        for a, b in zip(sizes[:0:-1], sizes[-2::-1]):
            decoder += [nn.Linear(a, b), nn.Tanh()]
        encoder[-1] = TernaryTanh()
        decoder[-1] = nn.ReLU6() if out_activation == "relu6" else nn.Tanh()
        self.encoder = nn.Sequential(*encoder)
        self.decoder = nn.Sequential(*decoder)

    def pre_quantization(self, x):
        return self.encoder[:-1](x)

    def encode(self, x):
        return self.encoder(x)

    def forward(self, x):
        return self.decoder(self.encoder(x))


class MMNet(nn.Module):
    """The GRU policy with the observation QBN (obx_net) and/or hidden QBN (bhx_net) inserted."""

    def __init__(self, gru_net: GRUNet, obx_net: QBN | None = None, bhx_net: QBN | None = None):
        super().__init__()
        self.gru_net = gru_net
        self.obx_net = obx_net
        self.bhx_net = bhx_net

    def step(self, obs, hx):
        """One step: (logits (b, 2), new hidden (b, 32), obs code or None, hidden code or None)."""
        feats = self.gru_net.input_ff(obs)
        obs_code = None
        if self.obx_net is not None:
            obs_code = self.obx_net.encode(feats)
            feats = self.obx_net.decoder(obs_code)
        hx = self.gru_net.gru(feats, hx)
        hx_code = None
        if self.bhx_net is not None:
            hx_code = self.bhx_net.encode(hx)
            hx = self.bhx_net.decoder(hx_code)
        return self.gru_net.actor_linear(hx), hx, obs_code, hx_code

    def initial_hidden(self):
        """The zero hidden state, fed to the GRU as it is (the MMN code base's
        ``MMNet.init_hidden``); only the hidden states the GRU produces pass the HxQBN."""
        return self.gru_net.init_hidden(1)


def make_mmn(gru_size: int = 32, hx_code: int = 4, obs_code: int = 4) -> MMNet:
    return MMNet(
        GRUNet(gru_size=gru_size), QBN(8, obs_code, "relu6"), QBN(gru_size, hx_code, "tanh")
    )


def mmn_shapes(state_dict) -> tuple[int, int, int]:
    """(gru_size, hx_code, obs_code) of an MMN state_dict in the original key format."""
    try:
        gru_size = state_dict["gru_net.gru.weight_hh"].shape[1]
        hx_code = state_dict["bhx_net.encoder.2.weight"].shape[0]
        obs_code = state_dict["obx_net.encoder.2.weight"].shape[0]
    except KeyError as err:
        raise KeyError(f"not an MMN state_dict: missing key {err}") from err
    return int(gru_size), int(hx_code), int(obs_code)


def mmn_from_state_dict(state_dict, *, make=make_mmn, shapes=mmn_shapes) -> MMNet:
    """Build an MMN from a state_dict (keys gru_net.*, obx_net.*, bhx_net.*), strictly.

    ``shapes`` reads the constructor arguments of ``make`` from the state_dict (CartPole's
    by default; diffig_atari passes the Atari ones).
    """
    net = make(*shapes(state_dict))
    missing, unexpected = net.load_state_dict(state_dict, strict=False)
    if missing or unexpected:
        raise KeyError(
            f"state_dict does not match the MMN: missing {missing}, unexpected {unexpected}"
        )
    return net
