"""Fused elementwise kernels for the GPU, each with a NumPy fallback that does the same maths.

Training an MLP on a GPU spends much of its non-matmul time launching small elementwise
kernels and streaming their temporaries through memory. Each function here does in one CuPy
`ElementwiseKernel` what the unfused code does in several array operations:

  bias_relu_(y, b)                     y = max(y + b, 0), in place (Linear + ReLU forward)
  relu_backward(g, y)                  g * (y > 0) (the gradient through ReLU from its output)
  tanh_backward(g, y)                  g * (1 - y * y) (the gradient through tanh)
  log_softmax_xent(z, labels, ls)      log-softmax rows and each row's cross-entropy, one pass
  softmax_xent_grad(logp, labels, gi)  (softmax - one-hot) * gi, with label smoothing
  adam_update_(w, g, m, v, ...)        one Adam/AdamW step on a parameter and its buffers
  count_outside_labels(y, c)           how many int labels lie outside [0, c) (a device count)
  count_outside_unit(p)                how many values lie outside [0, 1] or are NaN
  count_nonfinite(x)                   how many values are NaN or infinite

On NumPy arrays (the CPU) each runs the unfused NumPy expressions that gradkit's ops and
optimizers use, in the same order, so the CPU numbers are exactly the existing ones and the
tests check the maths on any machine. On CuPy arrays the kernels are compiled on first use
(cached per dtype by CuPy) with `--fmad=false`, so no multiply-add is contracted and each step
rounds like the unfused CuPy code. CuPy is never imported until a CuPy array arrives.
"""

from __future__ import annotations

import string

import numpy as np

from .devices import cupy_module, xp_of

_OPTIONS = ("--fmad=false",)
_kernels: dict = {}


_ROWS: dict = {}  # n -> read-only np.arange(n)


def row_index(n: int) -> np.ndarray:
    """np.arange(n), read-only and cached: the row index of a per-row pick (`a[rows, y]`)."""
    r = _ROWS.get(n)
    if r is None:
        if len(_ROWS) > 64:
            _ROWS.clear()
        r = _ROWS[n] = np.arange(n)
        r.flags.writeable = False
    return r


def _kernel(name: str, in_params: str, out_params: str, body: str):
    """The ElementwiseKernel `name`, built on first use."""
    k = _kernels.get(name)
    if k is None:
        cp = cupy_module()
        k = _kernels[name] = cp.ElementwiseKernel(
            in_params, out_params, body, name=f"gradkit_{name}", options=_OPTIONS)
    return k


# ---- Linear + ReLU ------------------------------------------------------------------------


def bias_relu_(y, bias):
    """y = max(y + bias, 0) in place (bias broadcast over the rows; None: no bias); returns y.

    NaN stays NaN, as with `np.maximum`.
    """
    if bias is None:
        return xp_of(y).maximum(y, 0, out=y)
    if xp_of(y) is np:
        np.add(y, bias, out=y)
        np.maximum(y, 0, out=y)
        return y
    _kernel("bias_relu", "T b", "T y",  # pragma: no cover - needs a GPU
            "T v = y + b; y = (v > (T)0 || isnan(v)) ? v : (T)0;")(bias, y)
    return y


def relu_backward(g, y):
    """The gradient through ReLU from its output y: g * (y > 0), as a new array."""
    if xp_of(g) is np:
        return g * (y > 0)
    return _kernel("relu_backward", "T g, T y", "T dx",  # pragma: no cover - needs a GPU
                   "dx = g * (T)(y > (T)0);")(g, y)


def tanh_backward(g, y):
    """The gradient through tanh from its output y: g * (1 - y * y), as a new array."""
    if xp_of(g) is np:
        return g * (1 - y * y)
    return _kernel("tanh_backward", "T g, T y", "T dx",  # pragma: no cover - needs a GPU
                   "dx = g * ((T)1 - y * y);")(g, y)


# ---- softmax + cross-entropy --------------------------------------------------------------

FUSED_XENT_MAX_CLASSES = 4096  # one thread walks a row: beyond this the unfused ops are faster
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


def log_softmax_xent(z, labels, label_smoothing: float = 0.0):
    """(logp, losses, bad) for logits z (N, C) and int labels (N,), in one pass on a GPU.

    logp is the row-wise log-softmax, `losses[i]` row i's cross-entropy (with label
    smoothing as in `cross_entropy`), and `bad` the number of labels outside [0, C) (0-d;
    their rows' losses are NaN). On the GPU `bad` stays on the device, so nothing waits for
    the kernel.
    """
    n, c = z.shape
    if xp_of(z) is np:
        zz = z - z.max(axis=1, keepdims=True)
        logp = zz - np.log(np.exp(zz).sum(axis=1, keepdims=True))
        inside = (labels >= 0) & (labels < c)
        losses = -logp[np.arange(n), np.where(inside, labels, 0)]
        if label_smoothing:
            losses = ((1 - label_smoothing) * losses
                      - label_smoothing / c * logp.sum(axis=1))
        losses[~inside] = np.nan
        return logp, losses, np.asarray(n - int(inside.sum()))
    cp = cupy_module()  # pragma: no cover - needs a GPU
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


