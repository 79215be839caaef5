"""What `gradkit train` writes while it trains, and how `--resume` picks the run up again.

After each epoch `RunRecorder` writes the history files and an atomic checkpoint holding the
run's fingerprint (its settings, data and model: `gradkit.io.fingerprint`). An epoch that
ends with NaN or infinite weights (or loss) is not checkpointed: training stops there and the
last good checkpoint stays. `--resume` loads the checkpoint only when its fingerprint is the
run's, so an `--out` holding another run's checkpoint is refused with what differs.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np

import gradkit as gk

from ..callbacks.base import Callback
from ..callbacks.saving import weights_finite
from ..io import save_checkpoint
from ..io.fingerprint import RunMismatchError, run_fingerprint
from .common import (
    CHECKPOINT_FILE,
    MODEL_FILE,
    RUN_FILE,
    CLIError,
    CLIFailure,
    first_line,
    readable,
    write_history,
)


def fingerprint(settings: dict, loader, model, may_change: tuple) -> dict:
    """The run's identity: its settings (but those --resume may change), data and model."""
    kept = {k: v for k, v in settings.items() if k not in may_change}
    return run_fingerprint(model=model, data=loader, settings=kept)


class RunRecorder(Callback):
    """After each epoch: the history files and an atomic checkpoint (rank 0 only)."""

    main_process_only = True

    def __init__(self, out: Path, loader, rows: list, meta: dict, identity: dict) -> None:
        super().__init__()
        self.out, self.loader, self.rows, self.meta = out, loader, rows, meta
        self.identity = identity
        self.t0 = time.perf_counter()
        self.diverged: tuple[int, float] | None = None  # (epoch from 1, its loss)
        self.saved: int | None = None  # the last epoch checkpointed (from 1)

    def on_epoch_begin(self, epoch, logs=None):
        self.t0 = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": epoch + 1}
        row.update({k: float(v) for k, v in (logs or {}).items()
                    if isinstance(v, (int, float, np.floating))})
        row["seconds"] = round(time.perf_counter() - self.t0, 3)
        self.rows[:] = [r for r in self.rows if r["epoch"] <= epoch] + [row]
        write_history(self.out, self.rows)
        loss = row.get("loss", 0.0)
        if not (math.isfinite(loss) and weights_finite(self.model)):
            self.diverged = (epoch + 1, loss)
            self.model.stop_training = True  # and keep the last good checkpoint
            return
        save_checkpoint(self.out / CHECKPOINT_FILE, self.model, self.model.optimizer,
                        epoch=epoch + 1, loader=self.loader, fingerprint=self.identity,
                        history=list(self.rows))
        readable(self.out / CHECKPOINT_FILE)
        self.saved = epoch + 1


def check_saved(settings: object, path: Path, types: dict) -> None:
    """Each setting read back from run.json must pass its flag's own check (`types`: a
    converter or a tuple of choices per key); one-line CLIError naming the first that fails."""
    if not isinstance(settings, dict):
        raise CLIError(f"--resume: {path} holds no settings; start a new run without --resume")
    for key, check in types.items():
        value = settings.get(key)
        if value is None:
            continue
        try:
            if isinstance(check, tuple):
                ok = value in check
            else:
                text = ",".join(map(str, value)) if isinstance(value, list) else str(value)
                ok = check(text) == value
        except (argparse.ArgumentTypeError, ValueError, TypeError):
            ok = False
        if not ok:
            raise CLIError(f"--resume: {path} has an invalid setting {key}: {value!r}; fix "
                           "it, or start a new run without --resume")


def resume(out: Path, model, loader, identity: dict) -> dict:
    """Load `out`'s checkpoint into the run (one-line CLIError when it cannot be used)."""
    path = out / CHECKPOINT_FILE
    try:
        return gk.load_checkpoint(path, model, model.optimizer, loader=loader,
                                  fingerprint=identity)
    except RunMismatchError as exc:
        raise CLIError(f"--resume: {first_line(exc)}, not of the run {out / RUN_FILE} "
                       f"describes; if that run was started over an earlier one and stopped "
                       "before its first checkpoint, start it again without --resume (or "
                       "use another --out)") from None
    except (ValueError, OSError) as exc:
        raise CLIError(f"--resume: cannot load {path}: {first_line(exc)}") from None


def diverged(recorder: RunRecorder, lr: float, had_model: bool) -> CLIFailure:
    """The one-line failure of a run whose weights ended NaN or infinite."""
    epoch, loss = recorder.diverged or (None, float("nan"))
    when = f" in epoch {epoch} (loss {loss})" if epoch else ""
    kept = (f"{MODEL_FILE} is left as it was" if had_model
            else f"no {MODEL_FILE} was written")
    if recorder.saved:
        kept += f", {CHECKPOINT_FILE} holds epoch {recorder.saved}"
    return CLIFailure(f"training diverged: the weights became NaN or infinite{when} with "
                      f"--lr {lr:g}; {kept}; train again with a smaller --lr")
