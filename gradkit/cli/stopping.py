"""`gradkit train` keeps the best weights: EarlyStopping on the validation loss with
`restore_best_weights`, its patience the `--patience` flag (0 or "none": train every epoch and
keep the last weights). What it plans and what it did are said on the console and recorded in
run.json (`results.best_weights`) for the report.
"""

from __future__ import annotations

import argparse
import math

from ..callbacks.standard import EarlyStopping
from .common import CHECKPOINT_FILE, MODEL_FILE

DEFAULT_PATIENCE = 5
MONITOR = "val_loss"


def patience_value(text: str) -> int:
    """--patience: a whole number >= 0, or none/off (= 0, no early stopping)."""
    cleaned = text.strip().lower()
    if cleaned in ("none", "off", "no"):
        return 0
    if not cleaned.isdigit():
        raise argparse.ArgumentTypeError(
            f"expected a number of epochs >= 0 (0 or 'none' turns early stopping off), "
            f"got {text!r}")
    return int(cleaned)


def add_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--patience", type=patience_value, metavar="N",
                   help=f"stop when {MONITOR} has not improved for N epochs and keep the best "
                        f"epoch's weights (default {DEFAULT_PATIENCE}; 0 or 'none': train every "
                        "epoch, keep the last)")


def patience_of(settings: dict) -> int:
    value = settings.get("patience")
    return DEFAULT_PATIENCE if value is None else int(value)


def keep_best(settings: dict, has_validation: bool) -> EarlyStopping | None:
    """The run's EarlyStopping (restoring the best weights), or None when --patience is 0
    or there is no validation set to watch."""
    patience = patience_of(settings)
    if patience <= 0 or not has_validation:
        return None
    return EarlyStopping(monitor=MONITOR, patience=patience, restore_best_weights=True)


def plan(settings: dict, stopper: EarlyStopping | None, initial_epoch: int = 0) -> str:
    """One line saying which weights the run will keep, before it trains."""
    if stopper is not None:
        also = " of this session" if initial_epoch else ""
        return (f"keeping the best weights: the epoch{also} with the lowest {MONITOR} "
                f"(training stops after {_epochs(stopper.patience)} without improvement; "
                "--patience 0 trains every epoch)")
    if patience_of(settings) <= 0:
        return "keeping the last epoch's weights (--patience 0: no early stopping)"
    return ("keeping the last epoch's weights: no validation set to pick the best one by "
            "(--val-split 0)")


def outcome(stopper: EarlyStopping | None, rows: list[dict]) -> dict:
    """What happened, for run.json's results and the report: which epoch's weights
    model.safetensors holds and why (epochs numbered from 1)."""
    last = int(rows[-1]["epoch"]) if rows else 0
    if stopper is None or stopper.best is None:
        return {"kept": "last", "epoch": last, "early_stopping": stopper is not None,
                "patience": 0 if stopper is None else stopper.patience}
    best = int(stopper.best_epoch) + 1
    return {"kept": "best", "epoch": best,
            "monitor": MONITOR, "value": float(stopper.best), "last_epoch": last,
            "stopped_early": bool(stopper.stopped_epoch), "early_stopping": True,
            "patience": stopper.patience}


def summary(info: dict) -> str:
    """One line after training: the weights kept, in words."""
    if not info.get("monitor"):
        return f"kept the weights of the last epoch ({info['epoch']})"
    value = info["value"]
    shown = f"{value:.4f}" if math.isfinite(value) else str(value)
    stop = (f"stopped after epoch {info['last_epoch']} ({_epochs(info['patience'])} without "
            "improvement); " if info["stopped_early"] else "")
    if info["epoch"] == info["last_epoch"]:
        return (f"{stop}{MONITOR} was lowest at the last epoch, {info['epoch']} ({shown}): "
                "kept its weights")
    return (f"{stop}{MONITOR} was lowest at epoch {info['epoch']} ({shown}): {MODEL_FILE} "
            f"holds that epoch's weights ({CHECKPOINT_FILE} the last epoch's, for --resume)")


def _epochs(n: int) -> str:
    return f"{n} epoch" + ("" if n == 1 else "s")
