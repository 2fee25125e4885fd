"""Training of the diffig study's networks: the GRU policy, the QBNs, the MMN fine-tuning."""

import copy
import logging
import time

import numpy as np
import torch
from torch import nn

from xai_repro.diffig.networks import QBN, GRUNet, MMNet
from xai_repro.diffig.rollouts import (
    CARTPOLE,
    Task,
    as_input,
    evaluate,
    expert_action,
    make_env,
    run_episode,
)

log = logging.getLogger(__name__)


def _expert_episodes(net, env, rng, episodes: int, beta: float) -> list[np.ndarray]:
    """Observation sequences of episodes driven by the expert w.p. ``beta`` per step, else the net."""
    out = []
    for _ in range(episodes):
        obs, _ = env.reset(seed=int(rng.integers(2**31)))
        hx = net.initial_hidden()
        seq, done = [], False
        while not done:
            seq.append(np.array(obs, dtype=np.float32))
            with torch.no_grad():
                logits, hx, _, _ = net.step(as_input(obs), hx)
            action = expert_action(obs) if rng.random() < beta else int(logits.argmax())
            obs, _, terminated, truncated, _ = env.step(action)
            done = terminated or truncated
        out.append(np.stack(seq))
    return out


def _fit_sequence(net, opt, seq, rng, *, truncation: int, grad_clip, memory_dropout: float):
    """One pass over one sequence: truncated BPTT every ``truncation`` steps, expert labels."""
    obs = torch.tensor(seq)
    labels = torch.tensor([expert_action(o) for o in seq])
    hx = net.initial_hidden()
    for start in range(0, len(obs), truncation):
        hx = hx.detach()
        logits = []
        for t in range(start, min(start + truncation, len(obs))):
            if memory_dropout > 0 and rng.random() < memory_dropout:
                hx = torch.rand_like(hx) * 2 - 1
            lo, hx, _, _ = net.step(obs[t : t + 1], hx)
            logits.append(lo)
        loss = nn.functional.cross_entropy(torch.cat(logits), labels[start : start + truncation])
        opt.zero_grad()
        loss.backward()
        if grad_clip is not None:
            nn.utils.clip_grad_norm_(net.parameters(), grad_clip)
        opt.step()


def train_gru_dagger(
    *,
    seed: int,
    iterations: int,
    episodes_per_iteration: int,
    epochs: int,
    lr: float,
    eval_episodes: int,
    memory_dropout: float = 0.0,
    stop_after: int = 1,
    truncation: int = 50,
    grad_clip: float | None = None,
    dagger: bool = True,
) -> tuple[GRUNet, list[dict]]:
    """Supervised imitation of the expert, with DAgger data when ``dagger``.

    Iteration 0 rolls out expert-driven episodes; later iterations roll out the GRU
    (``dagger``) or the expert again (plain supervised learning, as the MMN code base
    trains on expert episodes); every state is labelled with the expert's action and all
    sequences so far are refit with truncated backprop through time (``truncation``
    steps; the MMN code base: k = 10 and gradient-norm clip 5). With probability
    ``memory_dropout`` per step the incoming hidden state is replaced by uniform noise in
    [-1, 1] (an ablation: the GRU then acts on the observation alone). Stops once every
    one of ``eval_episodes`` greedy episodes returned 500 in ``stop_after`` consecutive
    iterations.
    """
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    gru = GRUNet()
    net = MMNet(gru)
    opt = torch.optim.Adam(gru.parameters(), lr=lr)
    env = make_env()
    data: list[np.ndarray] = []
    history, perfect = [], 0
    for it in range(iterations):
        beta = 1.0 if it == 0 or not dagger else 0.0
        data += _expert_episodes(net, env, rng, episodes_per_iteration, beta)
        for _ in range(epochs):
            for idx in rng.permutation(len(data)):
                _fit_sequence(
                    net,
                    opt,
                    data[idx],
                    rng,
                    truncation=truncation,
                    grad_clip=grad_clip,
                    memory_dropout=memory_dropout,
                )
        returns = evaluate(net, eval_episodes, seed=10_000 + it)
        history.append(
            {"iteration": it, "sequences": len(data), "mean_return": float(returns.mean())}
        )
        log.info("GRU iteration %d: %d sequences, return %.1f", it, len(data), returns.mean())
        perfect = perfect + 1 if returns.min() >= 500 else 0
        if perfect >= stop_after:
            break
    env.close()
    return gru, history


