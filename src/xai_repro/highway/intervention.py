"""Interventions on the Q-network: head / vehicle ablation, perturbation of the last hidden
layer, and the logit lens. Pure functions of a network and states (N, entities, features)."""

import numpy as np
import torch


def head_means(net, x):
    """Each attention head's output averaged over states ``x``: (heads, 1, features per head),
    what mean-ablation puts in place of an ablated head."""
    with torch.no_grad():
        ego, others, mask = net.split_input(x)
        out, _ = net.attention_layer.head_outputs(
            net.ego_embedding(ego), net.others_embedding(others), mask
        )
    return out.mean(0)


def ablated_policy(net, heads=(), remove_most_attended=False, presence_idx=0, means=None):
    """Greedy policy of ``net`` with attention ``heads`` ablated (replaced by ``means`` from
    head_means, or zeroed when None) and/or, at every step, the other vehicle the ego attends
    to most removed from the observation (presence 0)."""

    def act(obs):
        x = torch.as_tensor(obs, dtype=torch.float32)[None].clone()
        with torch.no_grad():
            if remove_most_attended and x[0, 1:, presence_idx].any():
                att = net.get_attention_matrix(x)[0, :, 0, 1:].mean(0)  # (others,)
                att = att.masked_fill(x[0, 1:, presence_idx] == 0, -1.0)
                x[0, 1 + int(att.argmax()), presence_idx] = 0.0
            net.attention_layer.ablated_heads = tuple(heads)
            net.attention_layer.ablation_means = means
            try:
                return int(net(x).argmax(1))
            finally:
                net.attention_layer.ablated_heads = ()
                net.attention_layer.ablation_means = None

    return act


def remove_most_attended(net, x, presence_idx=0):
    """States with, in each, the observed other vehicle the ego attends to most (mean over
    heads) removed (presence 0)."""
    with torch.no_grad():
        att = net.get_attention_matrix(x)[:, :, 0, 1:].mean(1)
    att = att.masked_fill(x[:, 1:, presence_idx] == 0, -1.0)
    xr = x.clone()
    has_other = x[:, 1:, presence_idx].any(dim=1)
    rows = torch.arange(len(x))[has_other]
    xr[rows, att.argmax(1)[has_other] + 1, presence_idx] = 0.0
    return xr


def ablation_per_state(net, x, heads=(), remove_vehicle=False, means=None):
    """Per state of ``x``: whether an ablation (heads replaced by ``means``, or zeroed when
    None; or the most-attended vehicle removed) changes the greedy action, and the mean over
    actions of |dQ|: {"action_change": (states,) bool, "abs_q_change": (states,)}."""
    with torch.no_grad():
        q0 = net(x)
        xs = remove_most_attended(net, x) if remove_vehicle else x
        net.attention_layer.ablated_heads = tuple(heads)
        net.attention_layer.ablation_means = means
        try:
            q = net(xs)
        finally:
            net.attention_layer.ablated_heads = ()
            net.attention_layer.ablation_means = None
    return {
        "action_change": (q.argmax(1) != q0.argmax(1)).numpy(),
        "abs_q_change": (q - q0).abs().mean(1).numpy(),
    }


def ablation_on_states(net, x, heads=(), remove_vehicle=False, means=None):
    """Greedy-action change rate and mean |dQ| of an ablation over states ``x``
    (ablation_per_state averaged over the states)."""
    per = ablation_per_state(net, x, heads, remove_vehicle, means)
    return {
        "action_change_rate": float(per["action_change"].mean()),
        "mean_abs_q_change": float(per["abs_q_change"].mean()),
    }


def noise_flips(net, x, sigmas, rng):
    """Whether the greedy action flips when Gaussian noise of std sigma * std(h) is added to
    the last hidden layer h (then ReLU): a (sigmas, states) bool array."""
    with torch.no_grad():
        h = net.features(x)
        base = net.output_layer.predict(h).argmax(1)
        scale = float(h.std())
        flips = []
        for s in sigmas:
            noise = torch.as_tensor(rng.normal(0, s * scale, size=h.shape), dtype=torch.float32)
            flips.append(
                (net.output_layer.predict(torch.relu(h + noise)).argmax(1) != base).numpy()
            )
    return np.stack(flips)


