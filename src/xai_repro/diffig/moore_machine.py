"""Moore machines of an MMN: extraction from greedy rollouts, minimization, execution as a table."""

from collections import Counter, defaultdict

import numpy as np
import torch

from xai_repro.diffig.networks import MMNet
from xai_repro.diffig.rollouts import CARTPOLE, Task


def _key(code) -> str:
    return "".join({-1: "-", 0: "0", 1: "+"}[int(c)] for c in code)


@torch.no_grad()
def extract_moore_machine(
    mmn: MMNet,
    *,
    episodes: int,
    seed: int,
    task: Task = CARTPOLE,
) -> dict:
    """Moore machine from greedy MMN rollouts.

    States are hidden codes, observations are observation codes; ``transitions[s][o]`` is
    the next state after observing o in state s; ``actions[s]`` the action emitted in s
    (the network's action index; ``task.env_action`` maps it to the env's). State 0 is the
    code of the initial hidden state. Episodes are capped at ``task.max_steps``.
    """
    env = task.make_env()
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
            logits, hx, o_code, h_code = mmn.step(task.preprocess(obs), hx)
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
            obs, _, terminated, truncated, _ = env.step(task.env_action(action))
            steps += 1
            done = (
                terminated or truncated or (task.max_steps is not None and steps >= task.max_steps)
            )
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


def _merged_rows(block, states, trans, obs_ids) -> dict[int, dict[int, int | None]]:
    """Each block's transition row over every observation, ``None`` where no member has one.

    As the MMN code base's ``minimize_partial_fsm``: a block's entry for o is the first
    member (in ``states`` order) with a transition on o.
    """
    rows: dict[int, dict[int, int | None]] = {}
    for s in states:
        row = rows.setdefault(block[s], dict.fromkeys(obs_ids))
        for o, n in trans.get(s, {}).items():
            if row[o] is None:
                row[o] = block[n]
    return rows


def _merge_lone_start(rows, start, members) -> dict[int, int]:
    """The MMN code base's start-state merge: a block holding only the start state joins
    the first other block with the same row (``None`` entries included), since the start
    state's action is never emitted. Returns the block renaming (identity if no merge)."""
    rename = {b: b for b in rows}
    if members[start] == 1:
        same = [b for b, row in rows.items() if b != start and row == rows[start]]
        rename[start] = same[0] if same else start
    return rename


def _wildcard_observation_groups(new_trans, obs_ids) -> list[list[int]]:
    """Greedy groups of observations that agree wherever both are defined (a missing
    transition matches anything)."""
    groups: list[list[int]] = []
    for o in obs_ids:
        for group in groups:
            if all(
                new_trans[s][o] == new_trans[s][m]
                for m in group
                for s in new_trans
                if o in new_trans[s] and m in new_trans[s]
            ):
                group.append(o)
                break
        else:
            groups.append([o])
    return groups


