"""Rule ``analyze_highway``: every analysis of the seed notebook (and its TODOs) on the
trained and untrained Q-networks over their rollouts; writes figures and analysis.json."""

import logging

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from xai_repro.common import (
    InputError,
    atomic_output,
    limit_threads,
    save_figure,
    seed_everything,
    setup_logging,
    write_json,
)  # noqa: E402
from xai_repro.highway.explain import (
    ablated_policy,
    ego_attention_stats,
    integrated_gradients,
    presence_baseline,
    qk_ov_circuits,
    rank_correlation,
)  # noqa: E402
from xai_repro.highway.model import ACTIONS, FEATURES, load_network, make_env, run_episode  # noqa: E402

log = logging.getLogger(__name__)
MODELS = ("trained", "untrained")


def load_rollout(path):
    try:
        data = np.load(path)
        return {k: data[k] for k in data.files}
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"{path}: not a readable rollout .npz ({exc})") from exc


def ig_per_action(net, x, n_steps):
    attrs, errs = [], []
    for a in range(len(ACTIONS)):
        attr, err = integrated_gradients(net, x, a, n_steps)
        attrs.append(attr.numpy())
        errs.append(err.numpy())
    return np.stack(attrs), np.concatenate(errs)  # (actions, steps, entities, features)


def fig_triplet(mats, titles, suptitle, xlabels=None, ylabels=None):
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for ax, m, t in zip(axes, mats, titles):
        v = np.abs(m).max() or 1.0
        im = ax.imshow(m, cmap="RdBu_r", vmin=-v, vmax=v, aspect="auto")
        ax.set_title(t)
        fig.colorbar(im, ax=ax)
        if xlabels is not None:
            ax.set_xticks(range(len(xlabels)), xlabels, rotation=45)
        if ylabels is not None:
            ax.set_yticks(range(len(ylabels)), ylabels)
    fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def layer_conductance(net, x, layers):
    from captum.attr import LayerConductance

    base = presence_baseline(x)
    out = {}
    for name, module in layers.items():
        out[name] = [
            float(
                LayerConductance(net, module)
                .attribute(x, baselines=base, target=a, n_steps=20)
                .sum(-1)
                .mean()
            )
            for a in range(len(ACTIONS))
        ]
    return out


def episode_returns(policy, seeds):
    """Returns of ``policy`` over seeded intersection-v0 episodes."""
    env = make_env()
    try:
        return [run_episode(env, policy, s)["return"] for s in seeds]
    finally:
        env.close()


