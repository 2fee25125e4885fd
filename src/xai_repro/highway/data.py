"""Inputs of the analysis rules: the trained and untrained networks and the trained agent's
pooled states (``rollout.collect_states``); the rendered rollouts of the figures."""

import numpy as np
import torch

from xai_repro.common import InputError, limit_threads, setup_logging
from xai_repro.highway.network import load_network
from xai_repro.highway.states import load_states

MODELS = ("trained", "untrained")


def load_rollout(path):
    """A rollout .npz written by rollout_highway as {key: array}; InputError if unreadable."""
    try:
        with np.load(path) as data:
            out = {k: data[k] for k in data.files}
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"{path}: not a readable rollout .npz ({exc})") from exc
    for key in ("obs", "actions", "attention"):
        if key not in out:
            raise InputError(f"{path}: rollout has no '{key}' array")
    return out


def load_nets(models):
    """{'trained': net, 'untrained': net} from {'trained': path, 'untrained': path}."""
    return {m: load_network(models[m]) for m in MODELS}


def load_analysis_inputs(models, states_path):
    """(nets, states, x): both networks, the trained agent's pooled states (load_states) and
    those states as a tensor, on which every analysis compares the two networks."""
    nets = load_nets(models)
    states = load_states(states_path)
    return nets, states, torch.as_tensor(states["obs"], dtype=torch.float32)


def run_analysis_rule(main, sm):
    """Run an analysis rule's ``main(models, states, figures, out_path, **params)`` from its
    snakemake object: log to the rule's log, threads from the rule, the figure paths are the
    outputs named in params.figures (stated once, in rules/highway.smk)."""
    setup_logging(sm.log[0])
    limit_threads(sm.threads)
    models = {m: sm.input[m] for m in MODELS}
    figures = {name: sm.output[name] for name in sm.params.figures}
    params = {k: v for k, v in sm.params.items() if k != "figures"}
    main(models, sm.input.get("states"), figures, sm.output.analysis, **params)
