"""DQN training: stable-baselines3 glue, rl-agents' exploration, Double DQN, gradient clamp,
progress logging and resuming from a checkpoint."""

import logging
import os
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from xai_repro.common import InputError
from xai_repro.highway.checkpoint import checkpoint_paths, read_state, restore_state
from xai_repro.highway.network import ObsNetwork, network_config

log = logging.getLogger(__name__)


def sb3_policy_class():
    """A DQNPolicy whose QNetwork.q_net is the whole EgoAttentionNetwork."""
    from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
    from stable_baselines3.dqn.policies import DQNPolicy, QNetwork

    class _Identity(BaseFeaturesExtractor):
        def __init__(self, observation_space):
            super().__init__(observation_space, features_dim=int(np.prod(observation_space.shape)))

        def forward(self, obs):
            return obs.float()

    class EgoAttentionDQNPolicy(DQNPolicy):
        def __init__(self, *args, net_config=None, **kwargs):
            self.net_config = dict(net_config or network_config())
            kwargs["features_extractor_class"] = _Identity
            kwargs["net_arch"] = []
            super().__init__(*args, **kwargs)

        def make_q_net(self):
            net_args = self._update_features_extractor(self.net_args, features_extractor=None)
            q = QNetwork(**net_args)
            q.q_net = ObsNetwork(**self.net_config)
            return q.to(self.device)

        def _get_constructor_parameters(self):
            data = super()._get_constructor_parameters()
            data["net_config"] = self.net_config
            return data

    return EgoAttentionDQNPolicy


class ExponentialEpsilon:
    """rl-agents' exploration schedule: eps(t) = final + (initial - final) exp(-t / tau).

    ``t`` counts env steps; SB3 calls the schedule with the remaining fraction of
    ``total_steps`` (a resumed run keeps the global count, so the schedule continues).
    """

    def __init__(self, initial, final, tau, total_steps):
        self.initial, self.final, self.tau, self.total_steps = initial, final, tau, total_steps

    def __call__(self, progress_remaining):
        t = (1.0 - progress_remaining) * self.total_steps
        return self.final + (self.initial - self.final) * float(np.exp(-t / self.tau))


def double_dqn_targets(q_online_next, q_target_next, rewards, dones, discounts):
    """Double-DQN TD targets: the online net picks the next action, the target net values it."""
    best = q_online_next.argmax(dim=1, keepdim=True)
    next_q = torch.gather(q_target_next, 1, best)
    return rewards + (1 - dones) * discounts * next_q


TD_LOSSES = {"huber": F.smooth_l1_loss, "l2": F.mse_loss}


def clip_gradients(parameters, grad_clamp, max_norm):
    """rl-agents' element-wise clamp of every gradient to [-grad_clamp, grad_clamp] when
    ``grad_clamp`` is set, else SB3's rescaling of the global gradient norm to ``max_norm``."""
    parameters = [p for p in parameters if p.grad is not None]
    if grad_clamp:
        for p in parameters:
            p.grad.data.clamp_(-grad_clamp, grad_clamp)
    else:
        nn.utils.clip_grad_norm_(parameters, max_norm)


