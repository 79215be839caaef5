"""Fused ops: one entry per op for both devices, a compiled CuPy kernel only where one pays.

Each entry is the single source of its maths: array-namespace code (`xp`, NumPy or CuPy, taken
from the arguments) that the CPU runs in training and that the tests check. On CuPy arrays an
entry marked "kernel" below hands the work to one compiled kernel instead (one launch, no
temporaries). That choice is made in one place, `_kernels_for(xp)`; inside `with xp_only():`
every entry runs its xp code on any device, so a test on a GPU compares each kernel with the
code it replaces.

  bias_relu_(y, b)                     y = max(y + b, 0), in place (Linear + ReLU)   kernel
  bias_tanh_(y, b)                     y = tanh(y + b), in place (Linear + Tanh)
  relu_backward(g, y)                  g * (y > 0): through ReLU, from its output    kernel
  tanh_backward(g, y)                  g * (1 - y * y): through tanh                 kernel
  log_softmax(d, axis)                 d - logsumexp(d) along `axis`
  log_softmax_xent(z, labels, ls)      log-softmax rows and each row's cross-entropy kernel
  softmax_xent_grad(logp, labels, gi)  (softmax - smoothed one-hot) * gi             kernel
  grad_term(w, g, wd, maximize)        what an optimizer steps along: +-g + wd * w
  adam_update_(w, g, m, v, ...)        one Adam/AdamW step in place                  kernel
  count_outside_labels(y, c)           how many int labels lie outside [0, c)        kernel
  count_outside_unit(p)                how many values lie outside [0, 1] or are NaN kernel
  count_nonfinite(x)                   how many values are NaN or infinite           kernel

The counts are 0-d arrays on their input's device, so a GPU never waits for them. Kernels are
compiled on first use (cached per dtype by CuPy) with `--fmad=false`, so no multiply-add is
contracted and each step rounds like the xp code. CuPy is never imported until a CuPy array
arrives.
"""

from __future__ import annotations

import string
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from .blocks import blockwise
from .devices import cupy_module, xp_of

Array = Any  # a NumPy or CuPy array

_OPTIONS = ("--fmad=false",)
_kernels: dict[str, Any] = {}
_kernels_on = True


def _kernels_for(xp: Any) -> bool:
    """Whether entries hand arrays of namespace `xp` to their compiled kernels (CuPy's, unless
    inside `xp_only()`): the one place that chooses between a kernel and the xp code."""
    return xp is not np and _kernels_on


@contextmanager
def xp_only() -> Iterator[None]:
    """Within the block, every entry runs its array-namespace code, on a GPU too (for tests
    that compare the kernels with it; not thread-safe)."""
    global _kernels_on
    before, _kernels_on = _kernels_on, False
    try:
        yield
    finally:
        _kernels_on = before


_ROWS: dict[int, np.ndarray] = {}  # n -> read-only np.arange(n)


def row_index(n: int, xp: Any = np) -> Array:
    """arange(n) in namespace `xp` (on the CPU read-only and cached): the row index of a
    per-row pick (`a[rows, y]`)."""
    if xp is not np:
        return xp.arange(n)
    r = _ROWS.get(n)
    if r is None:
        if len(_ROWS) > 64:
            _ROWS.clear()
        r = _ROWS[n] = np.arange(n)
        r.flags.writeable = False
    return r


def _kernel(name: str, in_params: str, out_params: str, body: str) -> Any:
    """The ElementwiseKernel `name`, built on first use."""
    k = _kernels.get(name)
    if k is None:
        cp = cupy_module()
        k = _kernels[name] = cp.ElementwiseKernel(
            in_params, out_params, body, name=f"gradkit_{name}", options=_OPTIONS)
    return k


# ---- Linear + activation ------------------------------------------------------------------


def bias_relu_(y: Array, bias: Array | None) -> Array:
    """y = max(y + bias, 0) in place (bias broadcast over the rows; None: no bias); returns y.

    NaN stays NaN, as with `maximum`.
    """
    xp = xp_of(y)
    if bias is not None and _kernels_for(xp):  # pragma: no cover - needs a GPU
        _kernel("bias_relu", "T b", "T y",
                "T v = y + b; y = (v > (T)0 || isnan(v)) ? v : (T)0;")(bias, y)
        return y
    if bias is not None:
        xp.add(y, bias, out=y)
    xp.maximum(y, 0, out=y)
    return y


