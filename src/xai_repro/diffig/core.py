"""Moore machine networks (MMN) for CartPole and differential Integrated Gradients.

The science of the diffig study (no file I/O):
- ``GRUNet``: features Linear(4,16) -> ELU -> Linear(16,8) -> ReLU6, GRUCell(8, 32),
  actor Linear(32, 2), critic Linear(32, 1) (module names as in the MMN code base, so
  its state_dicts load: ``input_ff.*``, ``gru.*``, ``actor_linear.*``, ``critic_linear.*``).
- ``QBN``: Linear(n, 8B) -> Tanh -> Linear(8B, B) -> ternary quantization (straight-through),
  decoder Linear(B, 8B) -> Tanh -> Linear(8B, n) -> ReLU6 (observation QBN) or Tanh (hidden QBN).
- ``MMNet``: the GRU with either or both QBNs inserted (``gru_net``, ``obx_net``, ``bhx_net``).
- DAgger imitation of the controller "push right iff 3 theta + theta_dot > 0".
- Moore machine extraction from greedy rollouts, minimization, execution as a table.
- Differential IG: attributions of F_k(x) = (pre_k(x) - pre_k(x_i))^2 along x_j -> x_i.

Used by every rule script of rules/diffig.smk.
"""

import logging
import time
from collections import defaultdict

import numpy as np
import torch
from torch import nn

log = logging.getLogger(__name__)

OBS_NAMES = ("cart position", "cart velocity", "pole angle", "pole velocity")
ENV_ID = "CartPole-v1"


# ---------------------------------------------------------------- networks
class TernaryTanh(nn.Module):
    """y = 1.5 tanh(x) + 0.5 tanh(-3x), rounded to {-1, 0, 1}; straight-through gradient."""

    def forward(self, x):
        y = 1.5 * torch.tanh(x) + 0.5 * torch.tanh(-3.0 * x)
        return y + (torch.round(y) - y).detach()


class GRUNet(nn.Module):
    """Feature layers -> GRUCell -> actor and critic heads.

    The feature layers default to CartPole's Linear(obs_dim, 16) -> ELU -> Linear(16, 8) ->
    ReLU6; another observation space passes its own ``input_ff`` and its output size.
    """

    def __init__(
        self,
        obs_dim: int = 4,
        gru_size: int = 32,
        n_actions: int = 2,
        *,
        input_ff: nn.Module | None = None,
        features: int = 8,
    ):
        super().__init__()
        if input_ff is None:
            input_ff = nn.Sequential(
                nn.Linear(obs_dim, 16), nn.ELU(), nn.Linear(16, features), nn.ReLU6()
            )
        self.input_ff = input_ff
        self.gru = nn.GRUCell(features, gru_size)
        self.critic_linear = nn.Linear(gru_size, 1)
        self.actor_linear = nn.Linear(gru_size, n_actions)
        self.gru_size = gru_size

    def init_hidden(self, batch: int = 1):
        return torch.zeros(batch, self.gru_size)


class QBN(nn.Module):
    """Quantized bottleneck autoencoder of an n-d vector into B ternary units.

    Hidden layers of ``widths`` x B units with Tanh (CartPole's QBNs: one of 8B; the Atari
    hidden-state QBN: 8B then 4B), then B ternary units; the decoder mirrors the encoder.
    """

    def __init__(self, n: int, code: int, out_activation: str, widths: tuple = (8,)):
        super().__init__()
        sizes = [n, *(w * code for w in widths), code]
        encoder, decoder = [], []
        for a, b in zip(sizes[:-1], sizes[1:]):
            encoder += [nn.Linear(a, b), nn.Tanh()]
        for a, b in zip(sizes[:0:-1], sizes[-2::-1]):
            decoder += [nn.Linear(a, b), nn.Tanh()]
        encoder[-1] = TernaryTanh()
        decoder[-1] = nn.ReLU6() if out_activation == "relu6" else nn.Tanh()
        self.encoder = nn.Sequential(*encoder)
        self.decoder = nn.Sequential(*decoder)

    def pre_quantization(self, x):
        return self.encoder[:-1](x)

    def encode(self, x):
        return self.encoder(x)

    def forward(self, x):
        return self.decoder(self.encoder(x))


