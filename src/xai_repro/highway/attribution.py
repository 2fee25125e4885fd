"""Attributions of the Q-network: integrated gradients, layer/neuron conductance, SHAP.

Every function takes an EgoAttentionNetwork and states ``x`` of shape (N, entities, features)
and returns numpy arrays; no I/O. The baseline keeps the presence feature and zeroes the
others, so the attention mask is the same along the whole integration path.
"""

import numpy as np
import torch

from xai_repro.highway.network import ACTIONS


def presence_baseline(x, presence_idx=0):
    """IG baseline that keeps the presence feature and zeroes the others (same attention mask)."""
    base = torch.zeros_like(x)
    base[..., presence_idx] = x[..., presence_idx]
    return base


def q_gap(net, x, action):
    """Q(x, action) - Q(baseline, action) per state (what a complete attribution sums to)."""
    with torch.no_grad():
        return (net(x)[:, action] - net(presence_baseline(x))[:, action]).numpy()


def integrated_gradients(net, x, action, n_steps=50):
    """captum IG of Q(x, action); returns (attributions, completeness error per sample)."""
    from captum.attr import IntegratedGradients

    base = presence_baseline(x)
    attr = IntegratedGradients(net).attribute(x, baselines=base, target=action, n_steps=n_steps)
    with torch.no_grad():
        gap = net(x)[:, action] - net(base)[:, action]
    err = (attr.sum(dim=(1, 2)) - gap).abs()
    return attr.detach(), err.detach()


def ig_all_actions(net, x, n_steps):
    """IG for every action: attributions (actions, N, entities, features), errors (actions*N,)."""
    attrs, errs = [], []
    for a in range(len(ACTIONS)):
        attr, err = integrated_gradients(net, x, a, n_steps)
        attrs.append(attr.numpy())
        errs.append(err.numpy())
    return np.stack(attrs), np.concatenate(errs)


def ig_summaries(attr):
    """Views of IG attributions (actions, N, entities, features), each averaged over states.

    ``abs_per_feature`` (actions, features): sum over vehicles of |attr|;
    ``signed_per_feature`` (actions, features): sum over vehicles of the signed attr (the
    notebook's mean over vehicles times the number of slots), so its row sums are the mean
    Q gap; ``signed_per_slot`` (actions, entities, features): signed, slot 0 = ego.
    """
    attr = np.asarray(attr, dtype=float)
    return {
        "abs_per_feature": np.abs(attr).sum(axis=2).mean(axis=1),
        "signed_per_feature": attr.sum(axis=2).mean(axis=1),
        "signed_per_slot": attr.mean(axis=1),
    }


def rank_correlation(a, b):
    """Spearman rank correlation of two flattened arrays."""
    ra = np.argsort(np.argsort(np.ravel(a))).astype(float)
    rb = np.argsort(np.argsort(np.ravel(b))).astype(float)
    return float(np.corrcoef(ra, rb)[0, 1])


def notebook_layers(net):
    """The notebook's 7 conductance layers (its cell 'Layer conductance'), name -> module."""
    return {
        **{f"ego_embedding.layers.{i}": m for i, m in enumerate(net.ego_embedding.layers)},
        **{f"others_embedding.layers.{i}": m for i, m in enumerate(net.others_embedding.layers)},
        **{f"output_layer.layers.{i}": m for i, m in enumerate(net.output_layer.layers)},
        "output_layer.predict": net.output_layer.predict,
    }


def neuron_layer_conductance(net, x, module, action, n_steps=20):
    """captum LayerConductance of Q(., action) per neuron of ``module``'s output, summed over
    vehicle slots and averaged over states: shape (neurons,). Over a layer that cuts every
    path from input to output the neurons sum to the mean Q gap (completeness)."""
    from captum.attr import LayerConductance

    cond = LayerConductance(net, module).attribute(
        x, baselines=presence_baseline(x), target=action, n_steps=n_steps
    )
    cond = cond.detach().numpy()
    return cond.reshape(cond.shape[0], -1, cond.shape[-1]).sum(axis=1).mean(axis=0)


def conductance_per_neuron(net, x, n_steps=20):
    """{layer: (actions, neurons)} per-neuron conductance on the notebook's 7 layers."""
    return {
        name: np.stack(
            [neuron_layer_conductance(net, x, m, a, n_steps) for a in range(len(ACTIONS))]
        )
        for name, m in notebook_layers(net).items()
    }


def neuron_conductance(net, x, module, neuron, action, n_steps=20):
    """captum NeuronConductance of ``neuron`` of ``module`` for Q(., action): signed, per
    input feature (summed over vehicle slots, mean over states), shape (features,)."""
    from captum.attr import NeuronConductance

    nc = NeuronConductance(net, module).attribute(
        x, neuron_selector=neuron, baselines=presence_baseline(x), target=action, n_steps=n_steps
    )
    return nc.detach().numpy().sum(axis=1).mean(axis=0)


def shap_importance(net, background, x):
    """SHAP GradientExplainer: mean |value| per action and feature (summed over vehicles)."""
    import shap

    sv = np.asarray(shap.GradientExplainer(net, background).shap_values(x))
    if sv.shape[-1] != len(ACTIONS):  # older shap: list over outputs first
        sv = np.moveaxis(sv, 0, -1)
    return np.abs(sv).sum(axis=1).mean(axis=0).T  # (actions, features)
