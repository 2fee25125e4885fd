"""Rule ``train_highway``: trains the ego-attention DQN (SB3) on intersection-v0.

Writes the untrained (initial) and trained Q-networks (rl-agents layout) and training stats.
Periodic checkpoints in ``checkpoint_dir`` (SB3 zip, replay buffer, environment and RNG state:
xai_repro.highway.checkpoint) let a rerun resume after an interruption and end exactly as an
uninterrupted run.
"""

import functools
import logging
import os
import time

from xai_repro.common import (
    atomic_output,
    limit_threads,
    resolve_device,
    seed_everything,
    setup_logging,
    write_json,
)
from xai_repro.highway.checkpoint import StateWrapper, checkpoint_callback, resumable_checkpoint
from xai_repro.highway.env import make_env, set_fast_path
from xai_repro.highway.network import save_network
from xai_repro.highway.training import build_model, progress_callback, resume

log = logging.getLogger(__name__)


def main(
    untrained_path,
    trained_path,
    stats_path,
    *,
    seed,
    net,
    dqn,
    total_steps,
    n_envs,
    checkpoint_every,
    checkpoint_dir,
    order="sorted",
    device="cpu",
    fast_env=True,
):
    set_fast_path(fast_env)
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    seed_everything(seed)
    device = resolve_device(device)
    log.info("training on %s", device)
    os.makedirs(checkpoint_dir, exist_ok=True)
    vec_cls = SubprocVecEnv if n_envs > 1 else DummyVecEnv
    kw = {"start_method": "fork"} if n_envs > 1 else None
    env_fn = functools.partial(make_env, order=order, fast=fast_env)
    env = make_vec_env(
        env_fn,
        n_envs=n_envs,
        seed=seed,
        vec_env_cls=vec_cls,
        vec_env_kwargs=kw,
        wrapper_class=StateWrapper,  # transparent; lets a checkpoint capture the whole env
    )
    model = build_model(env, seed=seed, net=net, dqn=dqn, total_steps=total_steps, device=device)
    with atomic_output(untrained_path) as tmp:
        save_network(model.q_net.q_net, tmp)
    settings = {"seed": seed, "net": net, "dqn": dqn, "n_envs": n_envs, "order": order}
    ckpt, done_steps = resumable_checkpoint(checkpoint_dir, settings, total_steps)
    if ckpt:
        model = resume(
            ckpt, done_steps, env, dqn, total_steps, checkpoint_dir, settings, device=device
        )

    remaining = max(total_steps - done_steps, 0)
    progress = progress_callback(total_steps)
    period = max(checkpoint_every // n_envs, 1) * n_envs  # env steps, a multiple of n_envs
    callbacks = [progress, checkpoint_callback(period, checkpoint_dir, settings)]
    t0 = time.perf_counter()
    if remaining:
        model.learn(remaining, callback=callbacks, reset_num_timesteps=not ckpt, progress_bar=False)
    wall = time.perf_counter() - t0
    env.close()
    with atomic_output(trained_path) as tmp:
        save_network(model.q_net.q_net, tmp)
    write_json(
        stats_path,
        {
            "total_steps": total_steps,
            "steps_this_run": remaining,
            "resumed_from": done_steps,
            "n_envs": n_envs,
            "wall_s": wall,
            "env_steps_per_s": remaining / wall if remaining and wall > 0 else None,
            "episodes": int(model._episode_num),  # all so far (ep_info_buffer keeps 100)
        },
    )


if __name__ == "__main__":
    sm = snakemake  # noqa: F821
    setup_logging(sm.log[0])
    limit_threads(1)
    main(sm.output.untrained, sm.output.trained, sm.output.stats, **sm.params)
