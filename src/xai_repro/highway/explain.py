"""Pure interpretability functions of the attention-DQN study (no I/O)."""

import numpy as np
import torch


def presence_baseline(x, presence_idx=0):
    """IG baseline that keeps the presence feature and zeroes the others (same attention mask)."""
    base = torch.zeros_like(x)
    base[..., presence_idx] = x[..., presence_idx]
    return base


def integrated_gradients(net, x, action, n_steps=50):
    """captum IG of Q(x, action); returns (attributions, completeness error per sample)."""
    from captum.attr import IntegratedGradients

    base = presence_baseline(x)
    attr = IntegratedGradients(net).attribute(x, baselines=base, target=action, n_steps=n_steps)
    with torch.no_grad():
        gap = net(x)[:, action] - net(base)[:, action]
    err = (attr.sum(dim=(1, 2)) - gap).abs()
    return attr.detach(), err.detach()


def qk_ov_circuits(net):
    """Per head: QK = W_Q^h^T W_K^h (d x d) and OV = W_O[:, h] W_V^h (d x d) in embedding space."""
    att = net.attention_layer
    d, h = att.features_per_head, att.config["heads"] if hasattr(att, "config") else att.heads
    wq, wk = att.query_ego.weight.detach(), att.key_all.weight.detach()
    wv, wo = att.value_all.weight.detach(), att.attention_combine.weight.detach()
    out = []
    for i in range(h):
        s = slice(i * d, (i + 1) * d)
        out.append({"qk": (wq[s].T @ wk[s]).numpy(), "ov": (wo[:, s] @ wv[s]).numpy()})
    return out


def ego_attention_stats(attention):
    """attention (steps, heads, entities) -> mean ego self-attention weight and mean entropy."""
    a = np.asarray(attention, dtype=float)
    entropy = -(a * np.log(a + 1e-12)).sum(-1)
    return {"ego_self_attention": float(a[..., 0].mean()), "entropy": float(entropy.mean())}


def rank_correlation(a, b):
    """Spearman rank correlation of two flattened arrays."""
    ra = np.argsort(np.argsort(np.ravel(a))).astype(float)
    rb = np.argsort(np.argsort(np.ravel(b))).astype(float)
    return float(np.corrcoef(ra, rb)[0, 1])


def ablated_policy(net, heads=(), remove_most_attended=False, presence_idx=0):
    """Greedy policy of ``net`` with attention ``heads`` zeroed and/or, at every step, the
    other vehicle the ego attends to most removed from the observation (presence 0)."""

    def act(obs):
        x = torch.as_tensor(obs, dtype=torch.float32)[None].clone()
        with torch.no_grad():
            if remove_most_attended and x[0, 1:, presence_idx].any():
                att = net.get_attention_matrix(x)[0, :, 0, 1:].mean(0)  # (others,)
                att = att.masked_fill(x[0, 1:, presence_idx] == 0, -1.0)
                x[0, 1 + int(att.argmax()), presence_idx] = 0.0
            net.attention_layer.ablated_heads = tuple(heads)
            try:
                return int(net(x).argmax(1))
            finally:
                net.attention_layer.ablated_heads = ()

    return act
