"""`gradkit train` and `gradkit predict` given what a careless user or an attacker gives
them: every case prints one line (what was wrong, what to do) and exits non-zero, with the
size checks made before anything is allocated or decoded."""

from __future__ import annotations

import json
import struct
import tracemalloc
import zlib

import numpy as np
import pytest

from gradkit.cli import guards

from .test_resume import cli, one_line

QUICK = ["train", "--dataset", "iris", "--epochs", "2", "--quiet", "--patience", "0"]


@pytest.mark.parametrize("args, code, words", [
    (["--hidden", "100000000"], 2, "800,000,003 parameters, more than the 100,000,000"),
    (["--dataset", "digits", "--model", "cnn", "--channels", "100000"], 2, "parameters"),
    (["--seed", "-1"], 2, "--seed: must be >= 0, got -1"),
    (["--seed", str(2**64)], 2, "--seed: must be at most 2**63 - 1"),
    (["--seed", "1.5"], 2, "--seed: expected a whole number"),
    (["--lr", "nan"], 2, "--lr: must be a finite number > 0"),
    (["--lr", "inf"], 2, "--lr: must be a finite number > 0"),
])
def test_train_refuses_what_no_run_can_use(tmp_path, capsys, args, code, words):
    got, _, err = cli([*QUICK, *args, "--out", str(tmp_path / "run")], capsys)
    assert got == code and words in one_line(err)
    assert not (tmp_path / "run" / "model.safetensors").exists()


def test_a_network_larger_than_the_memory_is_refused_before_it_is_built(tmp_path, capsys,
                                                                       monkeypatch):
    monkeypatch.setattr(guards, "available_memory", lambda device="cpu": 10 << 20)
    tracemalloc.start()
    code, _, err = cli([*QUICK, "--hidden", "4000,4000", "--out", str(tmp_path / "r")],
                       capsys)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert code == 2 and "needs about" in one_line(err) and "10.5 MB is available" in err
    assert peak < 20 << 20  # the 16-million-parameter network was never allocated


def test_parameter_counts_match_the_networks_built():
    from gradkit.cli.models import build_network

    for s, shape in [({"hidden": [7, 5]}, (4,)), ({"hidden": []}, (64,)),
                     ({"model": "cnn", "channels": [3, 4], "hidden": [6]}, (1, 8, 8))]:
        s = {"activation": "relu", "dropout": 0.1, **s}
        assert guards.parameter_count(s, shape, 3) == build_network(s, shape, 3).num_parameters()


def test_a_diverging_run_says_so_and_keeps_the_good_model(tmp_path, capsys):
    out = tmp_path / "run"
    assert cli([*QUICK, "--hidden", "8", "--out", str(out)], capsys)[0] == 0
    good = (out / "model.safetensors").read_bytes()
    ckpt = (out / "checkpoint.safetensors").read_bytes()
    code, _, err = cli([*QUICK, "--hidden", "8", "--lr", "1e300", "--out", str(out)], capsys)
    lines = [x for x in err.splitlines() if x.strip()]
    assert code == 1 and len(lines) == 2 and lines[0].startswith("note: ")  # the earlier run
    assert "diverged" in lines[1] and "NaN or infinite in epoch 1" in lines[1]
    assert "--lr" in lines[1] and "left as it was" in lines[1]
    assert (out / "model.safetensors").read_bytes() == good
    assert (out / "checkpoint.safetensors").read_bytes() == ckpt  # no NaN checkpoint


def test_a_run_that_diverges_at_once_writes_no_model(tmp_path, capsys):
    code, _, err = cli([*QUICK, "--hidden", "8", "--lr", "1e300", "--out",
                        str(tmp_path / "r")], capsys)
    assert code == 1 and "no model.safetensors was written" in one_line(err)
    assert not (tmp_path / "r" / "model.safetensors").exists()


# ---- predict ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def digits_model(tmp_path_factory):
    from gradkit.cli import main

    out = tmp_path_factory.mktemp("runs") / "digits"
    assert main(["train", "--dataset", "digits", "--hidden", "16", "--epochs", "1",
                 "--quiet", "--out", str(out)]) == 0
    return out


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that announces width x height 8-bit gray pixels (and holds almost none)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr)
            + _chunk(b"IDAT", zlib.compress(b"\0" * 64)) + _chunk(b"IEND", b""))


