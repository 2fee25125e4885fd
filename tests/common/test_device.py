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