class MMNet(nn.Module):
    """The GRU policy with the observation QBN (obx_net) and/or hidden QBN (bhx_net) inserted."""

    def __init__(self, gru_net: GRUNet, obx_net: QBN | None = None, bhx_net: QBN | None = None):
        super().__init__()
        self.gru_net = gru_net
        self.obx_net = obx_net
        self.bhx_net = bhx_net

    def step(self, obs, hx):
        """One step: (logits (b, 2), new hidden (b, 32), obs code or None, hidden code or None)."""
        feats = self.gru_net.input_ff(obs)
        obs_code = None
        if self.obx_net is not None:
            obs_code = self.obx_net.encode(feats)
            feats = self.obx_net.decoder(obs_code)
        hx = self.gru_net.gru(feats, hx)
        hx_code = None
        if self.bhx_net is not None:
            hx_code = self.bhx_net.encode(hx)
            hx = self.bhx_net.decoder(hx_code)
        return self.gru_net.actor_linear(hx), hx, obs_code, hx_code

    def initial_hidden(self):
        hx = self.gru_net.init_hidden(1)
        if self.bhx_net is not None:
            hx = self.bhx_net(hx)
        return hx


def make_mmn(gru_size: int = 32, hx_code: int = 4, obs_code: int = 4) -> MMNet:
    return MMNet(
        GRUNet(gru_size=gru_size), QBN(8, obs_code, "relu6"), QBN(gru_size, hx_code, "tanh")
    )


def mmn_shapes(state_dict) -> tuple[int, int, int]:
    """(gru_size, hx_code, obs_code) of an MMN state_dict in the original key format."""
    try:
        gru_size = state_dict["gru_net.gru.weight_hh"].shape[1]
        hx_code = state_dict["bhx_net.encoder.2.weight"].shape[0]
        obs_code = state_dict["obx_net.encoder.2.weight"].shape[0]
    except KeyError as err:
        raise KeyError(f"not an MMN state_dict: missing key {err}") from err
    return int(gru_size), int(hx_code), int(obs_code)


def mmn_from_state_dict(state_dict, *, make=make_mmn, shapes=mmn_shapes) -> MMNet:
    """Build an MMN from a state_dict (keys gru_net.*, obx_net.*, bhx_net.*), strictly.

    ``shapes`` reads the constructor arguments of ``make`` from the state_dict (CartPole's
    by default; diffig_atari passes the Atari ones).
    """
    net = make(*shapes(state_dict))
    missing, unexpected = net.load_state_dict(state_dict, strict=False)
    if missing or unexpected:
        raise KeyError(
            f"state_dict does not match the MMN: missing {missing}, unexpected {unexpected}"
        )
    return net


# ---------------------------------------------------------------- rollouts
def make_env():
    import gymnasium as gym

    return gym.make(ENV_ID)


def expert_action(obs) -> int:
    """The controller the GRU imitates: push right iff 3 theta + theta_dot > 0."""
    return int(3.0 * obs[2] + obs[3] > 0)


def _as_input(obs):
    return torch.tensor(obs, dtype=torch.float32)[None]  # a copy, never a view of env state


@torch.no_grad()
def run_episode(
    net: MMNet,
    env,
    seed: int,
    epsilon: float = 0.0,
    rng=None,
    record: bool = False,
    *,
    preprocess=_as_input,
    env_action=int,
    max_steps: int | None = None,
):
    """One greedy episode (epsilon-random actions if epsilon > 0); returns (return, record).

    ``record['obs']`` holds the network's inputs (the preprocessed observations). Defaults are
    CartPole's; an Atari MMN passes its frame preprocessing, action map and a step cap.
    """
    obs, _ = env.reset(seed=int(seed))
    hx = net.initial_hidden()
    total, rec = 0.0, defaultdict(list)
    done, steps = False, 0
    while not done:
        x = preprocess(obs)
        logits, hx, obs_code, hx_code = net.step(x, hx)
        action = int(logits.argmax(dim=1))
        if epsilon > 0 and rng.random() < epsilon:
            action = int(rng.integers(logits.shape[1]))
        if record:
            rec["obs"].append(x[0].numpy())
            rec["features"].append(net.gru_net.input_ff(x)[0].numpy())
            rec["hidden"].append(hx[0].numpy().copy())
            rec["action"].append(action)
            if obs_code is not None:
                rec["obs_code"].append(obs_code[0].numpy().astype(np.int8))
            if hx_code is not None:
                rec["hx_code"].append(hx_code[0].numpy().astype(np.int8))
        obs, reward, terminated, truncated, _ = env.step(env_action(action))
        total += float(reward)
        steps += 1
        done = terminated or truncated or (max_steps is not None and steps >= max_steps)
    return total, {k: np.array(v) for k, v in rec.items()}


def evaluate(net: MMNet, episodes: int, seed: int) -> np.ndarray:
    """Greedy returns over ``episodes`` seeded episodes (seeds seed, seed+1, ...)."""
    env = make_env()
    try:
        return np.array([run_episode(net, env, seed + e)[0] for e in range(episodes)])
    finally:
        env.close()


# ---------------------------------------------------------------- training
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


