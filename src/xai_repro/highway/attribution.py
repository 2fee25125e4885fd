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


def rank_correlation(a, b, where=None):
    """Spearman rank correlation (scipy, ties at their average rank) of two arrays over the
    entries where ``where`` is true (all entries when None): pass where the input differs from
    the baseline, since attributions are zero by construction elsewhere (presence, absent
    vehicles) and that shared zero pattern alone correlates unrelated attributions."""
    from scipy.stats import spearmanr

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if where is not None:
        where = np.broadcast_to(np.asarray(where, dtype=bool), a.shape)
        a, b = a[where], b[where]
    return float(spearmanr(np.ravel(a), np.ravel(b)).statistic)


def notebook_layers(net):
    """The notebook's 7 conductance layers (its cell 'Layer conductance'), name -> module."""
    return {
        **{f"ego_embedding.layers.{i}": m for i, m in enumerate(net.ego_embedding.layers)},
        **{f"others_embedding.layers.{i}": m for i, m in enumerate(net.others_embedding.layers)},
        **{f"output_layer.layers.{i}": m for i, m in enumerate(net.output_layer.layers)},
        "output_layer.predict": net.output_layer.predict,
    }


# One integration rule for LayerConductance and NeuronConductance (captum's defaults differ:
# Gauss-Legendre for the first, the trapezoid rule for the second): their sums must be
# comparable, and on a ReLU network neither rule converges faster than ~1/n_steps.
CONDUCTANCE_METHOD = "riemann_trapezoid"


def layer_conductance(net, x, module, action, n_steps=300):
    """captum LayerConductance of Q(., action) per state and neuron of ``module``'s output,
    summed over vehicle slots: shape (N, neurons)."""
    from captum.attr import LayerConductance

    cond = LayerConductance(net, module).attribute(
        x,
        baselines=presence_baseline(x),
        target=action,
        n_steps=n_steps,
        method=CONDUCTANCE_METHOD,
    )
    cond = cond.detach().numpy()
    return cond.reshape(cond.shape[0], -1, cond.shape[-1]).sum(axis=1)


def neuron_layer_conductance(net, x, module, action, n_steps=300):
    """Layer conductance per neuron, averaged over states: shape (neurons,). Over a layer that
    cuts every path from input to output the neurons sum to the mean Q gap (completeness)."""
    return layer_conductance(net, x, module, action, n_steps).mean(axis=0)


def layer_conductances(net, x, n_steps=300):
    """{layer: (actions, N, neurons)} conductance on the notebook's 7 layers."""
    return {
        name: np.stack([layer_conductance(net, x, m, a, n_steps) for a in range(len(ACTIONS))])
        for name, m in notebook_layers(net).items()
    }


def conductance_cuts(layers):
    """Layer sets that cut every path from the input to Q, name -> layer names: each layer of
    the output MLP and the Q head alone, and each depth of the two embeddings together (the
    ego and others embeddings are parallel paths: neither alone is a cut)."""
    cuts = {name: [name] for name in layers if name.startswith("output_layer")}
    for name in layers:
        if name.startswith("ego_embedding.layers."):
            depth = name.rsplit(".", 1)[1]
            other = f"others_embedding.layers.{depth}"
            if other in layers:
                cuts[f"embeddings.layers.{depth}"] = [name, other]
    return cuts


def completeness_gaps(cond, gaps):
    """Per cut (conductance_cuts), sum over states and actions of |conductance total - Q gap|
    relative to the sum of |Q gap|; ``cond`` from layer_conductances, ``gaps`` (actions, N)."""
    gaps = np.asarray(gaps, dtype=float)
    scale = np.abs(gaps).sum()
    out = {}
    for cut, names in conductance_cuts(cond).items():
        total = sum(cond[n].sum(axis=-1) for n in names)  # (actions, N)
        out[cut] = float(np.abs(total - gaps).sum() / scale) if scale else 0.0
    return out


def neuron_conductance(net, x, module, neuron, action, n_steps=300):
    """captum NeuronConductance of ``neuron`` of ``module`` for Q(., action): signed, per
    input feature (summed over vehicle slots, mean over states), shape (features,)."""
    from captum.attr import NeuronConductance

    nc = NeuronConductance(net, module).attribute(
        x,
        neuron_selector=neuron,
        baselines=presence_baseline(x),
        target=action,
        n_steps=n_steps,
        method=CONDUCTANCE_METHOD,
    )
    return nc.detach().numpy().sum(axis=1).mean(axis=0)


def with_presence(background, state, presence_idx=0):
    """``background`` states with every row's presence set to that of ``state``: a SHAP
    background along whose paths to ``state`` the attention mask never changes."""
    bg = background.clone()
    bg[..., presence_idx] = state[..., presence_idx]
    return bg


def shap_values(net, background, x, nsamples=200, seed=0):
    """SHAP GradientExplainer (expected gradients) values of every action, signed, shape
    (N, entities, features, actions), each state explained against ``background`` with its
    own presence (with_presence): the presence feature gets 0 by construction and the mask is
    the state's own all along the paths. Also the background's mean Q per state, (N, actions),
    which the values sum to Q(x) minus, up to the sampling error (efficiency)."""
    import shap

    values, expected = [], []
    for i in range(len(x)):
        bg = with_presence(background, x[i])
        sv = np.asarray(
            shap.GradientExplainer(net, bg).shap_values(x[i : i + 1], nsamples=nsamples, rseed=seed)
        )
        if sv.shape[-1] != len(ACTIONS):  # older shap: list over outputs first
            sv = np.moveaxis(sv, 0, -1)
        values.append(sv[0])
        with torch.no_grad():
            expected.append(net(bg).mean(0).numpy())
    return np.stack(values), np.stack(expected)


def shap_efficiency_gap(net, x, values, expected):
    """Sum over states and actions of |sum of SHAP values - (Q(x) - background mean Q)|,
    relative to the summed |Q(x) - background mean Q|."""
    with torch.no_grad():
        target = net(x).numpy() - expected
    total = values.sum(axis=(1, 2))
    return float(np.abs(total - target).sum() / np.abs(target).sum())


def shap_importance(values):
    """Mean |SHAP value| per action and feature (summed over vehicles): (actions, features)."""
    return np.abs(values).sum(axis=1).mean(axis=0).T


def top_neurons(cond, layer):
    """Per action, the neuron of ``layer`` with the largest |mean conductance|."""
    return [int(np.abs(row).argmax()) for row in cond[layer]]
