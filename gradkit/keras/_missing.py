"""What a Keras name missing from gradkit's Keras says: that it is missing, and the gradkit
way to do the same thing (one table for every namespace of `gradkit.keras`)."""

from __future__ import annotations

from typing import Any

#: "namespace.name" -> what to use instead (the namespace's own entries first).
HINTS: dict[str, str] = {
    "layers.Conv3D": "gradkit has 1-D and 2-D convolutions only (layers.Conv1D, Conv2D)",
    "layers.Conv2DTranspose": "gradkit.nn.ConvTranspose2d (NCHW) in a gradkit.nn model",
    "layers.DepthwiseConv2D": "layers.Conv2D(..., groups=channels)",
    "layers.SeparableConv2D": "layers.Conv2D(groups=channels) then a 1x1 layers.Conv2D",
    "layers.MultiHeadAttention": "gradkit.nn.MultiheadAttention (PyTorch's layout)",
    "layers.Attention": "gradkit.nn.functional.scaled_dot_product_attention",
    "layers.TextVectorization": "gradkit.data.text (tokenisers and vocabularies)",
    "layers.StringLookup": "gradkit.data.text vocabularies",
    "layers.Masking": "pad sequences to one length; gradkit's recurrent layers take no masks",
    "layers.TimeDistributed": "a Dense on (N, T, F) input: Dense works on the last axis",
    "layers.RandomFlip": "augment the arrays before fit (NumPy), e.g. x[:, :, ::-1]",
    "layers.RandomRotation": "augment the arrays before fit",
    "layers.UpSampling2D": "gradkit.nn.Upsample (NCHW) in a gradkit.nn model",
    "layers.ZeroPadding2D": "layers.Lambda(lambda x: gk.pad(x, ...))",
    "layers.SpatialDropout2D": "gradkit.nn.Dropout2d (NCHW)",
    "layers.GaussianNoise": "layers.Lambda adding gk.randn noise in training",
    "optimizers.Nadam": "keras.optimizers.Adam, or gradkit.optim.Adam",
    "optimizers.Adadelta": "keras.optimizers.RMSprop / Adagrad",
    "optimizers.Ftrl": "keras.optimizers.Adagrad",
    "optimizers.Lion": "keras.optimizers.AdamW",
    "callbacks.ProgbarLogger": "fit(verbose=1) (gradkit's ProgressBar)",
    "callbacks.RemoteMonitor": "keras.callbacks.CSVLogger or TensorBoard",
    "losses.BinaryFocalCrossentropy": "write it as a function f(y_true, y_pred) of gk ops",
    "losses.CTC": "not in gradkit",
    "metrics.F1Score": "gradkit.metrics.F1Score (gk.metrics.f1)",
    "metrics.MeanIoU": "compute it from gradkit.metrics.confusion_matrix",
    "utils.image_dataset_from_directory": "gradkit.datasets / gradkit.data loaders",
    "utils.text_dataset_from_directory": "gradkit.data.text",
    "utils.Sequence": "gradkit.data.Dataset with a DataLoader",
    "utils.PyDataset": "gradkit.data.Dataset with a DataLoader",
    "datasets.cifar10": "not bundled: gradkit.datasets lists what gradkit can load",
    "datasets.imdb": "gradkit.datasets (text sets) with gradkit.data.text",
    "datasets.reuters": "gradkit.datasets (text sets)",
    "ops": "gradkit's own functions: gk.exp, gk.matmul, gk.concatenate, ... (import gradkit "
           "as gk); inside a functional model wrap them in layers.Lambda",
    "applications": "pretrained models are not in gradkit",
    "mixed_precision": "model.compile(..., precision='16-mixed') on a gradkit model "
                       "(gk.autocast)",
    "distribution": "gradkit.distributed (data-parallel over MPI)",
    "preprocessing": "keras.utils (to_categorical, pad_sequences) and gradkit.data",
}


class MissingNameError(AttributeError):
    """A Keras name gradkit's Keras does not have (an AttributeError, so hasattr works)."""


def missing(namespace: str, name: str, available: Any = ()) -> MissingNameError:
    """The error for `keras.<namespace>.<name>` (namespace "" for `keras.<name>`)."""
    key = f"{namespace}.{name}" if namespace else name
    where = f"keras.{key}"
    hint = HINTS.get(key) or HINTS.get(name)
    text = f"{where} is not in gradkit's Keras"
    text += f"; instead: {hint}" if hint else (
        "; gradkit's own API (import gradkit as gk: gk.nn, gk.optim, gk.train) may have it")
    names = sorted(n for n in available if not n.startswith("_"))
    if names and not hint:
        text += f". keras.{namespace or ''}{'.' if namespace else ''}* here has: " + \
            ", ".join(names[:40]) + (" ..." if len(names) > 40 else "")
    return MissingNameError(text)
