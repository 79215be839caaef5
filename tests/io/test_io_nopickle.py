"""No pickle, no code: saving and loading never touch pickle, and nothing named in a file is
imported or run."""

from __future__ import annotations

import _pickle
import ast
import json
import marshal
import pathlib
import pickle
import sys

import numpy as np
import pytest

import gradkit as gk
from gradkit import optim
from gradkit.data import DataLoader, TensorDataset
from gradkit.io import ConfigError
from gradkit.optim.lr_scheduler import StepLR

from .helpers import MLP, small_model

ROOT = pathlib.Path(gk.__file__).parent
SOURCES = sorted((ROOT / "io").glob("*.py")) + [ROOT / "sklearn.py"]


@pytest.fixture
def no_pickle(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("pickle (or an equivalent) was used")

    for mod, names in ((pickle, ("load", "loads", "dump", "dumps", "Pickler", "Unpickler")),
                       (_pickle, ("load", "loads", "dump", "dumps", "Pickler", "Unpickler")),
                       (marshal, ("load", "loads")),
                       (np, ("load", "save", "savez", "savez_compressed"))):
        for name in names:
            monkeypatch.setattr(mod, name, refuse)


def test_round_trips_never_use_pickle(tmp_path, no_pickle):
    model = small_model()
    gk.load(gk.save(model, tmp_path / "m.safetensors"))
    model.load_weights(model.save_weights(tmp_path / "w.safetensors"))
    custom = MLP()
    gk.load(gk.save(custom, tmp_path / "c.safetensors"), model=MLP())
    opt = optim.Adam(model.parameters(), lr=0.1)
    sched = StepLR(opt, step_size=1)
    loader = DataLoader(TensorDataset(np.zeros((8, 4), np.float32)), batch_size=2, shuffle=True)
    model(gk.randn(4, 4)).sum().backward()
    opt.step()
    gk.save_checkpoint(tmp_path / "ck.safetensors", model, opt, epoch=3, scheduler=sched,
                       loader=loader, note="x", arr=np.ones(3))
    info = gk.load_checkpoint(tmp_path / "ck.safetensors", model, opt, scheduler=sched,
                              loader=loader)
    assert info["epoch"] == 3 and info["note"] == "x"


def test_nothing_named_in_a_file_is_imported(tmp_path, monkeypatch):
    marker = tmp_path / "imported"
    (tmp_path / "gk_evil_module.py").write_text(
        f"open({str(marker)!r}, 'w').close()\n"
        "class Evil:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    arch = {"model": {"class": "Evil", "module": "gk_evil_module", "custom": True}}
    path = tmp_path / "evil.safetensors"
    gk.io.write_safetensors(path, {}, {"format": "gradkit.model", "format_version": "1",
                                       "architecture": json.dumps(arch)})
    with pytest.raises(ConfigError, match="never imports code named in a file"):
        gk.load(path)
    arch["model"] = {"class": "gk_evil_module.Evil", "config": {}}
    gk.io.write_safetensors(path, {}, {"format": "gradkit.model", "format_version": "1",
                                       "architecture": json.dumps(arch)})
    with pytest.raises(ConfigError, match="unknown layer class"):
        gk.load(path)
    assert not marker.exists() and "gk_evil_module" not in sys.modules


FORBIDDEN_MODULES = {"pickle", "_pickle", "cPickle", "marshal", "shelve", "dill", "cloudpickle",
                     "joblib", "torch"}
FORBIDDEN_CALLS = {"eval", "exec", "__import__", "import_module", "compile", "load", "loads"}


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_io_sources_import_no_pickle_and_run_no_code(source):
    tree = ast.parse(source.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            names = {(node.module or "").split(".")[0]}
        else:
            names = set()
        assert not names & FORBIDDEN_MODULES, f"{source.name}:{node.lineno} imports {names}"
        if isinstance(node, ast.Call):
            f = node.func
            name = f.id if isinstance(f, ast.Name) else getattr(f, "attr", "")
            owner = getattr(f.value, "id", "") if isinstance(f, ast.Attribute) else ""
            where = f"{source.name}:{node.lineno} calls {owner or ''}.{name}"
            if name in ("load", "loads"):
                assert owner == "json", where
            elif isinstance(f, ast.Name):  # builtins; `model.eval()` is a method
                assert name not in FORBIDDEN_CALLS, where
            else:
                assert name not in ("__import__", "import_module"), where
