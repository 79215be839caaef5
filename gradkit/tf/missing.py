"""The TensorFlow names `gradkit.tf` lacks, each with the gradkit way to do the same."""

from __future__ import annotations

import gradkit as _gk

from .. import ops as _ops

_TF1 = ("TF 1's graph mode is not in gradkit.tf: write eager (TF 2) code; gradkit runs "
        "each op at once, and tf.function / gk.compile make a step fast")
_DENSE = ("gradkit tensors are dense: pad sequences to one length (keras.utils."
          "pad_sequences, gk.data.text) and use masks")

HINTS: dict[str, str] = {
    **dict.fromkeys(("Session", "placeholder", "global_variables_initializer", "compat",
                     "get_variable", "variable_scope", "Graph", "get_default_graph"), _TF1),
    **dict.fromkeys(("sparse", "SparseTensor", "RaggedTensor", "ragged"), _DENSE),
    **dict.fromkeys(("strings", "string", "lookup"),
                    "gradkit tensors hold numbers only: turn text into integer ids first "
                    "(gk.data.text)"),
    "image": "tf.image is not in gradkit.tf: prepare images with NumPy before making tensors",
    "distribute": "use gk.distributed (data-parallel training over MPI)",
    "saved_model": "save a Keras model with model.save('m.keras'), or weights with gk.save",
    "summary": "log training with gradkit's callbacks (gk.callbacks), e.g. in model.fit",
    "linalg": "use tf.matmul / tf.einsum, or gk.matmul, gk.einsum (decompositions: NumPy)",
    "custom_gradient": "write a gradkit op: see docs/architecture.md ('a new op')",
    "py_function": "call the Python function directly: gradkit is eager",
    "numpy_function": "call the function directly on t.numpy(): gradkit is eager",
    "bfloat16": "NumPy has no bfloat16 dtype: use tf.float16, or gk.autocast for training",
    "string_dtype": "gradkit tensors hold numbers only",
    "sort": "use gk.Tensor.numpy() and NumPy's np.sort (not differentiable in gradkit.tf)",
    "argsort": "use NumPy's np.argsort on t.numpy()",
    "top_k": "use NumPy's np.argsort on t.numpy() (or tf.argmax for k=1)",
    "scatter_nd": "build the tensor with tf.where / tf.concat, or in NumPy",
    "tensor_scatter_nd_update": "build a new tensor with tf.where, or use a tf.Variable",
    "conv2d": "use tf.keras.layers.Conv2D (channels-last), or gk.nn.functional.conv2d (NCHW)",
    "conv1d": "use tf.keras.layers.Conv1D, or gk.nn.functional.conv1d (N, C, L)",
    "max_pool2d": "use tf.keras.layers.MaxPooling2D, or gk.nn.functional.max_pool2d (NCHW)",
    "avg_pool2d": "use tf.keras.layers.AveragePooling2D, or gk.nn.functional.avg_pool2d",
    "ctc_loss": "not in gradkit",
    "Module": "subclass tf.keras.layers.Layer / keras.Model, or gk.nn.Module",
}


def missing_attribute(module: str, name: str) -> AttributeError:
    """The error for `module.name` that gradkit.tf lacks, naming the gradkit way."""
    if name.startswith("__"):
        return AttributeError(f"module {module!r} has no attribute {name!r}")
    hint = HINTS.get(name)
    if hint is None:
        if hasattr(_ops, name) or name in vars(_gk):
            hint = f"gradkit has gk.{name}: import gradkit as gk, and call it on tensors"
        else:
            hint = ("gradkit.tf covers the low-level TensorFlow the course uses "
                    "(docs/tensorflow.md lists it); do this with gradkit itself "
                    "(import gradkit as gk: NumPy's names for tensor maths)")
    return AttributeError(f"module {module!r} (TensorFlow's API on gradkit) has no "
                          f"attribute {name!r}: {hint}")
