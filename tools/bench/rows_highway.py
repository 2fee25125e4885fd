"""Highway rows: DQN training env steps/s with 1 env vs n subprocess envs (the rule
``benchmark_highway_training``'s timer, alternating repeats), integrated gradients seconds
per state on the workflow's trained network, and the cost of training steps against n_envs.
"""

from pathlib import Path

import torch
from _common import load_config, parse_args, use_rule_scripts, write_group

from xai_repro.bench.report import make_curve, make_row
from xai_repro.bench.stats import seconds_per_item
from xai_repro.common import limit_threads, seed_everything
from xai_repro.highway.attribution import integrated_gradients
from xai_repro.highway.env import make_env
from xai_repro.highway.network import load_network

use_rule_scripts("highway")
from benchmark_highway_training import steps_per_s  # noqa: E402


def training_rows(cfg: dict, repeats: int, quick: bool):
    steps = 60 if quick else cfg["benchmark"]["steps"]
    n_envs = cfg["benchmark"]["n_envs"]
    order = cfg.get("env", {}).get("order", "sorted")
    dqn = dict(cfg["dqn"], learning_starts=min(cfg["dqn"]["learning_starts"], steps // 5))
    rates = {1: [], n_envs: []}
    for r in range(repeats):
        for n in rates:
            rates[n].append(
                steps_per_s(
                    n, steps=steps, seed=cfg["seed"] + r, net=cfg["network"], dqn=dqn, order=order
                )
            )
    row = make_row(
        "highway.env_steps_per_s",
        f"DQN training env steps/s ({steps} steps with updates)",
        "env steps/s",
        {"label": f"{n_envs} subprocess envs", "values": rates[n_envs]},
        {"label": "1 env", "values": rates[1]},
        notes="ratio = subprocess over single env",
    )
    points = {n: [100.0 / r for r in v] for n, v in rates.items()}
    curve = make_curve("highway.n_envs", "highway training, s per 100 env steps", "n_envs", points)
    return row, curve


def ig_row(cfg: dict, art: Path, repeats: int, quick: bool) -> dict:
    net = load_network(art / "results/highway/models/trained.pt")
    env = make_env(order=cfg.get("env", {}).get("order", "sorted"))
    states = [env.reset(seed=s)[0] for s in range(4 if quick else 10)]
    env.close()
    x = [torch.as_tensor(s, dtype=torch.float32)[None] for s in states]
    steps = cfg["analysis"]["ig_steps"]
    integrated_gradients(net, x[0], 0, n_steps=steps)  # captum import, warm-up

    seconds = seconds_per_item(
        lambda xi: integrated_gradients(net, xi, int(net(xi).argmax()), n_steps=steps),
        x,
        max(repeats, 3),
    )
    return make_row(
        "highway.ig_seconds_per_state",
        f"integrated gradients, s per state ({steps} steps)",
        "s/state",
        {"label": f"captum IG, {len(x)} states", "values": seconds},
    )


def main() -> None:
    args = parse_args(__doc__)
    limit_threads(args.threads)
    cfg = load_config(args.config)["highway"]
    seed_everything(cfg["seed"])
    rows = [ig_row(cfg, Path(args.artifacts), args.repeats, args.quick)]
    row, curve = training_rows(cfg, args.repeats, args.quick)
    write_group(args.out, [row, *rows], [curve])


if __name__ == "__main__":
    main()