def softmax_xent_grad(logp, labels, gi, label_smoothing: float = 0.0):
    """d(cross-entropy)/d(logits) from the log-softmax `logp` (N, C) and int labels (N,).

    `(exp(logp) - q) * gi` with q the one-hot targets smoothed as
    `(1 - label_smoothing) * onehot + label_smoothing / C`; `gi` is the upstream gradient of
    each row's loss, a 0-d array (1/N or 1 for 'mean'/'sum') or an (N, 1) column ('none').
    Returns a new (N, C) array.
    """
    n, c = logp.shape
    if xp_of(logp) is np:  # the order of ops/nn.py's cross_entropy gradient
        dz = np.exp(logp)
        rows = row_index(n)
        if label_smoothing:
            dz = dz - label_smoothing / c
            dz[rows, labels] -= 1 - label_smoothing
        else:
            dz[rows, labels] -= 1
        dz *= gi
        return dz
    ls_c = label_smoothing / c if label_smoothing else 0.0  # pragma: no cover - needs a GPU
    kernel = _kernel(
        "softmax_xent_grad", "T logp, raw S labels, T gi, int64 c, T ls_c, T hit", "T dz",
        "ptrdiff_t row = i / c, col = i - row * c;"
        "T p = exp(logp);"
        "if (ls_c != (T)0) p = p - ls_c;"
        "if (col == (ptrdiff_t)labels[row]) p = p - hit;"
        "dz = p * gi;")
    dz = cupy_module().empty(logp.shape, dtype=logp.dtype)
    return kernel(logp, labels, gi, c, ls_c, 1.0 - label_smoothing, dz)


# ---- Adam ---------------------------------------------------------------------------------


def adam_update_(w, g, m, v, *, lr: float, beta1: float, beta2: float, eps: float, step: int,
                 weight_decay: float = 0.0, decoupled: bool = False, maximize: bool = False,
                 max_v=None) -> None:
    """One Adam (or AdamW, `decoupled=True`) step in place on w, m, v (and `max_v` for
    AMSGrad), with `step` the count after this update: PyTorch's update rule, in the order of
    gradkit's `optim.Adam`, never writing to g."""
    bc2 = (1 - beta2**step) ** 0.5
    step_size = lr / (1 - beta1**step)
    decay = 1 - lr * weight_decay if decoupled and weight_decay else 1.0
    coupled = 0.0 if decoupled else float(weight_decay)
    if xp_of(w) is np:
        _adam_numpy(w, g, m, v, beta1, beta2, eps, bc2, step_size, decay, coupled, maximize,
                    max_v)
        return
    scalars = (1 - beta1, 1 - beta2, beta2, bc2, eps, step_size,  # pragma: no cover
               -1.0 if maximize else 1.0, coupled, decay)
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


def _adam_numpy(w, g, m, v, beta1, beta2, eps, bc2, step_size, decay, coupled, maximize,
                max_v) -> None:
    """The NumPy path: optim.Adam's `_step_group` body for one parameter, op for op."""
    if decay != 1.0:
        w *= decay
    if coupled:
        d = w * coupled
        if maximize:
            d -= g
        else:
            d += g
        g = d
    elif maximize:
        g = -g
    tmp = np.subtract(g, m)
    tmp *= 1 - beta1
    m += tmp
    np.multiply(g, 1 - beta2, out=tmp)
    tmp *= g
    v *= beta2
    v += tmp
    if max_v is not None:
        v = np.maximum(max_v, v, out=max_v)
    np.sqrt(v, out=tmp)
    tmp /= bc2
    tmp += eps
    np.divide(m, tmp, out=tmp)
    tmp *= step_size
    w -= tmp


# ---- range checks that need no synchronisation --------------------------------------------


def _count(name: str, in_params: str, is_bad: str):
    """A CuPy reduction counting the elements for which `is_bad` holds (int64), built once."""
    k = _kernels.get(name)
    if k is None:
        k = _kernels[name] = cupy_module().ReductionKernel(
            in_params, "int64 n", f"({is_bad}) ? 1 : 0", "a + b", "n = a", "0",
            f"gradkit_{name}")
    return k


def count_outside_labels(y, c: int):
    """How many integer labels in `y` lie outside [0, c): a 0-d array (on y's device)."""
    if xp_of(y) is np:
        return np.asarray(int(((y < 0) | (y >= c)).sum()))
    return _count("count_labels", "T y, int64 c", "y < 0 || y >= c")(y, c)  # pragma: no cover


def count_outside_unit(p):
    """How many values of `p` lie outside [0, 1] or are NaN: a 0-d array (on p's device)."""
    if xp_of(p) is np:
        return np.asarray(int((~((p >= 0) & (p <= 1))).sum()))
    return _count("count_unit", "T p", "!(p >= (T)0 && p <= (T)1)")(p)  # pragma: no cover


def count_nonfinite(x):
    """How many values of `x` are NaN or infinite: a 0-d array (on x's device)."""
    if xp_of(x) is np:
        return np.asarray(int((~np.isfinite(x)).sum()))
    return _count("count_nonfinite", "T x", "!isfinite((double)x)")(x)  # pragma: no cover