def bias_tanh_(y: Array, bias: Array | None) -> Array:
    """y = tanh(y + bias) in place (None: no bias); returns y."""
    xp = xp_of(y)
    if bias is not None:
        xp.add(y, bias, out=y)
    xp.tanh(y, out=y)
    return y


def relu_backward(g: Array, y: Array) -> Array:
    """The gradient through ReLU from its output y: g * (y > 0), as a new array."""
    if _kernels_for(xp_of(g)):  # pragma: no cover - needs a GPU
        return _kernel("relu_backward", "T g, T y", "T dx", "dx = g * (T)(y > (T)0);")(g, y)
    return g * (y > 0)


def tanh_backward(g: Array, y: Array) -> Array:
    """The gradient through tanh from its output y: g * (1 - y * y), as a new array."""
    if _kernels_for(xp_of(g)):  # pragma: no cover - needs a GPU
        return _kernel("tanh_backward", "T g, T y", "T dx", "dx = g * ((T)1 - y * y);")(g, y)
    return g * (1 - y * y)


# ---- softmax + cross-entropy --------------------------------------------------------------


def log_softmax(d: Array, axis: int = -1) -> Array:
    """d - logsumexp(d) along `axis` (a non-negative axis), without overflow."""
    xp = xp_of(d)
    if xp is np and d.shape[axis] == 2:  # two classes: one logaddexp, half the calls
        return d - np.logaddexp.reduce(d, axis=axis, keepdims=True)
    z = d - d.max(axis=axis, keepdims=True)
    return z - xp.log(xp.exp(z).sum(axis=axis, keepdims=True))


FUSED_XENT_MAX_CLASSES = 4096  # one thread walks a row: beyond this the xp code is faster
_XENT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_XENT_SOURCE = string.Template(r"""
extern "C" __global__ void gradkit_log_softmax_xent_$T(
        const $T* z, const long long* y, $T* logp, $T* loss, int* bad,
        long long n, long long c, $T ls, $T nan) {
    long long row = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (row >= n) return;
    const $T* zr = z + row * c;
    $T* lr = logp + row * c;
    $T m = zr[0];
    for (long long j = 1; j < c; ++j) { $T v = zr[j]; if (v > m || v != v) m = v; }
    $T s = 0;
    for (long long j = 0; j < c; ++j) s += exp(zr[j] - m);
    $T lse = log(s), total = 0;
    for (long long j = 0; j < c; ++j) { $T v = (zr[j] - m) - lse; lr[j] = v; total += v; }
    long long k = y[row];
    if (k < 0 || k >= c) { atomicAdd(bad, 1); loss[row] = nan; return; }
    $T l = -lr[k];
    if (ls != ($T)0) l = (($T)1 - ls) * l - ls / ($T)c * total;
    loss[row] = l;
}
""")


def log_softmax_xent(z: Array, labels: Array, label_smoothing: float = 0.0, *,
                     count_bad: bool = True) -> tuple[Array, Array, Array | None]:
    """(logp, losses, bad) for logits z (N, C) and int labels (N,) (on z's device).

    logp is the row-wise log-softmax, `losses[i]` row i's cross-entropy (with label smoothing
    as in `cross_entropy`), and `bad` the number of labels outside [0, C) (0-d; their rows'
    losses are NaN), which on a GPU stays there, so nothing waits. `count_bad=False` says the
    caller has checked the labels already: no pass looks at their range and `bad` may be None.
    One kernel on a GPU (float32/float64, up to FUSED_XENT_MAX_CLASSES classes).
    """
    n, c = z.shape
    xp = xp_of(z)
    if _kernels_for(xp) and c <= FUSED_XENT_MAX_CLASSES and z.dtype in _XENT_DTYPES:
        return _log_softmax_xent_kernel(z, labels, label_smoothing)  # pragma: no cover
    logp = log_softmax(z, 1)
    bad = inside = None
    if count_bad:
        bad = count_outside_labels(labels, c)
        inside = (labels >= 0) & (labels < c)
        labels = xp.where(inside, labels, 0)
    losses = -logp[row_index(n, xp), labels]
    if label_smoothing:
        losses = (1 - label_smoothing) * losses - label_smoothing / c * logp.sum(axis=1)
    if inside is not None:
        losses = xp.where(inside, losses, losses.dtype.type(np.nan))
    return logp, losses, bad