def train_qbn(
    qbn: QBN,
    data: np.ndarray,
    *,
    insert,
    epochs: int,
    lr: float,
    batch_size: int,
    eval_every: int,
    eval_episodes: int,
    seed: int,
    patience: int,
    grad_clip: float | None = 5.0,
    task: Task = CARTPOLE,
    device: str = "cpu",
) -> tuple[QBN, list[dict]]:
    """Fit a QBN on MSE reconstruction; keep the epoch whose inserted network returns best.

    ``insert(qbn)`` builds the network with this QBN inserted (for the return check).
    Stops after ``patience`` evaluations without a better return or reconstruction loss.
    As the MMN code base: Adam, gradient norm clipped at ``grad_clip``, the kept epoch is the
    best return (ties: lower loss). The reconstruction runs on ``device``; the return check
    plays the environment on the CPU, with a CPU copy of the QBN. The QBN comes back on the CPU.
    """
    torch.manual_seed(seed)
    qbn.to(device)
    x = torch.tensor(data, dtype=torch.float32, device=device)
    opt = torch.optim.Adam(qbn.parameters(), lr=lr)
    best = (-np.inf, np.inf)
    best_state = {k: v.clone() for k, v in qbn.state_dict().items()}
    history, stale = [], 0
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        perm = torch.randperm(len(x)).to(device)
        total = 0.0
        for i in range(0, len(x), batch_size):
            batch = x[perm[i : i + batch_size]]
            loss = nn.functional.mse_loss(qbn(batch), batch)
            opt.zero_grad()
            loss.backward()
            if grad_clip is not None:
                nn.utils.clip_grad_norm_(qbn.parameters(), grad_clip)
            opt.step()
            total += float(loss.detach()) * len(batch)
        mse = total / len(x)
        if epoch % eval_every == 0 or epoch == epochs:
            on_cpu = copy.deepcopy(qbn).cpu()
            ret = float(evaluate(insert(on_cpu), eval_episodes, 20_000 + epoch, task).mean())
            history.append({"epoch": epoch, "mse": mse, "mean_return": ret})
            log.info(
                "QBN epoch %d/%d: mse %.5f, inserted return %.1f (%.1f epochs/s)",
                epoch,
                epochs,
                mse,
                ret,
                epoch / (time.perf_counter() - start),
            )
            if (ret, -mse) > (best[0], -best[1]):
                best, stale = (ret, mse), 0
                best_state = {k: v.clone() for k, v in qbn.state_dict().items()}
            else:
                stale += 1
                if stale >= patience:
                    break
    qbn.load_state_dict(best_state)
    return qbn.cpu(), history


def _finetune_loss(logits, targets, loss: str):
    """``mse``: sum over steps of the mean squared difference of the action probabilities
    (``bgru_nn._train``); ``cross_entropy``: mean soft-target cross-entropy."""
    if loss == "mse":
        return ((torch.softmax(logits, dim=1) - targets) ** 2).mean(dim=1).sum()
    return nn.functional.cross_entropy(logits, targets)


def finetune_mmn(
    mmn: MMNet,
    gru: GRUNet,
    *,
    steps: int,
    lr: float,
    episodes_per_step: int,
    target_return: float,
    eval_episodes: int,
    seed: int,
    train_gru: bool = True,
    task: Task = CARTPOLE,
    loss: str = "mse",
    truncation: int | None = 100,
    grad_clip: float | None = 0.5,
) -> tuple[MMNet, list[dict]]:
    """Fine-tune the MMN to reproduce the GRU's action probabilities.

    All parameters (``train_gru``, as the MMN code base, at its lr 1e-4) or the QBNs only.
    States come from MMN rollouts; the target is the original GRU's distribution given the
    same observation history. Stops once the MMN's greedy return reaches ``target_return``.
    The defaults are the MMN code base's ``bgru_nn._train``: ``loss`` "mse" between the
    MMN's and the GRU's action probabilities, summed over the steps of a window (or
    "cross_entropy" with the GRU's probabilities as soft targets, averaged); an optimizer
    step after every ``truncation`` steps (truncated backpropagation; None: one per
    episode) with the gradient norm clipped to ``grad_clip`` (None: no clip).
    """
    if loss not in ("mse", "cross_entropy"):
        raise ValueError(f"diffig.finetune.loss: unknown loss {loss!r}")
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    reference = MMNet(copy.deepcopy(gru))  # the target stays the GRU as it was
    params = [*mmn.obx_net.parameters(), *mmn.bhx_net.parameters()]
    opt = torch.optim.Adam(mmn.parameters() if train_gru else params, lr=lr)
    env = task.make_env()
    history = []
    ret = float(evaluate(mmn, eval_episodes, 30_000, task).mean())
    history.append({"step": 0, "loss": None, "mean_return": ret})
    best_ret, best_state = ret, {k: v.clone() for k, v in mmn.state_dict().items()}
    for step in range(1, steps + 1):
        if ret >= target_return:
            break
        loss_total = 0.0
        for _ in range(episodes_per_step):
            _, rec = run_episode(mmn, env, int(rng.integers(2**31)), record=True, task=task)
            obs = torch.tensor(rec["obs"])
            hx, hx_ref = mmn.initial_hidden(), reference.initial_hidden()
            window = truncation or len(obs)
            for start in range(0, len(obs), window):
                hx = hx.detach()
                logits, targets = [], []
                for t in range(start, min(start + window, len(obs))):
                    lo, hx, _, _ = mmn.step(obs[t : t + 1], hx)
                    with torch.no_grad():
                        lr_, hx_ref, _, _ = reference.step(obs[t : t + 1], hx_ref)
                    logits.append(lo)
                    targets.append(torch.softmax(lr_, dim=1))
                loss_value = _finetune_loss(torch.cat(logits), torch.cat(targets), loss)
                opt.zero_grad()
                loss_value.backward()
                if grad_clip is not None:
                    nn.utils.clip_grad_norm_(mmn.parameters(), grad_clip)
                opt.step()
                loss_total += loss_value.item()
        ret = float(evaluate(mmn, eval_episodes, 30_000 + step, task).mean())
        history.append({"step": step, "loss": loss_total / episodes_per_step, "mean_return": ret})
        log.info(
            "fine-tune step %d: loss %.4f, MMN return %.1f",
            step,
            loss_total / episodes_per_step,
            ret,
        )
        if ret > best_ret:
            best_ret, best_state = ret, {k: v.clone() for k, v in mmn.state_dict().items()}
    env.close()
    mmn.load_state_dict(best_state)  # the step whose MMN returned best
    return mmn, history
