"""The PyTorch names `gradkit.torch` lacks, each with the gradkit way to do the same.

`torch.<name>` and `t.<name>` for a name the dialect does not have raise an AttributeError
that says so and, where there is one, names the gradkit way (docs/torch.md lists what is
there and what differs).
"""

from __future__ import annotations

__all__ = ["HINTS", "TENSOR_HINTS", "missing_attribute", "tensor_attribute"]

_NUMPY = "not differentiable in gradkit: compute it in NumPy on t.numpy()"
_LINALG = ("gradkit has no decompositions: use NumPy's np.linalg on t.numpy() "
           "(torch.matmul, torch.einsum and torch.norm are here)")
_HOOKS = ("gradkit records no hooks: compute the gradient you want with "
          "torch.autograd.grad(output, tensor) (non-leaf tensors included)")

HINTS: dict[str, str] = {
    **dict.fromkeys(("jit", "compile", "script", "trace"),
                    "use gk.compile(step_fn) (import gradkit as gk): it traces a training or "
                    "inference step once and replays it"),
    **dict.fromkeys(("sparse", "sparse_coo_tensor", "sparse_csr_tensor"),
                    "gradkit tensors are dense"),
    **dict.fromkeys(("bfloat16", "float8_e4m3fn", "float8_e5m2", "qint8", "quint8"),
                    "NumPy has no such dtype: use torch.float16, or gk.autocast for "
                    "mixed-precision training"),
    **dict.fromkeys(("linalg", "svd", "qr", "inverse", "det", "eig", "cholesky", "pinverse",
                     "lstsq", "slogdet", "matrix_exp"), _LINALG),
    **dict.fromkeys(("fft", "stft", "istft"), "use NumPy's np.fft on t.numpy()"),
    **dict.fromkeys(("cumprod", "cummax", "cummin", "histc", "histogram", "bucketize",
                     "searchsorted", "cdist", "kron", "cross", "trapz", "diff"), _NUMPY),
    "autocast": "use gk.autocast(dtype='float16' | 'bfloat16')",
    "distributed": "use gk.distributed (data-parallel training over MPI)",
    "distributions": "sample with torch.normal / torch.rand / torch.multinomial, or NumPy",
    "onnx": "use gradkit.onnx.export(model, example_input, path)",
    "hub": "gradkit downloads no models: build the model with torch.nn and load weights "
           "with load_state_dict",
    "func": "use gk.grad, gk.vjp, gk.jvp, gk.jacobian, gk.hessian (import gradkit as gk)",
    "vmap": "gradkit has no vmap: batch the computation along a leading axis",
    "special": "use torch.erf, torch.sigmoid, torch.logsumexp, or NumPy/SciPy",
    "quantization": "gradkit has no quantization",
    "profiler": "time steps with benchmarks/ or Python's time.perf_counter",
    "set_num_threads": "gradkit's CPU speed comes from NumPy's BLAS: set OMP_NUM_THREADS / "
                       "OPENBLAS_NUM_THREADS before starting Python",
    "get_num_threads": "see NumPy's BLAS (threadpoolctl.threadpool_info())",
    "use_deterministic_algorithms": "gradkit is deterministic on the CPU once "
                                    "torch.manual_seed is set",
    "cumulative_trapezoid": _NUMPY,
    "complex": "build complex arrays in NumPy (gradkit differentiates real tensors)",
    "view_as_complex": "gradkit differentiates real tensors",
    "pdist": _NUMPY,
    "unique_consecutive": _NUMPY,
    "bernoulli_": "use t.bernoulli_(p) on a tensor",
}

TENSOR_HINTS: dict[str, str] = {
    "register_hook": _HOOKS,
    "register_post_accumulate_grad_hook": _HOOKS,
    "retain_grad": "gradkit keeps .grad for leaves only: get a non-leaf gradient with "
                   "torch.autograd.grad(loss, t)",
    "retains_grad": "gradkit keeps .grad for leaves only",
    "storage": "use t.numpy() (the NumPy array shares the storage on the CPU)",
    "untyped_storage": "use t.numpy()",
    "stride": "use t.numpy().strides (NumPy's strides are in bytes)",
    "unfold": "use torch.nn.functional.unfold or gk.nn.functional (im2col), or slices",
    "as_strided": "use t.numpy() and np.lib.stride_tricks (not differentiable)",
    "cumprod": _NUMPY,
    "to_sparse": "gradkit tensors are dense",
    "is_sparse": "gradkit tensors are dense (always False)",
    "bfloat16": "NumPy has no bfloat16: use t.half(), or gk.autocast",
    "share_memory_": "gradkit does not share tensors between processes",
    "map_": "apply a NumPy function to t.numpy() and make a tensor of the result",
    "apply_": "apply a NumPy function to t.numpy() and make a tensor of the result",
    "index_put_": "assign with t[index] = value",
    "index_add_": "use torch.scatter_add or t[index] += value under torch.no_grad()",
}


def _generic(what: str) -> str:
    return (f"gradkit.torch covers the PyTorch the course uses (docs/torch.md lists it); "
            f"do this {what} with gradkit itself (import gradkit as gk: NumPy's names for "
            f"tensor maths), or t.native() for gradkit's own tensor methods")


def missing_attribute(module: str, name: str) -> AttributeError:
    """The error for `module.name` that gradkit.torch lacks, naming the gradkit way."""
    if name.startswith("__"):
        return AttributeError(f"module {module!r} has no attribute {name!r}")
    hint = HINTS.get(name) or _generic("one")
    return AttributeError(f"module {module!r} (PyTorch's API on gradkit) has no attribute "
                          f"{name!r}: {hint}")


def tensor_attribute(name: str) -> AttributeError:
    """The error for `t.name` that a gradkit.torch Tensor lacks, naming the gradkit way."""
    if name.startswith("_"):
        return AttributeError(name)  # private and protocol names: a plain, cheap error
    hint = TENSOR_HINTS.get(name) or HINTS.get(name) or _generic("step")
    return AttributeError(f"'Tensor' object (gradkit.torch) has no attribute {name!r}: "
                          f"{hint}")
