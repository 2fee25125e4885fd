"""The ego-attention Q-network of rl-agents' IntersectionEnv config.

Module names follow rl-agents (ego_embedding, others_embedding, attention_layer,
output_layer, get_attention_matrix), so a checkpoint trained with rl-agents (a torch
.tar whose 'state_dict' holds those names) loads into :class:`EgoAttentionNetwork`.
"""

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from xai_repro.common import InputError, torch_load_checked

N_VEHICLES = 15
FEATURES = ["presence", "x", "y", "vx", "vy", "cos_h", "sin_h"]
ACTIONS = ["SLOWER", "IDLE", "FASTER"]
PRESENCE = 0


class MultiLayerPerceptron(nn.Module):
    """rl-agents' MLP: ReLU hidden ``layers`` and an optional linear ``predict`` head."""

    def __init__(self, in_features, layers, out=None):
        super().__init__()
        sizes = [in_features, *layers]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.predict = nn.Linear(sizes[-1], out) if out else None

    def hidden(self, x):
        for layer in self.layers:
            x = F.relu(layer(x))
        return x

    def forward(self, x):
        x = self.hidden(x)
        return self.predict(x) if self.predict is not None else x


class EgoAttention(nn.Module):
    """rl-agents' EgoAttention: the ego query attends over ego + others."""

    def __init__(self, feature_size=64, heads=1):
        super().__init__()
        if feature_size % heads:
            raise InputError(
                f"attention feature_size {feature_size} not divisible by heads {heads}"
            )
        self.config = {"feature_size": feature_size, "heads": heads}
        self.features_per_head = feature_size // heads
        self.value_all = nn.Linear(feature_size, feature_size, bias=False)
        self.key_all = nn.Linear(feature_size, feature_size, bias=False)
        self.query_ego = nn.Linear(feature_size, feature_size, bias=False)
        self.attention_combine = nn.Linear(feature_size, feature_size, bias=False)
        # Heads to ablate; empty = none. Their output is replaced by ablation_means (heads, 1,
        # features_per_head: mean-ablation) when set, else zeroed.
        self.ablated_heads = ()
        self.ablation_means = None

    def head_outputs(self, ego, others, mask=None):
        """Each head's attention-weighted values (b, heads, 1, fph) and the attention."""
        b, heads, fph = others.shape[0], self.config["heads"], self.features_per_head
        n = others.shape[1] + 1
        fs = self.config["feature_size"]
        input_all = torch.cat((ego.view(b, 1, fs), others), dim=1)
        key = self.key_all(input_all).view(b, n, heads, fph).permute(0, 2, 1, 3)
        value = self.value_all(input_all).view(b, n, heads, fph).permute(0, 2, 1, 3)
        query = self.query_ego(ego).view(b, 1, heads, fph).permute(0, 2, 1, 3)
        scores = torch.matmul(query, key.transpose(-2, -1)) / np.sqrt(fph)
        if mask is not None:
            scores = scores.masked_fill(mask.view(b, 1, 1, n).expand(b, heads, 1, n), -1e9)
        attn = F.softmax(scores, dim=-1)
        return torch.matmul(attn, value), attn

    def forward(self, ego, others, mask=None):
        b, heads, fs = others.shape[0], self.config["heads"], self.config["feature_size"]
        out, attn = self.head_outputs(ego, others, mask)  # b, heads, 1, fph
        if self.ablated_heads:
            keep = torch.ones(heads, 1, 1)
            keep[list(self.ablated_heads)] = 0.0
            out = out * keep
            if self.ablation_means is not None:
                out = out + (1 - keep) * self.ablation_means
        result = (self.attention_combine(out.reshape(b, fs)) + ego.squeeze(1)) / 2
        return result, attn


class EgoAttentionNetwork(nn.Module):
    """Q(s, .) of rl-agents' EgoAttentionNetwork (no self-attention layer)."""

    def __init__(
        self,
        in_features=7,
        embedding=(64, 64),
        heads=1,
        feature_size=64,
        output_layers=(64, 64),
        n_actions=3,
        presence_feature_idx=PRESENCE,
    ):
        super().__init__()
        self.config = {
            "in": in_features,
            "embedding": list(embedding),
            "heads": heads,
            "feature_size": feature_size,
            "output_layers": list(output_layers),
            "out": n_actions,
            "presence_feature_idx": presence_feature_idx,
        }
        if embedding[-1] != feature_size:
            raise InputError(
                f"embedding output {embedding[-1]} != attention feature_size {feature_size}"
            )
        self.ego_embedding = MultiLayerPerceptron(in_features, embedding)
        self.others_embedding = MultiLayerPerceptron(in_features, embedding)
        self.attention_layer = EgoAttention(feature_size, heads)
        self.output_layer = MultiLayerPerceptron(feature_size, output_layers, n_actions)

    def split_input(self, x, mask=None):
        ego, others = x[:, 0:1, :], x[:, 1:, :]
        if mask is None:
            p = self.config["presence_feature_idx"]
            mask = x[:, :, p : p + 1] < 0.5
        return ego, others, mask

    def forward_attention(self, x, mask=None):
        ego, others, mask = self.split_input(x, mask)
        return self.attention_layer(self.ego_embedding(ego), self.others_embedding(others), mask)

    def features(self, x, mask=None):
        """Last hidden layer of the output MLP (input of the Q head)."""
        return self.output_layer.hidden(self.forward_attention(x, mask)[0])

    def forward(self, x, mask=None):
        return self.output_layer(self.forward_attention(x, mask)[0])

    def get_attention_matrix(self, x):
        return self.forward_attention(x)[1]


