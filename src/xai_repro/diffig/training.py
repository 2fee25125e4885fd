"""Training of the diffig study's networks: the GRU policy, the QBNs, the MMN fine-tuning."""

import logging
import time

import numpy as np
import torch
from torch import nn

from xai_repro.diffig.networks import QBN, GRUNet, MMNet
from xai_repro.diffig.rollouts import evaluate, expert_action, make_env, run_episode

log = logging.getLogger(__name__)


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
    chunk: int = 50,
) -> tuple[GRUNet, list[dict]]:
    """DAgger: roll out the current policy, label every state with the expert, refit.

    Sequences are cut into ``chunk``-step pieces for truncated backprop through time.
    With probability ``memory_dropout`` per training step, the incoming hidden state is
    replaced by uniform noise in [-1, 1]: the GRU learns to act on the current observation
    whatever its memory holds (the controller it imitates is memoryless), so its hidden
    state, and the Moore machine extracted from it, carry no history they do not need.
    Stops early once the greedy return has been 500 in every one of ``eval_episodes``
    episodes for ``stop_after`` consecutive iterations (one lucky check is not a robust
    policy: a GRU that stopped after one returned 464 on other seeds).
    """
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    gru = GRUNet()
    net = MMNet(gru)
    opt = torch.optim.Adam(gru.parameters(), lr=lr)
    env = make_env()
    data_obs: list[np.ndarray] = []
    history, perfect = [], 0
    for it in range(iterations):
        beta = 1.0 if it == 0 else 0.0  # first iteration: the expert drives
        for _ in range(episodes_per_iteration):
            obs, _ = env.reset(seed=int(rng.integers(2**31)))
            hx = gru.init_hidden(1)
            seq, done = [], False
            while not done:
                seq.append(np.array(obs, dtype=np.float32))
                with torch.no_grad():
                    logits, hx, _, _ = net.step(torch.tensor(obs, dtype=torch.float32)[None], hx)
                action = expert_action(obs) if rng.random() < beta else int(logits.argmax())
                obs, _, terminated, truncated, _ = env.step(action)
                done = terminated or truncated
            data_obs.append(np.stack(seq))
        chunks = [s[i : i + chunk] for s in data_obs for i in range(0, len(s), chunk)]
        # hidden state at each chunk start comes from running the GRU over the prefix
        for _ in range(epochs):
            order = rng.permutation(len(data_obs))
            for idx in order:
                seq = torch.tensor(data_obs[idx])
                labels = torch.tensor([expert_action(o) for o in data_obs[idx]])
                hx = gru.init_hidden(1)
                for start in range(0, len(seq), chunk):
                    hx = hx.detach()
                    logits_all = []
                    for t in range(start, min(start + chunk, len(seq))):
                        if memory_dropout > 0 and rng.random() < memory_dropout:
                            hx = torch.rand_like(hx) * 2 - 1
                        logits, hx, _, _ = net.step(seq[t : t + 1], hx)
                        logits_all.append(logits)
                    loss = nn.functional.cross_entropy(
                        torch.cat(logits_all), labels[start : start + chunk]
                    )
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
        returns = evaluate(net, eval_episodes, seed=10_000 + it)
        history.append(
            {"iteration": it, "chunks": len(chunks), "mean_return": float(returns.mean())}
        )
        log.info(
            "DAgger iteration %d: %d sequences, greedy return %.1f",
            it,
            len(data_obs),
            returns.mean(),
        )
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
) -> tuple[QBN, list[dict]]:
    """Fit a QBN on MSE reconstruction; keep the epoch whose inserted network returns best.

    ``insert(qbn)`` builds the network with this QBN inserted (for the return check).
    Stops after ``patience`` evaluations without a better return or reconstruction loss.
    """
    torch.manual_seed(seed)
    x = torch.tensor(data, dtype=torch.float32)
    opt = torch.optim.Adam(qbn.parameters(), lr=lr)
    best = (-np.inf, np.inf)
    best_state = {k: v.clone() for k, v in qbn.state_dict().items()}
    history, stale = [], 0
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        perm = torch.randperm(len(x))
        total = 0.0
        for i in range(0, len(x), batch_size):
            batch = x[perm[i : i + batch_size]]
            loss = nn.functional.mse_loss(qbn(batch), batch)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(batch)
        mse = total / len(x)
        if epoch % eval_every == 0 or epoch == epochs:
            ret = float(evaluate(insert(qbn), eval_episodes, seed=20_000 + epoch).mean())
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
    return qbn, history


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
) -> tuple[MMNet, list[dict]]:
    """Fine-tune the QBNs of the MMN to reproduce the GRU's action probabilities.

    States come from MMN rollouts; the target is the GRU's distribution given the same
    observation history. Stops once the MMN's greedy return reaches ``target_return``.
    """
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    params = list(mmn.obx_net.parameters()) + list(mmn.bhx_net.parameters())
    opt = torch.optim.Adam(params, lr=lr)
    reference = MMNet(gru)
    env = make_env()
    history = []
    ret = float(evaluate(mmn, eval_episodes, seed=30_000).mean())
    history.append({"step": 0, "loss": None, "mean_return": ret})
    best_ret, best_state = ret, {k: v.clone() for k, v in mmn.state_dict().items()}
    for step in range(1, steps + 1):
        if ret >= target_return:
            break
        loss_total = 0.0
        for _ in range(episodes_per_step):
            _, rec = run_episode(mmn, env, int(rng.integers(2**31)), record=True)
            obs = torch.tensor(rec["obs"])
            hx, hx_ref = mmn.initial_hidden(), reference.initial_hidden()
            logits, targets = [], []
            for t in range(len(obs)):
                lo, hx, _, _ = mmn.step(obs[t : t + 1], hx)
                with torch.no_grad():
                    lr_, hx_ref, _, _ = reference.step(obs[t : t + 1], hx_ref)
                logits.append(lo)
                targets.append(torch.softmax(lr_, dim=1))
            loss = nn.functional.cross_entropy(torch.cat(logits), torch.cat(targets))
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss_total += loss.item()
        ret = float(evaluate(mmn, eval_episodes, seed=30_000 + step).mean())
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
