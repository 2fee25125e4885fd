"""The tasks the diffig study runs, by their config name (``diffig.env``)."""

from dataclasses import replace

from xai_repro.diffig.atari import GAMES, game_task, pong_task
from xai_repro.diffig.rollouts import CARTPOLE, Task, control_task

TASKS = {
    "CartPole-v1": lambda: CARTPOLE,
    "Acrobot-v1": lambda: control_task("Acrobot-v1", 6, 3),
    # the MMN code base's GRU was trained on LunarLander-v2, which gymnasium no longer has
    "LunarLander-v3": lambda: control_task("LunarLander-v3", 8, 4),
    "PongDeterministic-v4": pong_task,
    **{name: (lambda name=name: game_task(name)) for name in GAMES},
}


def get_task(name: str, max_steps: int | None = None) -> Task:
    """The task called ``name`` with every episode capped at ``max_steps`` (None: no cap)."""
    if name not in TASKS:
        raise ValueError(f"diffig.env: unknown task {name!r} (known: {', '.join(TASKS)})")
    return replace(TASKS[name](), max_steps=max_steps)