def noise_flip_rates(net, x, sigmas, rng):
    """Greedy-action flip rate per sigma (noise_flips averaged over the states)."""
    return [float(r) for r in noise_flips(net, x, sigmas, rng).mean(1)]


def shift_last_hidden(net, x, shift=0.1):
    """The notebook's perturbation: add ``shift`` to every unit of the last hidden layer and
    apply the Q head. Returns mean and max |dQ| per action, the mean L2 norm of dQ (the
    notebook's printout) and the greedy-action flip rate. The head is linear, so dQ =
    shift * W_head.sum(1) for every state (the notebook's numbers are state-independent)."""
    with torch.no_grad():
        h = net.features(x)
        q0 = net.output_layer.predict(h)
        dq = net.output_layer.predict(h + shift) - q0
    return {
        "shift": shift,
        "mean_abs_dq": dq.abs().mean(0).tolist(),
        "max_abs_dq": dq.abs().max(0).values.tolist(),
        "mean_l2_dq": float(dq.norm(dim=1).mean()),
        "flip_rate": float(((q0 + dq).argmax(1) != q0.argmax(1)).float().mean()),
    }


def lens_representations(net, x):
    """The representations the logit lens reads, name -> (N, width): the ego embedding, the
    attention output and each hidden layer of the output MLP (after its ReLU)."""
    with torch.no_grad():
        ego, others, mask = net.split_input(x)
        ego_emb = net.ego_embedding(ego)
        att, _ = net.attention_layer(ego_emb, net.others_embedding(others), mask)
        reps = {"ego_embedding": ego_emb.reshape(len(x), -1), "attention_output": att}
        h = att
        for i, layer in enumerate(net.output_layer.layers):
            h = torch.relu(layer(h))
            reps[f"output_layer.layers.{i}"] = h
    return reps


def chance_guess(net, x):
    """Whether each greedy action on ``x`` is the most frequent one: a constant guess's hits,
    (states,) bool; their mean is the agreement that guess reaches (at least 1/actions)."""
    with torch.no_grad():
        actions = net(x).argmax(1)
    return (actions == torch.bincount(actions).argmax()).numpy()


def chance_agreement(net, x):
    """The agreement a constant guess reaches with the greedy actions on ``x``: the share of
    the most frequent greedy action (at least 1/actions)."""
    return float(chance_guess(net, x).mean())


def logit_lens_per_state(net, x):
    """Apply the Q head (output_layer.predict) to each intermediate representation of its
    width; per representation, per state: whether its argmax is the final greedy action, and
    the mean over actions of |Q_lens - Q|. Other widths are skipped."""
    head = net.output_layer.predict
    with torch.no_grad():
        q = net(x)
        out = {}
        for name, rep in lens_representations(net, x).items():
            if rep.shape[-1] != head.in_features:
                continue
            ql = head(rep)
            out[name] = {
                "agreement": (ql.argmax(1) == q.argmax(1)).numpy(),
                "mean_abs_dq": (ql - q).abs().mean(1).numpy(),
            }
    return out


def logit_lens(net, x):
    """logit_lens_per_state averaged over the states: per representation, the agreement rate
    with the final greedy action and the mean |Q_lens - Q| over states and actions. The last
    hidden layer is the head's own input, so it agrees 100 % with dQ = 0."""
    return {
        name: {k: float(v.mean()) for k, v in per.items()}
        for name, per in logit_lens_per_state(net, x).items()
    }


def ablation_variants(heads):
    """Ablation name -> ablated_policy / ablation_on_states keywords."""
    out = {f"head_{h}": {"heads": (h,)} for h in range(heads)}
    out["most_attended_vehicle"] = {"remove_most_attended": True}
    return out