def collect_bottleneck_data(gru: GRUNet, *, episodes: int, epsilon: float, seed: int) -> dict:
    """Observation features (n, 8) and hidden states (n, 32) from epsilon-greedy rollouts."""
    rng = np.random.default_rng(seed)
    env = make_env()
    feats, hidden = [], []
    for e in range(episodes):
        _, rec = run_episode(MMNet(gru), env, seed + e, epsilon=epsilon, rng=rng, record=True)
        feats.append(rec["features"])
        hidden.append(rec["hidden"])
    env.close()
    return {"features": np.concatenate(feats), "hidden": np.concatenate(hidden)}


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


# ---------------------------------------------------------------- Moore machine
def _key(code) -> str:
    return "".join({-1: "-", 0: "0", 1: "+"}[int(c)] for c in code)


@torch.no_grad()
def extract_moore_machine(
    mmn: MMNet,
    *,
    episodes: int,
    seed: int,
    env_factory=make_env,
    preprocess=_as_input,
    env_action=int,
    max_steps: int | None = None,
) -> dict:
    """Moore machine from greedy MMN rollouts.

    States are hidden codes, observations are observation codes; ``transitions[s][o]`` is
    the next state after observing o in state s; ``actions[s]`` the action emitted in s
    (the network's action index; ``env_action`` maps it to the env's). State 0 is the code
    of the initial hidden state. Defaults are CartPole's; an Atari MMN passes its env,
    frame preprocessing, action map and a step cap per episode.
    """
    env = env_factory()
    states: dict[str, int] = {}
    observations: dict[str, int] = {}
    transitions: dict[int, dict[int, int]] = defaultdict(dict)
    actions: dict[int, int] = {}
    state_codes, obs_codes = {}, {}
    h0 = mmn.bhx_net.encode(mmn.gru_net.init_hidden(1))[0].numpy().astype(int)
    states[_key(h0)] = 0
    state_codes[0] = h0
    actions[0] = int(
        mmn.gru_net.actor_linear(
            mmn.bhx_net.decoder(torch.tensor(h0, dtype=torch.float32)[None])
        ).argmax()
    )
    conflicts = 0
    for e in range(episodes):
        obs, _ = env.reset(seed=seed + e)
        hx = mmn.initial_hidden()
        s, steps = 0, 0
        done = False
        while not done:
            logits, hx, o_code, h_code = mmn.step(preprocess(obs), hx)
            ok, hk = _key(o_code[0]), _key(h_code[0])
            o = observations.setdefault(ok, len(observations))
            obs_codes[o] = o_code[0].numpy().astype(int)
            nxt = states.setdefault(hk, len(states))
            state_codes[nxt] = h_code[0].numpy().astype(int)
            action = int(logits.argmax())
            if nxt in actions and actions[nxt] != action:
                conflicts += 1
            actions[nxt] = action
            transitions[s][o] = nxt
            s = nxt
            obs, _, terminated, truncated, _ = env.step(env_action(action))
            steps += 1
            done = terminated or truncated or (max_steps is not None and steps >= max_steps)
    env.close()
    return {
        "n_states": len(states),
        "n_observations": len(observations),
        "initial_state": 0,
        "actions": {int(k): int(v) for k, v in actions.items()},
        "transitions": {
            int(s): {int(o): int(n) for o, n in d.items()} for s, d in transitions.items()
        },
        "state_codes": {int(k): v.tolist() for k, v in state_codes.items()},
        "observation_codes": {int(k): v.tolist() for k, v in obs_codes.items()},
        "action_conflicts": conflicts,
    }


def _refine_states(states, actions, trans) -> dict[int, int]:
    """Partition refinement from the action partition, placing states in ``states`` order."""
    block = {s: actions[s] for s in states}
    while True:
        groups: dict[int, list[list[int]]] = defaultdict(list)
        new_block, next_id = {}, 0
        for s in states:
            placed = False
            for group in groups[block[s]]:
                compatible = all(
                    block[trans[s][o]] == block[trans[m][o]]
                    for m in group
                    for o in set(trans.get(s, {})) & set(trans.get(m, {}))
                )
                if compatible:
                    group.append(s)
                    placed = True
                    break
            if not placed:
                groups[block[s]].append([s])
        for key in sorted(groups):
            for group in groups[key]:
                for s in group:
                    new_block[s] = next_id
                next_id += 1
        if len(set(new_block.values())) == len(set(block.values())):
            return new_block
        block = new_block


def _is_closed(block, actions, trans) -> bool:
    """Every block emits one action and sends each observation to one block."""
    seen: dict[tuple[int, int], int] = {}
    acts: dict[int, int] = {}
    for s, d in trans.items():
        for o, n in d.items():
            if seen.setdefault((block[s], o), block[n]) != block[n]:
                return False
    return all(acts.setdefault(block[s], a) == a for s, a in actions.items())