def load_rl_agents_checkpoint(path, net):
    """Load an rl-agents .tar checkpoint (``{'state_dict': ...}``) into ``net``, checked."""
    ckpt = torch_load_checked(path)
    state = ckpt.get("state_dict") if isinstance(ckpt, dict) else None
    if not isinstance(state, dict):
        raise InputError(f"{path}: not an rl-agents checkpoint (no 'state_dict' dict)")
    expected = net.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise InputError(
            f"{path}: incompatible keys: missing {missing[:5]}, unexpected {unexpected[:5]}"
        )
    for key, value in expected.items():
        if not torch.is_tensor(state[key]) or state[key].shape != value.shape:
            got = getattr(state[key], "shape", type(state[key]).__name__)
            raise InputError(
                f"{path}: '{key}' has shape {tuple(got) if hasattr(got, '__len__') else got}, "
                f"expected {tuple(value.shape)}"
            )
    net.load_state_dict(state)
    return net


def save_rl_agents_checkpoint(path, net):
    """Write ``net`` as rl-agents does: a torch .tar with 'state_dict'."""
    torch.save({"state_dict": net.state_dict()}, path)


def network_config(embedding=(64, 64), heads=1, output_layers=(64, 64), n_actions=3, in_features=7):
    """EgoAttentionNetwork kwargs (the IntersectionEnv config of rl-agents by default)."""
    return {
        "in_features": in_features,
        "embedding": tuple(embedding),
        "heads": heads,
        "feature_size": tuple(embedding)[-1],
        "output_layers": tuple(output_layers),
        "n_actions": n_actions,
    }


class ObsNetwork(EgoAttentionNetwork):
    """EgoAttentionNetwork that also accepts flattened observations (B, 15*7)."""

    def forward(self, x, mask=None):
        if x.dim() == 2:
            x = x.view(x.shape[0], -1, self.config["in"])
        return super().forward(x, mask)


def save_network(net, path):
    """rl-agents layout: {'state_dict': ..., 'config': ...} (weights-only loadable)."""
    cfg = {k: list(v) if isinstance(v, tuple) else v for k, v in net.config.items()}
    torch.save({"state_dict": net.state_dict(), "config": cfg}, path)


ARCHITECTURE_KEYS = ("embedding", "heads", "output_layers")


def _architecture_of(cfg):
    """The (embedding, heads, output_layers) part of a network's config, as lists."""
    return {k: list(v) if isinstance(v, (list, tuple)) else v for k, v in cfg.items()}


def load_network(path, architecture=None):
    """An EgoAttentionNetwork from a checkpoint written by save_network or by rl-agents.

    ``architecture``: {embedding, heads, output_layers} (network_config's arguments). A file
    written by save_network carries its own, and a given one must agree with it. An rl-agents
    checkpoint stores none, and its weights cannot tell the number of heads (every attention
    matrix is feature_size x feature_size whatever the head count), so without a given
    architecture it is refused, never guessed.
    """
    ckpt = torch_load_checked(path)
    if not isinstance(ckpt, dict) or not isinstance(ckpt.get("state_dict"), dict):
        raise InputError(f"{path}: not an rl-agents checkpoint (no 'state_dict' dict)")
    cfg = ckpt.get("config")
    if architecture is not None:
        unknown = sorted(set(architecture) - set(ARCHITECTURE_KEYS))
        if unknown:
            raise InputError(f"{path}: unknown architecture keys {unknown}")
        given = network_config(**architecture)
    if cfg:
        stored = {
            "in_features": cfg.get("in", 7),
            "embedding": tuple(cfg.get("embedding", (64, 64))),
            "heads": cfg.get("heads", 1),
            "feature_size": cfg.get("feature_size", 64),
            "output_layers": tuple(cfg.get("output_layers", (64, 64))),
            "n_actions": cfg.get("out", 3),
        }
        if architecture is not None and _architecture_of(given) != _architecture_of(stored):
            raise InputError(
                f"{path}: the file's architecture {_architecture_of(stored)} differs from "
                f"the given one {_architecture_of(given)}"
            )
        kwargs = stored
    elif architecture is None:
        raise InputError(
            f"{path}: an rl-agents checkpoint without its architecture: the file stores no "
            "number of heads or layer sizes, and its weights cannot tell them apart (every "
            "attention matrix is feature_size x feature_size whatever the head count); give "
            "the architecture (embedding, heads, output_layers) of the agent config that "
            "trained it"
        )
    else:
        kwargs = given
    return load_rl_agents_checkpoint(path, ObsNetwork(**kwargs)).eval()
