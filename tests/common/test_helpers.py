"""Shared helpers: atomic writes, JSON, checked torch loading, thread limits, logging."""

import contextlib
import json
import logging
import os
import pickle
import sys

import numpy as np
import pytest

from xai_repro.common import (
    InputError,
    atomic_output,
    limit_threads,
    read_json,
    seed_everything,
    setup_logging,
    torch_load_checked,
    write_json,
)
from xai_repro.common.runtime import _THREAD_ENV_VARS


def test_atomic_output_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "sub" / "out.csv"
    with pytest.raises(RuntimeError), atomic_output(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert not target.exists()
    assert list(target.parent.iterdir()) == []


def test_atomic_output_replaces_on_success(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with atomic_output(target) as tmp:
        tmp.write_text("new")
    assert target.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]


def test_write_json_converts_numpy_and_non_finite(tmp_path):
    path = tmp_path / "m.json"
    write_json(path, {"a": np.float32(1.5), "b": np.arange(3), "c": float("nan"), 1: np.int64(2)})
    assert json.loads(path.read_text()) == {"a": 1.5, "b": [0, 1, 2], "c": None, "1": 2}


def test_read_json_names_the_file(tmp_path):
    with pytest.raises(InputError, match="missing.json"):
        read_json(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(InputError, match="bad.json"):
        read_json(tmp_path / "bad.json")


class _Evil:
    def __reduce__(self):
        return (print, ("pwned",))


def test_torch_load_checked_refuses_code_and_garbage(tmp_path):
    torch = pytest.importorskip("torch")
    good = tmp_path / "good.pt"
    torch.save({"w": torch.ones(2)}, good)
    assert torch.equal(torch_load_checked(good)["w"], torch.ones(2))
    evil = tmp_path / "evil.pt"
    torch.save({"payload": _Evil()}, evil)
    with pytest.raises(InputError, match="evil.pt"):
        torch_load_checked(evil)
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"\x00garbage")
    with pytest.raises(InputError, match="junk.pt"):
        torch_load_checked(junk)
    pickled = tmp_path / "plain.pkl"
    pickled.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(InputError, match="plain.pkl"):
        torch_load_checked(pickled)
    with pytest.raises(InputError, match="absent.pt"):
        torch_load_checked(tmp_path / "absent.pt")


@contextlib.contextmanager
def kept_thread_counts():
    """limit_threads acts on the whole process: restore the thread counts of torch, numba and
    the BLAS/OpenMP pools as they were on entry."""
    import torch
    from threadpoolctl import ThreadpoolController

    before = torch.get_num_threads()
    pools = [(lib, lib.num_threads) for lib in ThreadpoolController().lib_controllers]
    numba = sys.modules.get("numba")
    numba_before = numba.get_num_threads() if numba else None
    try:
        yield
    finally:
        torch.set_num_threads(before)
        for lib, n in pools:
            lib.set_num_threads(n)
        if numba is not None:
            numba.set_num_threads(numba_before)


@pytest.fixture
def restore_threads(monkeypatch):
    """Later tests see the thread counts and environment they had before this test."""
    torch = pytest.importorskip("torch")
    for var in _THREAD_ENV_VARS:  # later subprocesses see the real machine
        monkeypatch.setenv(var, os.environ.get(var, "0"))
    with kept_thread_counts():
        yield torch


def test_kept_thread_counts_restores_torch():
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    other = 2 if before == 1 else 1
    with kept_thread_counts():
        torch.set_num_threads(other)
        assert torch.get_num_threads() == other
    assert torch.get_num_threads() == before


def test_limit_threads_and_seed(restore_threads):
    torch = restore_threads
    limit_threads(1)
    assert torch.get_num_threads() == 1
    seed_everything(5)
    a = (np.random.rand(), torch.rand(1).item())
    seed_everything(5)
    assert (np.random.rand(), torch.rand(1).item()) == a


def test_setup_logging_writes_log_and_warnings(tmp_path):
    import warnings

    log_path = tmp_path / "logs" / "job.log"
    setup_logging(log_path)
    logging.getLogger("job").info("hello")
    warnings.warn("careful", UserWarning, stacklevel=1)
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = log_path.read_text()
    assert "hello" in text and "careful" in text
    setup_logging(None)  # detach the file handler again
