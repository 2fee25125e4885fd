"""Differential Integrated Gradients: attributions of F_k(x) = (pre_k(x) - pre_k(x_i))^2
along the straight path from a baseline x_j to the input x_i (Danesh et al. 2020)."""

import numpy as np
import torch

from xai_repro.diffig.networks import MMNet


def path_points(x_baseline: torch.Tensor, x_input: torch.Tensor, m: int, rule: str):
    """Points and weights of the path integral from baseline to input.

    ``seed``: the seed's convention, the mean gradient over the m+1 points
    x_j + (k/m)(x_i - x_j), k = 0..m. ``riemann_left``/``riemann_right``/``trapezoid``:
    the usual m-step rules.
    """
    if rule == "seed":
        alphas = torch.linspace(0, 1, m + 1)
        weights = torch.full((m + 1,), 1.0 / (m + 1))
    elif rule == "riemann_left":
        alphas = torch.arange(m) / m
        weights = torch.full((m,), 1.0 / m)
    elif rule == "riemann_right":
        alphas = torch.arange(1, m + 1) / m
        weights = torch.full((m,), 1.0 / m)
    elif rule == "trapezoid":
        alphas = torch.linspace(0, 1, m + 1)
        weights = torch.full((m + 1,), 1.0 / m)
        weights[0] = weights[-1] = 0.5 / m
    else:
        raise ValueError(f"unknown integration rule {rule!r}")
    alphas = alphas.view(-1, *[1] * x_input.dim())  # any observation shape
    points = x_baseline[None] + alphas * (x_input - x_baseline)[None]
    return points, weights


def _per_unit(mmn: MMNet, x_i: torch.Tensor, x_j: torch.Tensor, m: int, rule: str):
    """Per observation-code unit k: the IG of F_k and the path-averaged gradient of F_k.

    F_k(x) = (pre_k(x) - pre_k(x_i))^2, pre the observation QBN encoder before quantization
    applied to the features of x. Returns (IG (B, *obs shape), averaged gradient
    (B, *obs shape), F).
    """
    torch.backends.cudnn.enabled = False  # captum IG on GRUs fails under cuDNN in eval mode

    def pre(x):
        return mmn.obx_net.pre_quantization(mmn.gru_net.input_ff(x))

    with torch.no_grad():
        target = pre(x_i[None])[0]

    def F(x):  # (n, *obs shape) -> (n, B)
        return (pre(x) - target) ** 2

    points, weights = path_points(x_j, x_i, m, rule)
    points = points.clone().requires_grad_(True)
    values = F(points)
    grads = torch.stack(
        [
            torch.autograd.grad(values[:, k].sum(), points, retain_graph=True)[0]
            for k in range(values.shape[1])
        ]
    )  # (B, points, *observation shape)
    avg_grads = (weights.view(1, -1, *[1] * x_i.dim()) * grads).sum(dim=1)
    return ((x_i - x_j)[None] * avg_grads).detach(), avg_grads.detach(), F


def _pair(observations, i: int, j: int):
    obs = torch.tensor(np.asarray(observations, dtype=np.float32))
    return obs[i].clone(), obs[j].clone()


def differential_ig(
    mmn: MMNet, observations, i: int, j: int, *, m: int = 10, rule: str = "seed"
) -> tuple[np.ndarray, float]:
    """Differential IG of step ``i`` against baseline step ``j`` of one episode.

    The attribution to the raw observation is (x_i - x_j) * sum_w w grad F_k(path point),
    averaged over every code unit k. Returns (attribution (shape of one observation, (4,)
    for CartPole), completeness error |sum - (F(x_i) - F(x_j))|).
    """
    x_i, x_j = _pair(observations, i, j)
    attr_per_unit, _, F = _per_unit(mmn, x_i, x_j, m, rule)
    attribution = attr_per_unit.mean(dim=0)
    with torch.no_grad():
        delta = float((F(x_i[None]) - F(x_j[None])).mean())
    return attribution.numpy(), abs(float(attribution.sum()) - delta)


def completeness_gap(mmn: MMNet, observations, i: int, j: int) -> float:
    """|F(x_i) - F(x_j)| averaged over the code units, the quantity the attributions of
    ``differential_ig`` sum to; F(x_i) = 0, so it is mean_k (pre_k(x_j) - pre_k(x_i))^2."""
    x_i, x_j = _pair(observations, i, j)
    with torch.no_grad():
        pre = mmn.obx_net.pre_quantization(mmn.gru_net.input_ff(torch.stack([x_i, x_j])))
    return float(((pre[1] - pre[0]) ** 2).mean())


def relative_completeness_error(error: float, gap: float) -> float | None:
    """The completeness error as a fraction of |F(x_i) - F(x_j)|; None if that is 0."""
    return error / gap if gap > 0 else None


def masked_differential_ig(
    mmn: MMNet, observations, i: int, j: int, *, m: int = 50, rule: str = "seed"
) -> dict:
    """Differential IG as ``main_IG.py`` (Atari) computes it.

    Only the observation-code units whose quantized value differs between input and
    baseline count: ``masked`` is their mean IG map ((x_i - x_j) times the averaged
    gradient), ``unmasked`` their mean averaged gradient (not multiplied by x_i - x_j, as
    its ``mask_diff_ig`` plots). With no differing unit both maps are zero.
    """
    x_i, x_j = _pair(observations, i, j)
    attr_per_unit, grad_per_unit, _ = _per_unit(mmn, x_i, x_j, m, rule)
    with torch.no_grad():
        codes = mmn.obx_net.encode(mmn.gru_net.input_ff(torch.stack([x_i, x_j])))
    differing = (codes[0] != codes[1]).numpy()
    if not differing.any():
        zero = np.zeros(tuple(x_i.shape), dtype=np.float32)
        return {"masked": zero, "unmasked": zero.copy(), "differing_units": 0}
    return {
        "masked": attr_per_unit[differing].mean(dim=0).numpy(),
        "unmasked": grad_per_unit[differing].mean(dim=0).numpy(),
        "differing_units": int(differing.sum()),
    }