def minimize_moore_machine(machine: dict, restarts: int = 0, seed: int = 0) -> dict:
    """Merge states, then observations, of a partially specified Moore machine.

    States: start from the partition by emitted action and split any block whose members
    disagree on the block of the next state for an observation both have seen (partition
    refinement; unseen pairs constrain nothing). Which compatible states end up together
    depends on the order states are placed in (minimizing a partially specified machine
    is NP-hard): ``restarts`` further random orders are tried and the smallest closed
    partition is kept. Then, as the MMN code base's ``minimize_partial_fsm`` (its
    ``moore_machine.py``): a block's missing transitions stay missing (``None``); a block
    holding only the start state merges into another block with the identical row; and
    two observations merge only if their whole columns over the blocks are identical,
    ``None`` included, so ``n_observations`` is the number of distinct columns.
    ``n_observations_wildcard`` counts the coarser greedy grouping in which a missing
    transition matches anything. Returns a machine on the blocks with ``state_map`` and
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
    obs_ids = sorted({o for d in trans.values() for o in d})
    s0 = int(machine["initial_state"])
    start = block[s0]
    rows = _merged_rows(block, states, trans, obs_ids)
    rename = _merge_lone_start(rows, start, Counter(block[s] for s in states))
    start = rename[start]
    # renumber so the initial state is 0
    order = sorted(set(rename.values()), key=lambda b: (b != start, b))
    renum = {b: i for i, b in enumerate(order)}
    state_map = {s: renum[rename[block[s]]] for s in states}
    new_trans: dict[int, dict[int, int]] = {i: {} for i in range(len(order))}
    for b, row in rows.items():
        if rename[b] != b:
            continue
        for o, n in row.items():
            if n is not None:
                new_trans[renum[b]][o] = renum[rename[n]]
    # observation classes: identical columns over the blocks, missing entries included
    columns: dict[tuple, int] = {}
    observation_map = {
        o: columns.setdefault(tuple(new_trans[s].get(o) for s in range(len(order))), len(columns))
        for o in obs_ids
    }
    wildcard_groups = _wildcard_observation_groups(new_trans, obs_ids)
    final = {s: {observation_map[o]: n for o, n in d.items()} for s, d in new_trans.items()}
    merged_start = rename[block[s0]] != block[s0]
    new_actions = {  # a merged start state takes its new block's action
        state_map[s]: a for s, a in actions.items() if not (merged_start and s == s0)
    }
    return {
        "n_states": len(order),
        "n_observations": len(columns),
        "n_observations_wildcard": len(wildcard_groups),
        "initial_state": 0,
        "actions": new_actions,
        "transitions": {int(s): dict(d) for s, d in final.items() if d},
        "state_map": state_map,
        "observation_map": observation_map,
    }


@torch.no_grad()
def run_machine(
    machine: dict,
    minimized: dict,
    mmn: MMNet,
    *,
    episodes: int,
    seed: int,
    task: Task = CARTPOLE,
) -> dict[str, np.ndarray]:
    """The minimized Moore machine executed as a lookup table, per episode.

    Each step: the observation QBN encodes the raw observation into a code; codes seen
    during extraction map to their (merged) observation id; an unseen code, or an unseen
    (state, observation) pair, takes the known observation of that state with the
    nearest code (Hamming distance). The action is the state's table entry. (The MMN code
    base's ``MooreMachine.evaluate`` has no such fallback: an unseen code stops it.)
    Returns ``returns``, ``unseen_codes`` (steps whose code was not seen in extraction),
    ``unseen_pairs`` (known code, but not from the current state) and ``steps``.
    """
    code_to_obs = {_key(c): int(o) for o, c in machine["observation_codes"].items()}
    obs_code_arr = {int(o): np.array(c) for o, c in machine["observation_codes"].items()}
    omap = {int(k): v for k, v in minimized["observation_map"].items()}
    trans = {int(s): {int(o): n for o, n in d.items()} for s, d in minimized["transitions"].items()}
    actions = {int(k): v for k, v in minimized["actions"].items()}
    env = task.make_env()
    out = {k: [] for k in ("returns", "unseen_codes", "unseen_pairs", "steps")}
    for e in range(episodes):
        obs, _ = env.reset(seed=seed + e)
        s, total, done, steps = minimized["initial_state"], 0.0, False, 0
        unseen_codes = unseen_pairs = 0
        while not done:
            feats = mmn.gru_net.input_ff(task.preprocess(obs))
            code = mmn.obx_net.encode(feats)[0].numpy().astype(int)
            raw = code_to_obs.get(_key(code))
            options = trans.get(s, {})
            o = omap.get(raw) if raw is not None else None
            unseen_codes += raw is None
            unseen_pairs += raw is not None and o not in options
            if o is None or o not in options:
                known = [
                    (int(np.abs(obs_code_arr[r] - code).sum()), omap[r])
                    for r in obs_code_arr
                    if omap[r] in options
                ]
                o = min(known)[1] if known else None
            if o is not None:
                s = options[o]
            obs, reward, terminated, truncated, _ = env.step(task.env_action(actions[s]))
            total += reward
            steps += 1
            done = (
                terminated or truncated or (task.max_steps is not None and steps >= task.max_steps)
            )
        for key, value in zip(out, (total, unseen_codes, unseen_pairs, steps)):
            out[key].append(value)
    env.close()
    return {k: np.array(v) for k, v in out.items()}
