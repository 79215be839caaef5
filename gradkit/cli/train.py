"""`gradkit train`: train an MLP (or, with `--model cnn`, a LeNet-style CNN) on a dataset with
`fit` and write everything about the run.

Into `--out` (default runs/<dataset>):
    model.safetensors        the trained model (gk.save: architecture + weights)
    run.json                 settings, preprocessing (what `gradkit predict` repeats), results
    checkpoint.safetensors   model, optimizer, data order and random state after the last
                             finished epoch (`--resume` continues from it, exactly)
    history.csv / .json      per-epoch loss, accuracy, val_loss, val_accuracy, lr, seconds
    curves.png               training vs validation curves (History.plot)
    confusion.png            the test set's confusion matrix
    misclassified.png        a grid of misclassified test images (image datasets)
    filters.png              the first conv layer's filters (--model cnn)
    feature_maps.png         what each conv block makes of one test image (--model cnn)
    report.html              all of the above on one static page
"""

from __future__ import annotations

import argparse
import datetime
import time
from pathlib import Path

import numpy as np

import gradkit as gk

from .. import distributed as dist
from .. import nn
from ..callbacks.history import History
from ..data import DataLoader, TensorDataset
from ..nn import registry
from ..optim import registry as optimizers
from . import guards, recorder, stopping
from .common import (
    CHECKPOINT_FILE,
    MODEL_FILE,
    RUN_FILE,
    CLIError,
    device_name,
    first_line,
    fraction,
    hidden_sizes,
    note,
    positive_float,
    positive_int,
    read_run_json,
    say,
    seed_value,
    write_json,
)
from .data import DATASETS, DEFAULTS, dataset_name, load_run_data
from .models import (
    MODEL_DATA_DEFAULTS,
    MODEL_DEFAULTS,
    MODELS,
    architecture,
    build_network,
    channel_counts,
)
from .report import write_outputs

OPTIMIZERS = tuple(optimizers.OPTIMIZERS)  # --optimizer's choices: the registries' names
ACTIVATIONS = tuple(registry.ACTIVATIONS)

# Settings a run is made of (None in the parser = not given; filled from here or run.json).
SETTINGS = {
    "dataset": "mnist", "model": "mlp", "hidden": None, "channels": None,
    "activation": "relu", "dropout": 0.2,
    "epochs": None, "batch_size": None, "optimizer": "adam", "lr": 1e-3, "device": "cpu",
    "seed": 0, "val_split": 0.1, "train_size": None, "patience": stopping.DEFAULT_PATIENCE,
    "jit": False,
}
# How each setting read back from run.json is checked: its flag's converter, or its choices.
SAVED_TYPES = {
    "dataset": dataset_name, "model": MODELS, "hidden": hidden_sizes,
    "channels": channel_counts, "activation": ACTIVATIONS, "dropout": fraction,
    "epochs": positive_int, "batch_size": positive_int, "optimizer": OPTIMIZERS,
    "lr": positive_float, "device": device_name, "seed": seed_value, "val_split": fraction,
    "train_size": positive_int, "patience": stopping.patience_value, "jit": (False, True),
}
# What --resume lets you change: train longer, on another device, compiled or not.
RESUME_MAY_CHANGE = ("epochs", "device", "patience", "jit")

