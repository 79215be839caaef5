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
from ..callbacks.base import Callback
from ..callbacks.history import History
from ..data import DataLoader, TensorDataset
from ..io import save_checkpoint
from ..nn import registry
from ..optim import registry as optimizers
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
    readable,
    say,
    write_history,
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
    "seed": 0, "val_split": 0.1, "train_size": None,
}
# What --resume lets you change: train longer, or on another device.
RESUME_MAY_CHANGE = ("epochs", "device")

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
    p.add_argument("--seed", type=int, metavar="N", help="random seed (default 0)")
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
    import json

    ckpt, info = out / CHECKPOINT_FILE, out / RUN_FILE
    if not ckpt.is_file() or not info.is_file():
        raise CLIError(f"--resume: {out} holds no run to continue (no {CHECKPOINT_FILE} or "
                       f"{RUN_FILE}); start it without --resume")
    try:
        data = json.loads(info.read_text())
        data["settings"]["dataset"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CLIError(f"--resume: cannot read {info}: {first_line(exc)}") from None
    return data


def check_out(path: str | None, dataset: str | None) -> Path:
    out = Path(path) if path else Path("runs") / (dataset or str(SETTINGS["dataset"]))
    if out.exists() and not out.is_dir():
        raise CLIError(f"--out {out} is an existing file, not a folder; give a folder "
                       "(it is created if missing)")
    return out


# ---- the model ----------------------------------------------------------------------------
def build_model(n_in: int, hidden: list[int], n_out: int, activation: str,
                dropout: float) -> nn.Sequential:
    """The MLP: Linear -> activation -> Dropout blocks, then a Linear to the class logits
    (`--model cnn` builds with `models.build_network`)."""
    return registry.mlp([n_in, *hidden, n_out], activation, dropout)


# ---- the run ------------------------------------------------------------------------------
def _recorder_class():
    class RunRecorder(Callback):
        """After each epoch: the history files and an atomic checkpoint (rank 0 only)."""

        main_process_only = True

        def __init__(self, out: Path, loader, rows: list, meta: dict) -> None:
            super().__init__()
            self.out, self.loader, self.rows, self.meta = out, loader, rows, meta
            self.t0 = time.perf_counter()

        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            row = {"epoch": epoch + 1}
            row.update({k: float(v) for k, v in (logs or {}).items()
                        if isinstance(v, (int, float, np.floating))})
            row["seconds"] = round(time.perf_counter() - self.t0, 3)
            self.rows[:] = [r for r in self.rows if r["epoch"] <= epoch] + [row]
            write_history(self.out, self.rows)
            save_checkpoint(self.out / CHECKPOINT_FILE, self.model, self.model.optimizer,
                            epoch=epoch + 1, loader=self.loader, history=list(self.rows))
            readable(self.out / CHECKPOINT_FILE)

    return RunRecorder


def _history_from(rows: list[dict]):
    h = History()
    h.epoch = [int(r["epoch"]) - 1 for r in rows]
    keys = [k for k in (rows[0] if rows else {}) if k not in ("epoch", "seconds")]
    h.history = {k: [r.get(k) for r in rows] for k in keys}
    return h


def run(args: argparse.Namespace) -> int:
    out = check_out(args.out, args.dataset)
    settings, previous = resolve_settings(args, out)
    s = settings
    rank, world = dist.maybe_init(bool(args.distributed))
    main = rank == 0
    if main and not args.resume and (out / CHECKPOINT_FILE).exists():
        note(f"{out} holds an earlier run; starting a new one over it "
             "(use --resume to continue it instead)")
    gk.manual_seed(s["seed"])
    data = load_run_data(s["dataset"], s["seed"], s["val_split"], s["train_size"],
                         layout="image" if s["model"] == "cnn" else "flat")
    model = _network(s, data)
    device = s["device"]
    model.compile(optimizer=optimizers.create(s["optimizer"], model.parameters(), s["lr"]),
                  loss="cross_entropy", metrics=["accuracy"])
    loader = DataLoader(TensorDataset(data.x_train, data.y_train), batch_size=s["batch_size"],
                        shuffle=True, seed=s["seed"], device=None if device == "cpu" else device)
    rows: list[dict] = []
    initial_epoch = 0
    if previous is not None:
        try:
            info = gk.load_checkpoint(out / CHECKPOINT_FILE, model, model.optimizer,
                                      loader=loader)
        except (ValueError, OSError) as exc:
            raise CLIError(f"--resume: cannot load {out / CHECKPOINT_FILE}: "
                           f"{first_line(exc)}") from None
        initial_epoch = int(info["epoch"] or 0)
        rows = [dict(r) for r in info.get("history") or []]
    meta = _run_info(s, data, model, world)
    if main:
        out.mkdir(parents=True, exist_ok=True)
        write_json(out / RUN_FILE, meta)  # settings first: a crash can still be resumed
        _announce(s, data, model, world, initial_epoch)
    if initial_epoch >= s["epochs"]:
        say(f"{out} has already trained {initial_epoch} epochs (--epochs {s['epochs']}); "
            "nothing to train: pass a larger --epochs to train longer")
    callbacks = [_recorder_class()(out, loader, rows, meta), _history_from(rows)]
    val = (data.x_val, data.y_val) if data.x_val is not None else None
    t0 = time.perf_counter()
    if initial_epoch < s["epochs"]:
        model.fit(loader, epochs=s["epochs"], validation_data=val, callbacks=callbacks,
                  verbose=0 if args.quiet else 1, initial_epoch=initial_epoch,
                  batch_size=s["batch_size"], distributed=bool(args.distributed))
    train_seconds = time.perf_counter() - t0
    results = model.evaluate(data.x_test, data.y_test, batch_size=1024)
    if main:
        history = callbacks[1]
        written = write_outputs(out, model, data, meta, rows, history, results,
                                train_seconds)
        say(f"test accuracy: {results['accuracy']:.4f} (test loss {results['loss']:.4f}, "
            f"{len(data.y_test):,} samples)")
        say(f"wrote {out}/: {', '.join(written)}")
    return 0


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