def minimize_moore_machine(machine: dict, restarts: int = 0, seed: int = 0) -> dict:
    """Merge states, then observations, of a partially specified Moore machine.

    States: start from the partition by emitted action and split any block whose members
    disagree on the block of the next state for an observation both have seen (partition
    refinement; unseen pairs constrain nothing). Which compatible states end up together
    depends on the order states are placed in (minimizing a partially specified machine
    is NP-hard): ``restarts`` further random orders are tried and the smallest closed
    partition is kept. Observations: merge those that send every state to the same block
    wherever both are defined. Returns a machine on the blocks with ``state_map`` and
    ``observation_map`` from old ids to new ones.
    """
    actions = {int(k): v for k, v in machine["actions"].items()}
    trans = {int(s): {int(o): n for o, n in d.items()} for s, d in machine["transitions"].items()}
    states = sorted(actions)
    block = _refine_states(states, actions, trans)
    rng = np.random.default_rng(seed)
    for _ in range(restarts):
        candidate = _refine_states([int(s) for s in rng.permutation(states)], actions, trans)
        if len(set(candidate.values())) < len(set(block.values())) and _is_closed(
            candidate, actions, trans
        ):
            block = candidate
    # renumber so the initial state is 0
    order = sorted(set(block.values()), key=lambda b: (b != block[machine["initial_state"]], b))
    renum = {b: i for i, b in enumerate(order)}
    state_map = {s: renum[block[s]] for s in states}
    new_trans: dict[int, dict[int, int]] = defaultdict(dict)
    for s, d in trans.items():
        for o, n in d.items():
            new_trans[state_map[s]][o] = state_map[n]
    # merge observations with compatible columns
    obs_ids = sorted({o for d in new_trans.values() for o in d})
    obs_groups: list[list[int]] = []
    for o in obs_ids:
        for group in obs_groups:
            if all(
                new_trans[s][o] == new_trans[s][m]
                for m in group
                for s in new_trans
                if o in new_trans[s] and m in new_trans[s]
            ):
                group.append(o)
                break
        else:
            obs_groups.append([o])
    observation_map = {o: i for i, group in enumerate(obs_groups) for o in group}
    final: dict[int, dict[int, int]] = defaultdict(dict)
    for s, d in new_trans.items():
        for o, n in d.items():
            final[s][observation_map[o]] = n
    new_actions = {}
    for s, a in actions.items():
        new_actions[state_map[s]] = a
    return {
        "n_states": len(order),
        "n_observations": len(obs_groups),
        "initial_state": 0,
        "actions": new_actions,
        "transitions": {int(s): dict(d) for s, d in final.items()},
        "state_map": state_map,
        "observation_map": observation_map,
    }


@torch.no_grad()
def run_machine(
    machine: dict, minimized: dict, mmn: MMNet, *, episodes: int, seed: int
) -> np.ndarray:
    """Returns of the minimized Moore machine executed as a lookup table.

    Each step: the observation QBN encodes the raw observation into a code; codes seen
    during extraction map to their (merged) observation id; an unseen code, or an unseen
    (state, observation) pair, takes the known observation of that state with the
    nearest code (Hamming distance). The action is the state's table entry.
    """
    code_to_obs = {_key(c): int(o) for o, c in machine["observation_codes"].items()}
    obs_code_arr = {int(o): np.array(c) for o, c in machine["observation_codes"].items()}
    omap = {int(k): v for k, v in minimized["observation_map"].items()}
    trans = {int(s): {int(o): n for o, n in d.items()} for s, d in minimized["transitions"].items()}
    actions = {int(k): v for k, v in minimized["actions"].items()}
    env = make_env()
    returns = []
    for e in range(episodes):
        obs, _ = env.reset(seed=seed + e)
        s, total, done = minimized["initial_state"], 0.0, False
        while not done:
            feats = mmn.gru_net.input_ff(torch.tensor(obs, dtype=torch.float32)[None])
            code = mmn.obx_net.encode(feats)[0].numpy().astype(int)
            raw = code_to_obs.get(_key(code))
            options = trans.get(s, {})
            o = omap.get(raw) if raw is not None else None
            if o is None or o not in options:
                known = [
                    (int(np.abs(obs_code_arr[r] - code).sum()), omap[r])
                    for r in obs_code_arr
                    if omap[r] in options
                ]
                o = min(known)[1] if known else None
            if o is not None:
                s = options[o]
            obs, reward, terminated, truncated, _ = env.step(actions[s])
            total += reward
            done = terminated or truncated
        returns.append(total)
    env.close()
    return np.array(returns)


# ---------------------------------------------------------------- differential IG
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