EXAMPLES = """\
examples:
  gradkit train --dataset mnist --out runs/mnist        # ~0.98 test accuracy, a few minutes
  gradkit train --dataset mnist --out runs/mnist --resume --epochs 15   # 5 more epochs
  gradkit train --dataset mnist --model cnn --out runs/mnist-cnn         # ~0.99, a CNN
  gradkit train --dataset fashion-mnist --model cnn --out runs/fashion-cnn   # ~0.91
  gradkit train --dataset iris --hidden 16 --lr 0.01 --out runs/iris
  gradkit train --dataset moons --hidden 32,32 --activation tanh --out runs/moons

Defaults per dataset: epochs / batch size 10 / 128 for mnist and fashion-mnist, 30 / 32 for
digits, 100 / 16 for iris, 50 / 32 for moons. --model cnn: channels 16,32, hidden 128, and
15 epochs on fashion-mnist.
Open OUT/report.html to see the run.
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train", help="train an MLP (or a CNN) on a dataset and write model, curves and report",
        description="Train a fully connected network (Linear-activation-Dropout blocks, "
                    "softmax cross-entropy) with model.fit, print the test accuracy and write "
                    "the model, history, curves, confusion matrix and report.html into --out. "
                    "--model cnn trains a LeNet-style convolutional network instead "
                    "(Conv2d 5x5-activation-MaxPool2d blocks, then the fully connected head) "
                    "and adds pictures of its filters and feature maps.",
        epilog=EXAMPLES)
    p.add_argument("--dataset", type=dataset_name, metavar="NAME",
                   help=f"one of {', '.join(DATASETS)} (default mnist)")
    p.add_argument("--model", choices=MODELS,
                   help="mlp (default) or cnn (image datasets: mnist, fashion-mnist, digits)")
    p.add_argument("--hidden", type=hidden_sizes, metavar="W1,W2,...",
                   help="hidden layer widths, or 'none' for a single Linear layer "
                        "(default 512,512; with --model cnn the head after the convolutions, "
                        "default 128)")
    p.add_argument("--channels", type=channel_counts, metavar="C1,C2,...",
                   help="--model cnn: output channels of each conv block (default 16,32)")
    p.add_argument("--activation", choices=ACTIVATIONS, help="default relu")
    p.add_argument("--dropout", type=fraction, metavar="P",
                   help="dropout after each hidden layer, in [0, 1) (default 0.2)")
    p.add_argument("--epochs", type=positive_int, metavar="N",
                   help="total epochs (with --resume: train until this epoch)")
    p.add_argument("--batch-size", type=positive_int, metavar="N")
    p.add_argument("--optimizer", choices=OPTIMIZERS, help="default adam")
    p.add_argument("--lr", type=positive_float, metavar="LR", help="learning rate (default 1e-3)")
    p.add_argument("--device", metavar="DEV", help="cpu (default), cuda or cuda:N (needs CuPy)")
    p.add_argument("--seed", type=seed_value, metavar="N", help="random seed (default 0)")
    p.add_argument("--val-split", type=fraction, metavar="F",
                   help="last fraction of the training data kept for validation (default 0.1)")
    p.add_argument("--train-size", type=positive_int, metavar="N",
                   help="train on the first N training samples only (quick runs)")
    p.add_argument("--out", metavar="DIR",
                   help="output folder (default runs/<dataset>); created if missing")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in --out from its last checkpoint")
    p.add_argument("--distributed", action="store_true",
                   help="data-parallel over the ranks of an mpiexec job "
                        "(mpiexec -n 2 gradkit train ... --distributed)")
    stopping.add_argument(p)  # --patience: keep the best weights (EarlyStopping)
    p.add_argument("--jit", action="store_true", default=None,
                   help="compiled training steps (gk.compile: the same numbers, less overhead "
                        "per step; CPU)")
    p.add_argument("--quiet", action="store_true", help="no progress bar or per-epoch lines")
    p.set_defaults(run=run)


# ---- settings -----------------------------------------------------------------------------
def _given(args) -> dict:
    return {k: getattr(args, k) for k in SETTINGS if getattr(args, k) is not None}


def resolve_settings(args: argparse.Namespace, out: Path) -> tuple[dict, dict | None]:
    """(settings, the resumed run's run.json or None), checked."""
    given = _given(args)
    if given.get("device"):
        try:
            given["device"] = device_name(given["device"])
        except argparse.ArgumentTypeError as exc:
            raise CLIError(f"--device: {exc}") from None
    previous = None
    if args.resume:
        previous = _previous_run(out)
        recorder.check_saved(previous["settings"], out / RUN_FILE, SAVED_TYPES)
        settings = {"model": "mlp", "channels": None, **previous["settings"]}
        for key, value in given.items():
            if key not in RESUME_MAY_CHANGE and value != settings.get(key):
                flag = "--" + key.replace("_", "-")
                raise CLIError(
                    f"--resume continues {out} with its own settings, but {flag} "
                    f"{_show(value)} differs from the run's {_show(settings.get(key))}; "
                    "drop it, or start a new run with another --out")
        settings.update({k: v for k, v in given.items() if k in RESUME_MAY_CHANGE})
    else:
        settings = dict(SETTINGS)
        settings.update(given)
    if settings.get("jit") and args.distributed:
        raise CLIError("--jit compiles one process's step; --distributed steps exchange "
                       "gradients between processes, which a compiled step does not trace "
                       "(drop one of them)")
    if settings["model"] == "mlp" and settings.get("channels") is not None:
        raise CLIError("--channels sizes the conv blocks of --model cnn; the MLP has none "
                       "(add --model cnn, or drop --channels)")
    per_data = {**DEFAULTS[settings["dataset"]],
                **MODEL_DATA_DEFAULTS.get((settings["model"], settings["dataset"]), {})}
    for key in ("epochs", "batch_size"):
        if settings.get(key) is None:
            settings[key] = per_data[key]
    for key, value in MODEL_DEFAULTS[settings["model"]].items():
        if settings.get(key) is None:
            settings[key] = value
    return settings, previous


def _show(value) -> str:
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)


