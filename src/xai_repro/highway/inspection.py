"""Observation of the Q-network's weights and attention: QK/OV circuits, products of
consecutive weight matrices, attention statistics. Pure functions, no I/O."""

import numpy as np


def qk_ov_circuits(net):
    """Per head: QK = W_Q^h^T W_K^h (d x d) and OV = W_O[:, h] W_V^h (d x d) in embedding space."""
    att = net.attention_layer
    d, h = att.features_per_head, att.config["heads"]
    wq, wk = att.query_ego.weight.detach(), att.key_all.weight.detach()
    wv, wo = att.value_all.weight.detach(), att.attention_combine.weight.detach()
    out = []
    for i in range(h):
        s = slice(i * d, (i + 1) * d)
        out.append({"qk": (wq[s].T @ wk[s]).numpy(), "ov": (wo[:, s] @ wv[s]).numpy()})
    return out


def weight_product(mlp):
    """(W1 W0)^T of an MLP's first two layers, shape (inputs, second-layer neurons): row i is
    how input i reaches each neuron of the second layer through the first linear maps (biases
    and the ReLU between them left out). The notebook's W0^T W1 contracts W0's output index
    with W1's *output* index (torch weights are out x in), which composes nothing."""
    w0 = mlp.layers[0].weight.detach().numpy()
    w1 = mlp.layers[1].weight.detach().numpy() if len(mlp.layers) > 1 else np.eye(w0.shape[0])
    return (w1 @ w0).T


def weight_products(net):
    """{name: (W1 W0)^T} for the ego and others embeddings (features x neurons) and the
    output MLP (attention-output units x neurons)."""
    return {
        "ego_embedding": weight_product(net.ego_embedding),
        "others_embedding": weight_product(net.others_embedding),
        "output_layer": weight_product(net.output_layer),
    }


def ego_attention_per_state(attention):
    """attention (states, heads, entities) -> per state, averaged over heads, the ego's
    self-attention weight and the entropy of its attention row (nats): two (states,) arrays."""
    a = np.asarray(attention, dtype=float)
    entropy = -(a * np.log(a + 1e-12)).sum(-1)
    return a[..., 0].mean(-1), entropy.mean(-1)


def ego_attention_stats(attention):
    """attention (states, heads, entities) -> mean ego self-attention weight and mean entropy."""
    self_att, entropy = ego_attention_per_state(attention)
    return {"ego_self_attention": float(self_att.mean()), "entropy": float(entropy.mean())}
