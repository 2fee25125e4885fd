"""The torch device setting: "auto" falls back to the CPU where torch sees no GPU."""

import pytest
import torch

from xai_repro.common import resolve_device


def test_auto_falls_back_to_the_cpu_without_a_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == "cpu"
    assert resolve_device("cpu") == "cpu"
    with pytest.raises(RuntimeError, match="no CUDA GPU"):
        resolve_device("cuda")
    with pytest.raises(RuntimeError, match="no CUDA GPU"):
        resolve_device("cuda:1")
    with pytest.raises(ValueError, match="'tpu'"):
        resolve_device("tpu")


def test_auto_takes_the_gpu_when_torch_sees_one(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == "cuda"
    assert resolve_device("cuda:1") == "cuda:1"


# every rule that trains a torch network, and the config key its device comes from
TORCH_TRAINING_RULES = {
    "train_highway": ("highway.smk", 'device=HIGHWAY["train"].get("device", "auto")'),
    "train_cfrl_autoencoder": ("cfrl.smk", 'device=CFRL.get("device", "auto")'),
    "train_cfrl_scorers": ("cfrl.smk", 'device=CFRL.get("device", "auto")'),
    "train_qbn": ("diffig.smk", 'qbn=DIFFIG["qbn"]'),
}


def test_every_torch_training_rule_passes_its_device_and_its_script_resolves_it():
    from conftest import REPO

    for rule, (smk, param) in TORCH_TRAINING_RULES.items():
        text = (REPO / "rules" / smk).read_text()
        block = text[text.index(f"rule {rule}:") :]
        block = block[: block.index("\nrule ", 1) if "\nrule " in block[1:] else len(block)]
        assert param in block, f"rule {rule} does not pass {param}"
        script = next((REPO / "scripts").glob(f"*/{rule}.py")).read_text()
        assert "resolve_device(" in script, f"scripts/*/{rule}.py does not resolve the device"


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