def _previous_run(out: Path) -> dict:
    ckpt, info = out / CHECKPOINT_FILE, out / RUN_FILE
    if not ckpt.is_file() or not info.is_file():
        raise CLIError(f"--resume: {out} holds no run to continue (no {CHECKPOINT_FILE} or "
                       f"{RUN_FILE}); start it without --resume")
    try:
        data = read_run_json(info)
        data["settings"]["dataset"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CLIError(f"--resume: cannot read {info}: {first_line(exc)}") from None
    return data


def check_out(path: str | None, dataset: str | None) -> Path:
    out = Path(path) if path else Path("runs") / (dataset or str(SETTINGS["dataset"]))
    if out.exists() and not out.is_dir():
        raise CLIError(f"--out {out} is an existing file, not a folder; give a folder "
                       "(it is created if missing)")
    blocker = guards.file_above(out)
    if blocker is not None:
        raise CLIError(f"--out {out}: {blocker} is a file, so no folder can be made inside "
                       "it; give a folder path (it is created if missing)")
    return out


# ---- the model ----------------------------------------------------------------------------
def build_model(n_in: int, hidden: list[int], n_out: int, activation: str,
                dropout: float) -> nn.Sequential:
    """The MLP: Linear -> activation -> Dropout blocks, then a Linear to the class logits
    (`--model cnn` builds with `models.build_network`)."""
    return registry.mlp([n_in, *hidden, n_out], activation, dropout)


# ---- the run ------------------------------------------------------------------------------
def _history_from(rows: list[dict]):
    h = History()
    h.epoch = [int(r["epoch"]) - 1 for r in rows]
    keys = [k for k in (rows[0] if rows else {}) if k not in ("epoch", "seconds")]
    h.history = {k: [r.get(k) for r in rows] for k in keys}
    return h


def run(args: argparse.Namespace) -> int:
    out = check_out(args.out, args.dataset)
    settings, previous = resolve_settings(args, out)
    try:
        return _train(args, out, settings, previous)
    except OSError as exc:  # a write that failed: full disk, read-only folder, ...
        raise guards.os_failure(out, exc) from None


def _train(args: argparse.Namespace, out: Path, s: dict, previous: dict | None) -> int:
    rank, world = dist.maybe_init(bool(args.distributed))
    main = rank == 0
    data = _checked_data(args, out, s, main)
    model = _network(s, data)
    device = s["device"]
    model.compile(optimizer=optimizers.create(s["optimizer"], model.parameters(), s["lr"]),
                  loss="cross_entropy", metrics=["accuracy"], jit_compile=bool(s.get("jit")))
    loader = DataLoader(TensorDataset(data.x_train, data.y_train), batch_size=s["batch_size"],
                        shuffle=True, seed=s["seed"], device=None if device == "cpu" else device)
    rows: list[dict] = []
    initial_epoch = 0
    identity = recorder.fingerprint(s, loader, model, RESUME_MAY_CHANGE)
    if previous is not None:
        info = recorder.resume(out, model, loader, identity)
        initial_epoch = int(info["epoch"] or 0)
        rows = [dict(r) for r in info.get("history") or []]
    meta = _run_info(s, data, model, world)
    stopper = stopping.keep_best(s, has_validation=data.x_val is not None)
    if main:
        out.mkdir(parents=True, exist_ok=True)
        write_json(out / RUN_FILE, meta)  # settings first: a crash can still be resumed
        _announce(s, data, model, world, initial_epoch)
        say(stopping.plan(s, stopper, initial_epoch))
    if initial_epoch >= s["epochs"]:
        say(f"{out} has already trained {initial_epoch} epochs (--epochs {s['epochs']}); "
            "nothing to train: pass a larger --epochs to train longer")
    runs = recorder.RunRecorder(out, loader, rows, meta, identity)
    callbacks = [runs, _history_from(rows)]
    callbacks += [stopper] if stopper is not None else []
    val = (data.x_val, data.y_val) if data.x_val is not None else None
    t0 = time.perf_counter()
    if initial_epoch < s["epochs"]:
        with np.errstate(all="ignore"):  # a diverging run is reported below, in one line
            model.fit(loader, epochs=s["epochs"], validation_data=val, callbacks=callbacks,
                      verbose=0 if args.quiet else 1, initial_epoch=initial_epoch,
                      batch_size=s["batch_size"], distributed=bool(args.distributed))
    train_seconds = time.perf_counter() - t0
    _check_outcome(out, model, runs, s["lr"], main)
    results = model.evaluate(data.x_test, data.y_test, batch_size=1024)
    if main:
        meta["best_weights"] = stopping.outcome(stopper, rows)
        say(stopping.summary(meta["best_weights"]))
        history = callbacks[1]
        written = write_outputs(out, model, data, meta, rows, history, results,
                                train_seconds)
        say(f"test accuracy: {results['accuracy']:.4f} (test loss {results['loss']:.4f}, "
            f"{len(data.y_test):,} samples)")
        say(f"wrote {out}/: {', '.join(written)}")
    return 0


def _checked_data(args: argparse.Namespace, out: Path, s: dict, main: bool):
    """The run's data, after checking `--out` (writable, room enough) and the network's size
    (before anything is built)."""
    if main:
        guards.prepare_out(out)
    if main and not args.resume and (out / CHECKPOINT_FILE).exists():
        note(f"{out} holds an earlier run; starting a new one over it "
             "(use --resume to continue it instead)")
    gk.manual_seed(s["seed"])
    with guards.cache_notes():
        data = load_run_data(s["dataset"], s["seed"], s["val_split"], s["train_size"],
                             layout="image" if s["model"] == "cnn" else "flat")
    params = guards.check_size(s, data.input_shape, len(data.classes))
    if main:
        guards.check_free_space(out, params)
    return data


def _check_outcome(out: Path, model, runs, lr: float, main: bool) -> None:
    """Fail (one line, exit 1) when training left NaN/inf weights; note a divergence that
    the best epoch's weights (EarlyStopping) undid."""
    if not guards.weights_finite(model):  # the same weights on every rank
        raise recorder.diverged(runs, lr, (out / MODEL_FILE).exists())
    if main and runs.diverged:
        note(f"the loss became {runs.diverged[1]} in epoch {runs.diverged[0]}; training "
             "stopped there and the best epoch's weights are kept")


def _network(s: dict, data):
    """The settings' network for `data`, on the settings' device (one-line errors)."""
    try:
        model = build_network(s, data.input_shape, len(data.classes))
    except ValueError as exc:
        raise CLIError(f"--channels {_show(s['channels'])}: {first_line(exc)}") from None
    if s["device"] != "cpu":
        try:
            model.to(s["device"])
        except (ImportError, ValueError, RuntimeError) as exc:
            raise CLIError(f"--device {s['device']}: {first_line(exc)}") from None
    return model


def _run_info(s: dict, data, model, world: int) -> dict:
    return {
        "gradkit_version": gk.__version__,
        "created": datetime.datetime.now().isoformat(timespec="seconds"),
        "command": "gradkit train",
        "settings": s,
        "world_size": world,
        "dataset": data.name,
        "classes": data.classes,
        "preprocessing": data.preprocessing,
        "samples": {"train": len(data.y_train),
                    "validation": 0 if data.y_val is None else len(data.y_val),
                    "test": len(data.y_test)},
        "architecture": architecture(s, data.input_shape, len(data.classes)),
        "parameters": model.num_parameters(),
        "model_file": MODEL_FILE,
    }


def _announce(s: dict, data, model, world: int, initial_epoch: int) -> None:
    n_val = 0 if data.y_val is None else len(data.y_val)
    where = f"{s['device']}" + (f", {world} ranks" if world > 1 else "")
    say(f"gradkit train: {data.name} ({len(data.y_train):,} training / {n_val:,} validation / "
        f"{len(data.y_test):,} test samples)")
    arch = architecture(s, data.input_shape, len(data.classes))
    drop = f", dropout {s['dropout']}" if s["hidden"] and s["dropout"] > 0 else ""
    kind = "CNN " if s["model"] == "cnn" else ""
    say(f"model {kind}{arch} {s['activation']}{drop} ({model.num_parameters():,} parameters), "
        f"{s['optimizer']} lr {s['lr']:g}, batch {s['batch_size']}, {s['epochs']} epochs, "
        f"on {where}")
    if initial_epoch:
        say(f"resuming after epoch {initial_epoch}")


