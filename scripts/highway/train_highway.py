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

import numpy as np

from xai_repro.common import (
    InputError,
    atomic_output,
    limit_threads,
    seed_everything,
    setup_logging,
    write_json,
)
from xai_repro.highway.checkpoint import (
    StateWrapper,
    checkpoint_callback,
    checkpoint_paths,
    read_state,
    restore_state,
    resumable_checkpoint,
)
from xai_repro.highway.env import make_env
from xai_repro.highway.network import save_network
from xai_repro.highway.training import build_model, dqn_class, sb3_policy_class, set_exploration

log = logging.getLogger(__name__)


def progress_callback(total_steps):
    """An SB3 callback logging every ~15 s: steps, env steps/s, ETA, epsilon, recent return."""
    from stable_baselines3.common.callbacks import BaseCallback

    class Progress(BaseCallback):
        def _on_training_start(self):
            self.t0, self.n0, self.last = (
                time.perf_counter(),
                self.num_timesteps,
                time.perf_counter(),
            )

        def _on_step(self):
            now = time.perf_counter()
            if now - self.last > 15 or self.num_timesteps >= total_steps:
                rate = (self.num_timesteps - self.n0) / max(now - self.t0, 1e-9)
                eta = (total_steps - self.num_timesteps) / max(rate, 1e-9)
                recent = [ep["r"] for ep in self.model.ep_info_buffer or []]
                log.info(
                    "step %d/%d  %.1f env steps/s  ETA %.0f s  eps %.2f  "
                    "mean return of the last %d episodes %.2f",
                    self.num_timesteps,
                    total_steps,
                    rate,
                    eta,
                    self.model.exploration_rate,
                    len(recent),
                    float(np.mean(recent)) if recent else float("nan"),
                )
                self.last = now
            return True

    return Progress()


def resume(ckpt, done_steps, env, dqn, total_steps, checkpoint_dir, settings):
    """The SB3 model of checkpoint ``ckpt`` with its replay buffer and training state
    (environments, RNGs) put back, so training continues as if never interrupted."""
    log.info("resuming from %s (%d steps)", ckpt, done_steps)
    _, buf, state_path = checkpoint_paths(checkpoint_dir, done_steps)
    state = read_state(state_path, done_steps, settings)
    if not os.path.exists(buf):
        raise InputError(f"{buf}: missing: the replay buffer of checkpoint {ckpt}")
    try:
        model = dqn_class(dqn["double"], dqn["loss"], dqn.get("grad_clamp")).load(
            ckpt,
            env=env,
            device="cpu",
            custom_objects={"policy_class": sb3_policy_class()},
            force_reset=False,  # keep _last_obs: the environments are restored, not reset
        )
        set_exploration(model, dqn, total_steps)
        model.load_replay_buffer(buf)
        restore_state(model, state)
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"{ckpt}: cannot resume from this checkpoint ({exc})") from exc
    return model


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
    threads=1,
):
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    seed_everything(seed)
    os.makedirs(checkpoint_dir, exist_ok=True)
    vec_cls = SubprocVecEnv if n_envs > 1 else DummyVecEnv
    kw = {"start_method": "fork"} if n_envs > 1 else None
    env_fn = functools.partial(make_env, order=order)
    env = make_vec_env(
        env_fn,
        n_envs=n_envs,
        seed=seed,
        vec_env_cls=vec_cls,
        vec_env_kwargs=kw,
        wrapper_class=StateWrapper,  # transparent; lets a checkpoint capture the whole env
    )
    model = build_model(env, seed=seed, net=net, dqn=dqn, total_steps=total_steps)
    with atomic_output(untrained_path) as tmp:
        save_network(model.q_net.q_net, tmp)
    settings = {"seed": seed, "net": net, "dqn": dqn, "n_envs": n_envs, "order": order}
    ckpt, done_steps = resumable_checkpoint(checkpoint_dir, settings, total_steps)
    if ckpt:
        model = resume(ckpt, done_steps, env, dqn, total_steps, checkpoint_dir, settings)

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
    main(sm.output.untrained, sm.output.trained, sm.output.stats, threads=sm.threads, **sm.params)
