"""The diffig study's torch training honours the device setting ("auto" falls back to the CPU)."""

import torch

from xai_repro.common import resolve_device


def test_qbn_trains_on_the_resolved_device_and_returns_on_the_cpu(monkeypatch):
    import numpy as np

    from xai_repro.diffig.networks import QBN
    from xai_repro.diffig.training import train_qbn

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    seen = []

    def insert(qbn):  # the return check gets a CPU copy
        seen.append({p.device.type for p in qbn.parameters()})
        return qbn

    monkeypatch.setattr("xai_repro.diffig.training.evaluate", lambda net, *a: np.zeros(1))
    data = np.random.default_rng(0).uniform(-1, 1, size=(32, 4)).astype(np.float32)
    qbn, history = train_qbn(
        QBN(4, 2, "tanh"),
        data,
        insert=insert,
        epochs=2,
        lr=1e-2,
        batch_size=8,
        eval_every=1,
        eval_episodes=1,
        seed=0,
        patience=5,
        device=resolve_device("auto"),
    )
    assert len(history) == 2 and seen == [{"cpu"}, {"cpu"}]
    assert {p.device.type for p in qbn.parameters()} == {"cpu"}