def _log_softmax_xent_kernel(z, labels, label_smoothing: float):  # pragma: no cover - GPU
    """log_softmax_xent as one CuPy RawKernel (a thread per row)."""
    cp = cupy_module()
    n, c = z.shape
    ctype = {np.dtype(np.float32): "float", np.dtype(np.float64): "double"}[z.dtype]
    key = f"log_softmax_xent_{ctype}"
    kernel = _kernels.get(key)
    if kernel is None:
        kernel = _kernels[key] = cp.RawKernel(_XENT_SOURCE.substitute(T=ctype),
                                              f"gradkit_{key}", options=_OPTIONS)
    z = cp.ascontiguousarray(z)
    labels = cp.ascontiguousarray(labels, dtype=cp.int64)
    logp = cp.empty_like(z)
    losses = cp.empty(n, dtype=z.dtype)
    bad = cp.zeros((), dtype=cp.int32)
    threads = 128
    kernel(((n + threads - 1) // threads,), (threads,),
           (z, labels, logp, losses, bad, np.int64(n), np.int64(c),
            z.dtype.type(label_smoothing), z.dtype.type(np.nan)))
    return logp, losses, bad


def softmax_xent_grad(logp: Array, labels: Array, gi: Array,
                      label_smoothing: float = 0.0) -> Array:
    """d(cross-entropy)/d(logits) from the log-softmax `logp` (N, C) and int labels (N,).

    `(exp(logp) - q) * gi` with q the one-hot targets smoothed as
    `(1 - label_smoothing) * onehot + label_smoothing / C`; `gi` is the upstream gradient of
    each row's loss, a 0-d array (1/N or 1 for 'mean'/'sum') or an (N, 1) column ('none').
    Returns a new (N, C) array. One kernel on a GPU.
    """
    n, c = logp.shape
    xp = xp_of(logp)
    if _kernels_for(xp):  # pragma: no cover - needs a GPU
        ls_c = label_smoothing / c if label_smoothing else 0.0
        kernel = _kernel(
            "softmax_xent_grad", "T logp, raw S labels, T gi, int64 c, T ls_c, T hit", "T dz",
            "ptrdiff_t row = i / c, col = i - row * c;"
            "T p = exp(logp);"
            "if (ls_c != (T)0) p = p - ls_c;"
            "if (col == (ptrdiff_t)labels[row]) p = p - hit;"
            "dz = p * gi;")
        dz = xp.empty(logp.shape, dtype=logp.dtype)
        return kernel(logp, labels, gi, c, ls_c, 1.0 - label_smoothing, dz)
    dz = xp.exp(logp)
    rows = row_index(n, xp)
    if label_smoothing:
        dz -= label_smoothing / c
        dz[rows, labels] -= 1 - label_smoothing
    else:
        dz[rows, labels] -= 1
    dz *= gi
    return dz


# ---- optimizers ---------------------------------------------------------------------------


def grad_term(w: Array, g: Array, weight_decay: float = 0.0,
              maximize: bool = False) -> tuple[Array, bool]:
    """`±g + weight_decay * w` as PyTorch forms it (g is never written); returns the array
    and whether it is a new one (which the caller may then update in place)."""
    if weight_decay:
        d = w * weight_decay
        if maximize:
            d -= g
        else:
            d += g
        return d, True
    if maximize:
        return -g, True
    return g, False


def adam_update_(w: Array, g: Array, m: Array, v: Array, *, lr: float, beta1: float,
                 beta2: float, eps: float, step: int, weight_decay: float = 0.0,
                 decoupled: bool = False, maximize: bool = False,
                 max_v: Array | None = None) -> None:
    """One Adam (or AdamW, `decoupled=True`) step in place on w, m, v (and `max_v` for
    AMSGrad), with `step` the count after this update: PyTorch's update rule (its
    foreach=False order), never writing to g. One kernel on a GPU."""
    bc2 = (1 - beta2**step) ** 0.5
    step_size = lr / (1 - beta1**step)
    decay = 1 - lr * weight_decay if decoupled and weight_decay else 1.0
    coupled = 0.0 if decoupled else float(weight_decay)
    xp = xp_of(w)
    if _kernels_for(xp):  # pragma: no cover - needs a GPU
        _adam_kernel(w, g, m, v, max_v, (1 - beta1, 1 - beta2, beta2, bc2, eps, step_size,
                                         -1.0 if maximize else 1.0, coupled, decay))
        return

    def chain(w: Array, g: Array, m: Array, v: Array, *rest: Array) -> None:
        max_v, tmp = rest if len(rest) == 2 else (None, rest[0])
        if decay != 1.0:
            w *= decay
        d = grad_term(w, g, coupled, maximize)[0]
        xp.subtract(d, m, out=tmp)  # m.lerp_(d, 1 - beta1)
        tmp *= 1 - beta1
        m += tmp
        xp.multiply(d, 1 - beta2, out=tmp)  # v = beta2 * v + (1 - beta2) * d * d
        tmp *= d
        v *= beta2
        v += tmp
        if max_v is not None:
            v = xp.maximum(max_v, v, out=max_v)
        xp.sqrt(v, out=tmp)
        tmp /= bc2
        tmp += eps
        xp.divide(m, tmp, out=tmp)
        tmp *= step_size
        w -= tmp

    blockwise(chain, (w, g, m, v) if max_v is None else (w, g, m, v, max_v), scratch=1)


def _adam_kernel(w, g, m, v, max_v, scalars: tuple) -> None:  # pragma: no cover - needs a GPU
    """adam_update_'s xp code, op for op, as one ElementwiseKernel."""
    ins = "T g, T omb1, T omb2, T b2, T bc2, T eps, T step_size, T sgn, T wd, T decay"
    body = (
        "if (decay != (T)1) w = w * decay;"
        "T d = sgn * g;"
        "if (wd != (T)0) d = w * wd + d;"
        "m = m + (d - m) * omb1;"
        "T t = d * omb2; t = t * d; v = v * b2 + t;")
    if max_v is None:
        _kernel("adam", ins, "T w, T m, T v", body + (
            "T den = sqrt(v) / bc2 + eps;"
            "w = w - m / den * step_size;"))(g, *scalars, w, m, v)
    else:
        _kernel("adam_amsgrad", ins, "T w, T m, T v, T vmax", body + (
            "T vm = (vmax > v) ? vmax : v; if (isnan(vmax)) vm = vmax; vmax = vm;"
            "T den = sqrt(vm) / bc2 + eps;"
            "w = w - m / den * step_size;"))(g, *scalars, w, m, v, max_v)


# ---- range checks that need no synchronisation --------------------------------------------


def _count(name: str, in_params: str, is_bad: str) -> Any:
    """A CuPy reduction counting the elements for which `is_bad` holds (int64), built once."""
    k = _kernels.get(name)
    if k is None:
        k = _kernels[name] = cupy_module().ReductionKernel(
            in_params, "int64 n", f"({is_bad}) ? 1 : 0", "a + b", "n = a", "0",
            f"gradkit_{name}")
    return k


def count_outside_labels(y: Array, c: int) -> Array:
    """How many integer labels in `y` lie outside [0, c): a 0-d array (on y's device)."""
    xp = xp_of(y)
    if _kernels_for(xp):  # pragma: no cover - needs a GPU
        return _count("count_labels", "T y, int64 c", "y < 0 || y >= c")(y, c)
    return xp.asarray(((y < 0) | (y >= c)).sum())


def count_outside_unit(p: Array) -> Array:
    """How many values of `p` lie outside [0, 1] or are NaN: a 0-d array (on p's device)."""
    xp = xp_of(p)
    if _kernels_for(xp):  # pragma: no cover - needs a GPU
        return _count("count_unit", "T p", "!(p >= (T)0 && p <= (T)1)")(p)
    return xp.asarray((~((p >= 0) & (p <= 1))).sum())


def count_nonfinite(x: Array) -> Array:
    """How many values of `x` are NaN or infinite: a 0-d array (on x's device)."""
    xp = xp_of(x)
    if _kernels_for(xp):  # pragma: no cover - needs a GPU
        return _count("count_nonfinite", "T x", "!isfinite((double)x)")(x)
    return xp.asarray((~xp.isfinite(x)).sum())