def dqn_class(double=True, loss="huber", grad_clamp=None):
    """SB3's DQN, or, when any setting differs from it, a subclass with rl-agents' choices:
    Double DQN's TD target when ``double`` (rl-agents' default; else DQN's own), the TD loss
    ``loss`` ("huber": SB3's; "l2": rl-agents') and rl-agents' element-wise gradient clamp
    ``grad_clamp`` (None: SB3's global norm clipping)."""
    from stable_baselines3 import DQN

    if not double and loss == "huber" and not grad_clamp:
        return DQN

    class RlAgentsDQN(DQN):  # named for its settings' origin, not only Double DQN
        td_loss = staticmethod(TD_LOSSES[loss])

        def train(self, gradient_steps, batch_size=100):
            self.policy.set_training_mode(True)
            self._update_learning_rate(self.policy.optimizer)
            losses = []
            for _ in range(gradient_steps):
                data = self.replay_buffer.sample(batch_size, env=self._vec_normalize_env)
                discounts = data.discounts if data.discounts is not None else self.gamma
                with torch.no_grad():
                    q_next = self.q_net_target(data.next_observations)
                    target = double_dqn_targets(
                        self.q_net(data.next_observations) if double else q_next,
                        q_next,
                        data.rewards,
                        data.dones,
                        discounts,
                    )
                current = torch.gather(self.q_net(data.observations), 1, data.actions.long())
                loss = self.td_loss(current, target)
                losses.append(loss.item())
                self.policy.optimizer.zero_grad()
                loss.backward()
                clip_gradients(self.policy.parameters(), grad_clamp, self.max_grad_norm)
                self.policy.optimizer.step()
            self._n_updates += gradient_steps
            self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
            self.logger.record("train/loss", np.mean(losses))

    return RlAgentsDQN


def build_model(env, *, seed, net, dqn, total_steps=None, device="cpu"):
    """SB3 (Double) DQN with the ego-attention Q-network and the configured exploration, its
    networks on ``device`` (SB3 samples its replay batches there too)."""
    model = dqn_class(dqn["double"], dqn["loss"], dqn.get("grad_clamp"))(
        sb3_policy_class(),
        env,
        policy_kwargs={"net_config": network_config(**net)},
        learning_rate=dqn["learning_rate"],
        buffer_size=dqn["buffer_size"],
        learning_starts=dqn["learning_starts"],
        batch_size=dqn["batch_size"],
        gamma=dqn["gamma"],
        train_freq=dqn["train_freq"],
        gradient_steps=dqn["gradient_steps"],
        target_update_interval=dqn["target_update_interval"],
        exploration_fraction=dqn["exploration_fraction"],
        exploration_initial_eps=1.0,
        exploration_final_eps=dqn["exploration_final_eps"],
        seed=seed,
        device=device,
        verbose=0,
    )
    return set_exploration(model, dqn, total_steps)


def set_exploration(model, dqn, total_steps):
    """rl-agents' exponential epsilon decay when configured (SB3's own is linear).

    Called after building and after loading a checkpoint: SB3's setup resets the schedule.
    """
    if dqn["exploration_schedule"] == "exponential":
        if total_steps is None:
            raise ValueError("the exponential exploration schedule needs total_steps")
        model.exploration_schedule = ExponentialEpsilon(
            1.0, dqn["exploration_final_eps"], dqn["exploration_tau"], total_steps
        )
    return model


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


def resume(ckpt, done_steps, env, dqn, total_steps, checkpoint_dir, settings, device="cpu"):
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
            device=device,
            custom_objects={"policy_class": sb3_policy_class()},
            force_reset=False,  # keep _last_obs: the environments are restored, not reset
        )
        set_exploration(model, dqn, total_steps)
        model.load_replay_buffer(buf)
        restore_state(model, state)
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"{ckpt}: cannot resume from this checkpoint ({exc})") from exc
    return model


def training_steps_per_s(env_fn, n_envs, *, steps, seed, net, dqn):
    """Env steps/s of ``steps`` DQN training steps on ``n_envs`` copies of ``env_fn()``
    (subprocess envs when more than one)."""
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    cls = SubprocVecEnv if n_envs > 1 else DummyVecEnv
    kw = {"start_method": "fork"} if n_envs > 1 else None
    env = make_vec_env(env_fn, n_envs=n_envs, seed=seed, vec_env_cls=cls, vec_env_kwargs=kw)
    model = build_model(env, seed=seed, net=net, dqn=dqn, total_steps=steps)
    t0 = time.perf_counter()
    model.learn(steps)
    rate = steps / (time.perf_counter() - t0)
    env.close()
    return rate
