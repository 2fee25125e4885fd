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


def differential_ig(
    mmn: MMNet, observations, i: int, j: int, *, m: int = 10, rule: str = "seed"
) -> tuple[np.ndarray, float]:
    """Differential IG of step ``i`` against baseline step ``j`` of one episode.

    For each observation code unit k, F_k(x) = (pre_k(x) - pre_k(x_i))^2, where pre is the
    observation QBN encoder before quantization applied to the features of x; the
    attribution to the raw 4-d observation is (x_i - x_j) * sum_w w grad F_k(path point),
    averaged over k. Returns (attribution (shape of one observation, (4,) for CartPole),
    completeness error |sum - (F(x_i) - F(x_j))|).
    """
    torch.backends.cudnn.enabled = False  # captum IG on GRUs fails under cuDNN in eval mode
    obs = torch.tensor(np.asarray(observations, dtype=np.float32))
    x_i, x_j = obs[i].clone(), obs[j].clone()

    def pre(x):
        return mmn.obx_net.pre_quantization(mmn.gru_net.input_ff(x))

    with torch.no_grad():
        target = pre(x_i[None])[0]

    def F(x):  # (n, 4) -> (n, B)
        return (pre(x) - target) ** 2

    points, weights = path_points(x_j, x_i, m, rule)
    points = points.clone().requires_grad_(True)
    values = F(points)
    n_units = values.shape[1]
    grads = torch.stack(
        [
            torch.autograd.grad(values[:, k].sum(), points, retain_graph=True)[0]
            for k in range(n_units)
        ]
    )  # (B, points, *observation shape)
    w = weights.view(1, -1, *[1] * x_i.dim())
    attr_per_unit = (x_i - x_j)[None] * (w * grads).sum(dim=1)  # (B, *observation shape)
    attribution = attr_per_unit.mean(dim=0)
    with torch.no_grad():
        delta = float((F(x_i[None]) - F(x_j[None])).mean())
    return attribution.detach().numpy(), abs(float(attribution.sum()) - delta)
