"""The `torch.nn` names gradkit.torch lacks, each with what to do instead."""

from __future__ import annotations

_PAD = "use F.pad(x, (left, right, top, bottom), mode=...) in a Module's forward"
_3D = "gradkit has 1-D and 2-D layers only (NCHW); fold the depth into the batch or channels"

HINTS: dict[str, str] = {
    **dict.fromkeys(("Conv3d", "MaxPool3d", "AvgPool3d", "BatchNorm3d", "ConvTranspose3d",
                     "AdaptiveAvgPool3d"), _3D),
    **dict.fromkeys(("ZeroPad2d", "ConstantPad2d", "ReflectionPad2d", "ReplicationPad2d",
                     "ConstantPad1d", "ReflectionPad1d"), _PAD),
    **dict.fromkeys(("Transformer", "TransformerDecoder", "TransformerDecoderLayer"),
                    "gradkit has TransformerEncoder(Layer) and MultiheadAttention: build a "
                    "decoder block from them (masked self-attention + cross-attention)"),
    **dict.fromkeys(("DataParallel", "parallel"),
                    "one process drives one device here; for several use gk.distributed "
                    "(data-parallel training over MPI)"),
    **dict.fromkeys(("LazyLinear", "LazyConv2d"),
                    "give the input size: nn.Linear(in_features, out_features)"),
    "AdaptiveMaxPool2d": "use nn.AdaptiveAvgPool2d, or nn.MaxPool2d with the kernel the "
                         "input size gives",
    "GroupNorm": "use nn.BatchNorm2d or nn.LayerNorm (GroupNorm is not in gradkit)",
    "InstanceNorm2d": "use nn.BatchNorm2d or nn.LayerNorm (InstanceNorm is not in gradkit)",
    "PReLU": "use nn.LeakyReLU(negative_slope) (a fixed slope), or an nn.Parameter slope "
             "with torch.where(x > 0, x, a * x) in forward",
    "EmbeddingBag": "use nn.Embedding and reduce over the bag axis (.mean(dim=1))",
    "CTCLoss": "CTC is not in gradkit",
    "Bilinear": "use two nn.Linear layers, or torch.einsum in a Module's forward",
    "PixelShuffle": "reshape and permute the tensor in forward (view + permute)",
}


def missing_attribute(module: str, name: str) -> AttributeError:
    """The error for `module.name` that gradkit.torch lacks, naming what to do instead."""
    if name.startswith("__"):
        return AttributeError(f"module {module!r} has no attribute {name!r}")
    hint = HINTS.get(name, "gradkit.torch.nn has the layers, losses and containers the "
                           "course uses (docs/torch.md lists them); write others as an "
                           "nn.Module whose forward uses tensor operations")
    return AttributeError(f"module {module!r} (PyTorch's API on gradkit) has no attribute "
                          f"{name!r}: {hint}")
