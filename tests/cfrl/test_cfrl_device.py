"""The cfrl study's torch training honours the device setting ("auto" falls back to the CPU)."""

import torch

from xai_repro.common import resolve_device


def test_torch_autoencoder_trains_on_the_resolved_device_and_returns_on_the_cpu(monkeypatch):
    import numpy as np

    from xai_repro.cfrl.models import build_torch_autoencoder, fit_torch_autoencoder

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    encoder, decoder = build_torch_autoencoder(8, 2, 4)
    model = torch.nn.Sequential(encoder, decoder)
    x = np.random.default_rng(0).uniform(size=(16, 8, 8, 1)).astype(np.float32)
    losses = fit_torch_autoencoder(
        model, x, epochs=2, batch_size=8, learning_rate=1e-2, seed=0, device=resolve_device("auto")
    )
    assert len(losses) == 2 and all(np.isfinite(losses))
    assert {p.device.type for p in model.parameters()} == {"cpu"}
