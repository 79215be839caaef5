"""`gradkit train`'s checks before it trains and after: the network's size against a
documented limit and the memory there is, an `--out` folder that can be written (and has
room), one-line messages for failed writes, and a run that ended with NaN/inf weights.
"""

from __future__ import annotations

import contextlib
import errno
import math
import os
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

from ..backend import cuda
from ..callbacks.saving import weights_finite  # noqa: F401 - guards.weights_finite
from ..datasets.sources import CorruptCacheWarning
from .common import CLIError, CLIFailure, first_line, note
from .models import KERNEL, conv_out_side

#: The largest network `gradkit train` builds (400 MB of float32 weights); larger ones are
#: for the Python API.
MAX_PARAMETERS = 100_000_000
BYTES = 4  # float32
COPIES = 4  # weights, gradients and two optimizer moments (Adam's)
FILES_MARGIN = 2 << 20  # pictures, report, history


def parameter_count(settings: dict, input_shape: tuple[int, ...], n_out: int) -> int:
    """The number of parameters of the settings' network, without building it."""
    widths = list(settings["hidden"])
    total = 0
    if settings.get("model", "mlp") == "cnn":
        c_in, h, w = (int(d) for d in input_shape)
        for c in settings["channels"]:
            total += c_in * c * KERNEL * KERNEL + c
            c_in = c
        n_in = c_in * conv_out_side(h, len(settings["channels"])) * conv_out_side(
            w, len(settings["channels"]))
    else:
        n_in = math.prod(input_shape)
    sizes = [n_in, *widths, n_out]
    return total + sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))


def activation_bytes(settings: dict, input_shape: tuple[int, ...]) -> int:
    """A batch's activations (and the conv blocks' unfolded patches), roughly, in bytes."""
    batch = int(settings["batch_size"])
    values = 3 * sum(settings["hidden"])
    if settings.get("model", "mlp") == "cnn":
        c_in, h, w = (int(d) for d in input_shape)
        for c in settings["channels"]:
            values += (c_in * KERNEL * KERNEL + 3 * c) * h * w
            c_in, h, w = c, h // 2, w // 2
    return batch * values * BYTES


def available_memory(device: str = "cpu") -> int | None:
    """Bytes of memory free for a run on `device` (None when it cannot be told)."""
    if device != "cpu":
        with contextlib.suppress(Exception):
            return cuda.memory_info(device)[0]
        return None
    with contextlib.suppress(OSError, ValueError), open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    with contextlib.suppress(OSError, ValueError, AttributeError):
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return None


def _size(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"  # pragma: no cover


def check_size(settings: dict, input_shape: tuple[int, ...], n_out: int) -> int:
    """The parameter count, or a CLIError when the network is larger than MAX_PARAMETERS
    or would not fit in the memory available (checked before anything is allocated)."""
    params = parameter_count(settings, input_shape, n_out)
    flags = "--hidden" + (" / --channels" if settings.get("model") == "cnn" else "")
    given = ",".join(map(str, settings["hidden"])) or "none"
    if params > MAX_PARAMETERS:
        raise CLIError(f"{flags} {given}: the network would have {params:,} parameters, more "
                       f"than the {MAX_PARAMETERS:,} gradkit train builds; use smaller "
                       "layers (or the Python API for larger networks)")
    need = params * BYTES * COPIES + activation_bytes(settings, input_shape)
    free = available_memory(settings.get("device", "cpu"))
    if free is not None and need > free:
        raise CLIError(f"{flags} {given}: training this network ({params:,} parameters, "
                       f"batch {settings['batch_size']}) needs about {_size(need)} of memory, "
                       f"but {_size(free)} is available; use smaller layers or a smaller "
                       "--batch-size")
    return params


# ---- the --out folder -----------------------------------------------------------------------
def file_above(out: Path) -> Path | None:
    """The existing file that `out` would have to be created inside, if any."""
    for p in (out, *out.parents):
        if p.exists():
            return None if p.is_dir() else p
    return None


_REASONS = {
    errno.ENOSPC: "no space is left on its disk", errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "it is on a read-only file system", errno.EACCES: "permission denied",
    errno.EPERM: "permission denied", errno.ENOTDIR: "a part of the path is a file",
    errno.ENAMETOOLONG: "the path is too long",
}


def reason(exc: OSError) -> str:
    return _REASONS.get(exc.errno or 0, exc.strerror or str(exc) or type(exc).__name__)


def prepare_out(out: Path) -> None:
    """Create `out` and make sure a file can be written in it (one-line CLIError if not)."""
    blocker = file_above(out)
    if blocker is not None:
        raise CLIError(f"--out {out}: {blocker} is a file, so no folder can be made inside "
                       "it; give a folder path (it is created if missing)")
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        raise CLIError(f"--out {out}: cannot write there ({reason(exc)}); give a folder you "
                       "can write to") from None


def check_free_space(out: Path, params: int) -> None:
    """CLIFailure when `out`'s disk has clearly too little room for the run's files."""
    try:
        st = os.statvfs(out)
    except (OSError, AttributeError):
        return
    free = st.f_bavail * st.f_frsize
    # model + checkpoint (weights and two moments), each also written beside the old one
    need = params * BYTES * (1 + 3) * 2 + FILES_MARGIN
    if free < need:
        raise CLIFailure(f"--out {out}: only {_size(free)} free on its disk, but the run "
                         f"writes about {_size(need)} (model, checkpoint, pictures); free "
                         "some space or give another --out")


_WRITE_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM,
                 errno.ENOTDIR, errno.EISDIR, errno.EFBIG)


def os_failure(out: Path, exc: OSError) -> CLIFailure:
    """The one-line failure for an OSError while the run wrote its files (or read one)."""
    if exc.errno not in _WRITE_ERRORS:
        where = f" ({exc.filename})" if exc.filename else ""
        return CLIFailure(f"{first_line(exc)}{where}")
    return CLIFailure(f"cannot write into {out}: {reason(exc)}; the files already there are "
                      "intact (free some space or fix the folder, then run the same command "
                      "with --resume to continue from the last checkpoint)")


# ---- the outcome ----------------------------------------------------------------------------
@contextlib.contextmanager
def cache_notes() -> Iterator[None]:
    """Show a dataset cache moved aside as one `note:` line instead of a warning block."""
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always", CorruptCacheWarning)
        try:
            yield
        finally:
            for w in seen:
                if issubclass(w.category, CorruptCacheWarning):
                    note(str(w.message).removeprefix("gradkit: "))
                else:
                    warnings.showwarning(w.message, w.category, w.filename, w.lineno)