def _npy(path, header_shape, dtype="<f8", data=b""):
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(
            f, {"descr": dtype, "fortran_order": False, "shape": header_shape})
        f.write(data)
    return path


def hostile_inputs(tmp):
    nan = np.full((8, 8), 0.5)
    nan[3, 3] = np.nan
    np.save(tmp / "nan.npy", nan)
    np.save(tmp / "inf.npy", np.full((8, 8), np.inf))
    np.save(tmp / "empty.npy", np.zeros((0, 0)))
    np.save(tmp / "one-d.npy", np.zeros(64))
    np.save(tmp / "strings.npy", np.array([["a"]]))
    (tmp / "zero-bytes.npy").write_bytes(b"")
    (tmp / "huge.png").write_bytes(png_header_only(20000, 20000))
    (tmp / "wide.png").write_bytes(png_header_only(60000, 1000))
    return [
        ("nan.npy", "NaN or infinite"), ("inf.npy", "NaN or infinite"),
        ("empty.npy", "empty"), ("one-d.npy", "expected a 2-D"),
        ("strings.npy", "expected numbers"), ("zero-bytes.npy", "not a .npy array"),
        (_npy(tmp / "huge.npy", (100000, 100000)).name, "more than the 50,000,000"),
        (_npy(tmp / "short.npy", (64, 64), data=b"\0" * 100).name, "truncated"),
        (_npy(tmp / "obj.npy", (2, 2), dtype="|O").name, "expected numbers"),
        ("huge.png", "20000x20000 pixels"), ("wide.png", "more than the 50,000,000"),
    ]


def test_predict_refuses_hostile_images_before_decoding_them(digits_model, tmp_path,
                                                            capsys):
    for name, words in hostile_inputs(tmp_path):
        tracemalloc.start()
        code, _, err = cli(["predict", str(digits_model), str(tmp_path / name)], capsys)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert code == 2 and words in one_line(err), (name, err)
        assert peak < 20 << 20, f"{name}: {peak >> 20} MB allocated"


def _with_run_json(digits_model, tmp_path, change):
    import shutil

    run = tmp_path / "copy"
    shutil.copytree(digits_model, run)
    info = json.loads((run / "run.json").read_text())
    change(info)
    (run / "run.json").write_text(json.dumps(info))
    return run


@pytest.mark.parametrize("change, words", [
    (lambda i: i["preprocessing"].update(image_shape=[100000, 100000]), "image_shape"),
    (lambda i: i["preprocessing"].update(image_shape=[9, 9]), "the model takes 64 inputs"),
    (lambda i: i["preprocessing"].update(image_shape="8x8"), "image_shape"),
    (lambda i: i["preprocessing"].update(scale=float("nan")), "scale"),
    (lambda i: i["preprocessing"].update(type="audio"), "type 'audio'"),
    (lambda i: i.update(preprocessing=[1, 2]), "a preprocessing of list"),
], ids=["huge shape", "other size", "not a list", "NaN scale", "unknown type", "a list"])
def test_predict_refuses_a_run_json_that_does_not_describe_the_model(digits_model, tmp_path,
                                                                    capsys, change, words):
    run = _with_run_json(digits_model, tmp_path, change)
    np.save(tmp_path / "d.npy", np.zeros((8, 8)))
    tracemalloc.start()
    code, _, err = cli(["predict", str(run), str(tmp_path / "d.npy")], capsys)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert code == 2 and words in one_line(err) and "run.json" in err
    assert peak < 20 << 20


def test_predict_refuses_an_oversized_or_deeply_nested_run_json(digits_model, tmp_path,
                                                               capsys):
    run = _with_run_json(digits_model, tmp_path, lambda i: None)
    np.save(tmp_path / "d.npy", np.zeros((8, 8)))
    (run / "run.json").write_text("[" * 100000 + "]" * 100000)
    code, _, err = cli(["predict", str(run), str(tmp_path / "d.npy")], capsys)
    assert code == 2 and "nested too deeply" in one_line(err)
    with open(run / "run.json", "wb") as f:
        f.truncate(17 << 20)
    code, _, err = cli(["predict", str(run), str(tmp_path / "d.npy")], capsys)
    assert code == 2 and "more than a run.json" in one_line(err)
