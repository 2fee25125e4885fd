"""Rule ``train_highway``: trains the ego-attention DQN (SB3) on intersection-v0.

Writes the untrained (initial) and trained Q-networks (rl-agents layout) and training stats.
Periodic SB3 checkpoints in ``checkpoint_dir`` let a rerun resume after an interruption.
"""

import functools
import glob
import logging
import os
import re
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
from xai_repro.highway.env import make_env
from xai_repro.highway.network import save_network
from xai_repro.highway.training import build_model, dqn_class, sb3_policy_class, set_exploration

log = logging.getLogger(__name__)


def latest_checkpoint(checkpoint_dir):
    """Path and step count of the newest ``dqn_<steps>_steps.zip`` in ``checkpoint_dir``."""
    best = (None, 0)
    for path in glob.glob(os.path.join(checkpoint_dir, "dqn_*_steps.zip")):
        m = re.search(r"dqn_(\d+)_steps\.zip$", path)
        if m and int(m.group(1)) > best[1]:
            best = (path, int(m.group(1)))
    return best


def resumable_checkpoint(checkpoint_dir, settings, total_steps):
    """The checkpoint to resume from: only one written with the same settings and within
    ``total_steps``; checkpoints of other settings are deleted (with a warning)."""
    import json

    for stale in glob.glob(os.path.join(checkpoint_dir, ".dqn_*")):  # a killed atomic write
        os.remove(stale)
    stamp = os.path.join(checkpoint_dir, "settings.json")
    current = json.loads(json.dumps(settings))
    if os.path.exists(stamp):
        try:
            with open(stamp) as fh:
                previous = json.load(fh)
        except ValueError:
            previous = None
        if previous != current:
            log.warning(
                "%s: checkpoints were written with other settings; starting afresh", checkpoint_dir
            )
            for path in glob.glob(os.path.join(checkpoint_dir, "dqn_*")):
                os.remove(path)
    else:
        for path in glob.glob(os.path.join(checkpoint_dir, "dqn_*")):
            os.remove(path)
    with atomic_output(stamp) as tmp, open(tmp, "w") as fh:
        json.dump(current, fh)
    path, steps = latest_checkpoint(checkpoint_dir)
    if path and steps > total_steps:
        log.warning("%s has %d steps > total_steps %d; starting afresh", path, steps, total_steps)
        return None, 0
    return path, steps


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


def checkpoint_callback(every, checkpoint_dir):
    """An SB3 callback saving ``dqn_<steps>_steps.zip`` and its replay buffer every ``every``
    calls, each atomically; the buffer first, so a model zip is only there once its buffer is
    (SB3's own CheckpointCallback writes in place: a kill mid-write left a truncated zip that
    stopped the rerun)."""
    from stable_baselines3.common.callbacks import BaseCallback

    class AtomicCheckpoint(BaseCallback):
        def _on_step(self):
            if self.n_calls % every == 0:
                steps = self.num_timesteps
                buf = os.path.join(checkpoint_dir, f"dqn_replay_buffer_{steps}_steps.pkl")
                with atomic_output(buf) as tmp:
                    self.model.save_replay_buffer(tmp)
                with atomic_output(os.path.join(checkpoint_dir, f"dqn_{steps}_steps.zip")) as tmp:
                    self.model.save(tmp)
            return True

    return AtomicCheckpoint()


def resume(ckpt, done_steps, env, dqn, total_steps, checkpoint_dir):
    """The SB3 model of checkpoint ``ckpt`` (and its replay buffer), exploration re-applied."""
    log.info("resuming from %s (%d steps)", ckpt, done_steps)
    try:
        model = dqn_class(dqn["double"], dqn["loss"], dqn.get("grad_clamp")).load(
            ckpt, env=env, device="cpu", custom_objects={"policy_class": sb3_policy_class()}
        )
        set_exploration(model, dqn, total_steps)
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"{ckpt}: cannot resume from this checkpoint ({exc})") from exc
    buf = os.path.join(checkpoint_dir, f"dqn_replay_buffer_{done_steps}_steps.pkl")
    if os.path.exists(buf):
        model.load_replay_buffer(buf)
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
    env = make_vec_env(env_fn, n_envs=n_envs, seed=seed, vec_env_cls=vec_cls, vec_env_kwargs=kw)
    model = build_model(env, seed=seed, net=net, dqn=dqn, total_steps=total_steps)
    with atomic_output(untrained_path) as tmp:
        save_network(model.q_net.q_net, tmp)
    ckpt, done_steps = resumable_checkpoint(
        checkpoint_dir,
        {"seed": seed, "net": net, "dqn": dqn, "n_envs": n_envs, "order": order},
        total_steps,
    )
    if ckpt:
        model = resume(ckpt, done_steps, env, dqn, total_steps, checkpoint_dir)

    remaining = max(total_steps - done_steps, 0)
    progress = progress_callback(total_steps)
    callbacks = [progress, checkpoint_callback(max(checkpoint_every // n_envs, 1), checkpoint_dir)]
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