def main(
    models,
    rollouts,
    figs,
    analysis_path,
    gif_path,
    *,
    seed,
    ig_steps,
    shap_background,
    perturb_sigmas,
    ablation_episodes,
):
    seed_everything(seed)
    nets = {m: load_network(models[m]) for m in MODELS}
    rolls = {m: load_rollout(rollouts[m]) for m in MODELS}
    xs = {m: torch.as_tensor(rolls[m]["obs"], dtype=torch.float32) for m in MODELS}
    result = {"attention": {}, "ig": {}}

    # attention statistics
    for m in MODELS:
        result["attention"][m] = ego_attention_stats(rolls[m]["attention"])

    # IG per action with completeness, on the trained rollout's states, both nets
    x = xs["trained"]
    ig = {}
    for m in MODELS:
        ig[m], err = ig_per_action(nets[m], x, ig_steps)
        result["ig"][m] = {
            "completeness_error_median": float(np.median(err)),
            "completeness_error_max": float(err.max()),
        }
    # the worse of the two nets' medians (pooling them let the untrained net's near-zero
    # errors hide the trained net's)
    result["ig_completeness_error_median"] = max(
        result["ig"][m]["completeness_error_median"] for m in MODELS
    )
    imp = {m: np.abs(ig[m]).sum(axis=2).mean(axis=1) for m in MODELS}  # (actions, features)
    fig = fig_triplet(
        [imp["trained"], imp["untrained"], imp["trained"] - imp["untrained"]],
        ["trained", "untrained", "difference"],
        "IG feature importance per action (mean |attr| over vehicles, states)",
        FEATURES,
        ACTIONS,
    )
    save_figure(fig, figs["ig"])

    # model-parameter randomisation sanity check: IG of trained vs untrained (random init)
    result["randomisation_rank_correlation"] = rank_correlation(ig["trained"], ig["untrained"])

    # QK / OV circuits, embeddings, MLP weights
    circ = {m: qk_ov_circuits(nets[m]) for m in MODELS}
    heads = len(circ["trained"])
    fig, axes = plt.subplots(heads * 2, 3, figsize=(13, 4 * heads * 2), squeeze=False)
    for h in range(heads):
        for r, kind in enumerate(("qk", "ov")):
            mats = [
                circ["trained"][h][kind],
                circ["untrained"][h][kind],
                circ["trained"][h][kind] - circ["untrained"][h][kind],
            ]
            for c, (mat, t) in enumerate(zip(mats, ("trained", "untrained", "difference"))):
                v = np.abs(mat).max() or 1.0
                axes[2 * h + r, c].imshow(mat, cmap="RdBu_r", vmin=-v, vmax=v)
                axes[2 * h + r, c].set_title(f"head {h} {kind.upper()} - {t}")
    fig.tight_layout()
    save_figure(fig, figs["circuits"])

    def weights(net, name):
        return dict(net.named_parameters())[name].detach().numpy()

    names = [
        n
        for n, p in nets["trained"].named_parameters()
        if n.endswith("weight") and ("embedding" in n or "output_layer" in n)
    ]
    fig, axes = plt.subplots(len(names), 3, figsize=(13, 3 * len(names)), squeeze=False)
    for i, n in enumerate(names):
        mats = [weights(nets["trained"], n), weights(nets["untrained"], n)]
        mats.append(mats[0] - mats[1])
        for c, (mat, t) in enumerate(zip(mats, ("trained", "untrained", "difference"))):
            v = np.abs(mat).max() or 1.0
            axes[i, c].imshow(mat, cmap="RdBu_r", vmin=-v, vmax=v, aspect="auto")
            axes[i, c].set_title(f"{n} - {t}", fontsize=8)
    fig.tight_layout()
    save_figure(fig, figs["weights"])

    # layer conductance per action, each layer
    cond = {}
    for m in MODELS:
        net = nets[m]
        layers = {
            "ego_embedding": net.ego_embedding.layers[-1],
            "others_embedding": net.others_embedding.layers[-1],
            "attention_combine": net.attention_layer.attention_combine,
            **{f"output_layer.{i}": layer for i, layer in enumerate(net.output_layer.layers)},
        }
        cond[m] = layer_conductance(net, x, layers)
    result["layer_conductance"] = cond
    lnames = list(cond["trained"])
    fig = fig_triplet(
        [np.array([cond[m][n] for n in lnames]) for m in MODELS]
        + [
            np.array([cond["trained"][n] for n in lnames])
            - np.array([cond["untrained"][n] for n in lnames])
        ],
        ["trained", "untrained", "difference"],
        "layer conductance per action (summed over neurons)",
        ACTIONS,
        lnames,
    )
    save_figure(fig, figs["conductance"])

    # neuron conductance of the last hidden layer for the greedy action
    from captum.attr import NeuronConductance

    last = nets["trained"].output_layer.layers[-1]
    acts = rolls["trained"][
        [k for k in rolls["trained"] if k.startswith("act__output_layer.layers")][-1]
    ]
    top = int(np.abs(acts).mean(0).argmax())
    nc = NeuronConductance(nets["trained"], last).attribute(
        x,
        neuron_selector=top,
        baselines=presence_baseline(x),
        target=int(np.bincount(rolls["trained"]["actions"]).argmax()),
        n_steps=20,
    )
    result["neuron_conductance"] = {
        "neuron": top,
        "per_feature": np.abs(nc.detach().numpy()).sum(1).mean(0).tolist(),
    }

    # neuron activations over time (every nn.Linear, both rollouts)
    keys = sorted(k for k in rolls["trained"] if k.startswith("act__"))
    fig, axes = plt.subplots(len(keys), 2, figsize=(12, 2.2 * len(keys)), squeeze=False)
    for i, k in enumerate(keys):
        for c, m in enumerate(MODELS):
            axes[i, c].imshow(rolls[m][k].T, aspect="auto", cmap="viridis")
            axes[i, c].set_title(f"{m}: {k[5:]}", fontsize=8)
            axes[i, c].set_xlabel("step")
    fig.tight_layout()
    save_figure(fig, figs["activations"])

    # frames beside attention: contact sheet and GIF
    frames, att = rolls["trained"]["frames"], rolls["trained"]["attention"]
    n = len(frames)
    cols = min(n, 6)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows * 2, cols, figsize=(2.6 * cols, 5.2 * rows), squeeze=False)
    for i in range(rows * cols):
        r, c = divmod(i, cols)
        for ax in (axes[2 * r, c], axes[2 * r + 1, c]):
            ax.axis("off")
        if i < n:
            axes[2 * r, c].imshow(frames[i])
            axes[2 * r, c].set_title(f"t={i} {ACTIONS[rolls['trained']['actions'][i]]}", fontsize=8)
            axes[2 * r + 1, c].axis("on")
            axes[2 * r + 1, c].bar(range(att.shape[-1]), att[i].mean(0))
            axes[2 * r + 1, c].set_ylim(0, 1)
            axes[2 * r + 1, c].set_xlabel("vehicle (0 = ego)", fontsize=7)
    fig.tight_layout()
    save_figure(fig, figs["contact_sheet"])
    import imageio.v2 as imageio

    with atomic_output(gif_path) as tmp:
        imageio.mimsave(
            tmp,
            [np.asarray(f, dtype=np.uint8)[::2, ::2] for f in frames],
            format="GIF",
            duration=0.5,
        )

    # perturbation of the final hidden layer: Gaussian noise -> greedy action flip rate
    rng = np.random.default_rng(seed)
    pert = {}
    for m in MODELS:
        net = nets[m]
        with torch.no_grad():
            h = net.features(x)
            base_a = net.output_layer.predict(h).argmax(1)
            scale = float(h.std())
            pert[m] = []
            for s in perturb_sigmas:
                noise = torch.as_tensor(rng.normal(0, s * scale, size=h.shape), dtype=torch.float32)
                pert[m].append(
                    float(
                        (net.output_layer.predict(torch.relu(h + noise)).argmax(1) != base_a)
                        .float()
                        .mean()
                    )
                )
    result["final_hidden_perturbation"] = {"sigmas": list(perturb_sigmas), **pert}
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for m in MODELS:
        ax.plot(perturb_sigmas, pert[m], marker="o", label=m)
    ax.set_xlabel("noise std / hidden std")
    ax.set_ylabel("greedy action flip rate")
    ax.legend()
    save_figure(fig, figs["perturbation"])

    # SHAP GradientExplainer on the Q-network over rollout states
    import shap

    bg = torch.cat([xs["trained"], xs["untrained"]])[:shap_background]
    shap_imp = {}
    for m in MODELS:
        sv = np.asarray(shap.GradientExplainer(nets[m], bg).shap_values(x))  # (N,15,7,actions)
        if sv.shape[-1] != len(ACTIONS):
            sv = np.moveaxis(sv, 0, -1)
        shap_imp[m] = np.abs(sv).sum(1).mean(0).T  # (actions, features)
    result["shap_feature_importance"] = {m: shap_imp[m].tolist() for m in MODELS}
    fig = fig_triplet(
        [shap_imp["trained"], shap_imp["untrained"], shap_imp["trained"] - shap_imp["untrained"]],
        ["trained", "untrained", "difference"],
        "SHAP (GradientExplainer) mean |value| per action",
        FEATURES,
        ACTIONS,
    )
    save_figure(fig, figs["shap"])

    # ablation: zero each head; remove the most-attended observed vehicle. Measured on the
    # rollout's states (action change, |dQ|) and over seeded episodes (return change).
    variants = {f"head_{h}": {"heads": (h,)} for h in range(heads)}
    variants["most_attended_vehicle"] = {"remove_most_attended": True}
    seeds = [seed + 50_000 + i for i in range(ablation_episodes)]
    abl = {}
    for m in MODELS:
        net = nets[m]
        with torch.no_grad():
            q0 = net(x)
        a0 = q0.argmax(1)
        base = episode_returns(ablated_policy(net), seeds)
        abl[m] = {"intact_mean_return": float(np.mean(base))}
        for name, kw in variants.items():
            pol = ablated_policy(net, **kw)
            with torch.no_grad():
                a = torch.tensor([pol(s) for s in x.numpy()])
                if "heads" in kw:
                    net.attention_layer.ablated_heads = kw["heads"]
                    q = net(x)
                    net.attention_layer.ablated_heads = ()
                else:
                    att = net.get_attention_matrix(x)[:, :, 0, 1:].mean(1)  # others only
                    att = att.masked_fill(x[:, 1:, 0] == 0, -1.0)
                    xr = x.clone()
                    xr[torch.arange(len(x)), att.argmax(1) + 1, 0] = 0.0  # presence 0: removed
                    q = net(xr)
            rets = episode_returns(pol, seeds)
            abl[m][name] = {
                "action_change_rate": float((a != a0).float().mean()),
                "mean_abs_q_change": float((q - q0).abs().mean()),
                "mean_return": float(np.mean(rets)),
                "return_change": float(np.mean(rets) - np.mean(base)),
                "episodes": len(seeds),
            }
            log.info("ablation %s %s: %s", m, name, abl[m][name])
    result["ablation"] = abl
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    labels = list(variants)
    for j, m in enumerate(MODELS):
        for ax, key in zip(axes, ("action_change_rate", "return_change")):
            ax.bar(
                np.arange(len(labels)) + 0.4 * j,
                [abl[m][k][key] for k in labels],
                0.4,
                label=m,
            )
    axes[0].set_ylabel("greedy action change rate (rollout states)")
    axes[1].set_ylabel(f"mean return change ({len(seeds)} episodes)")
    axes[1].axhline(0, color="k", lw=0.5)
    for ax in axes:
        ax.set_xticks(np.arange(len(labels)) + 0.2, labels)
    axes[0].legend()
    save_figure(fig, figs["ablation"])
    write_json(analysis_path, result)


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    limit_threads(sm.threads)
    figs = {
        k: sm.output[k]
        for k in (
            "ig",
            "circuits",
            "weights",
            "conductance",
            "activations",
            "contact_sheet",
            "perturbation",
            "shap",
            "ablation",
        )
    }
    main(
        {"trained": sm.input.trained, "untrained": sm.input.untrained},
        {"trained": sm.input.rollout_trained, "untrained": sm.input.rollout_untrained},
        figs,
        sm.output.analysis,
        sm.output.gif,
        **sm.params,
    )
