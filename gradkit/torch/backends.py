"""`torch.backends`: the switches course code sets (`torch.backends.cudnn.deterministic =
True`); gradkit has no cuDNN or MPS, so they are plain attributes with no effect."""

from __future__ import annotations

from types import SimpleNamespace

__all__ = ["cudnn", "mps", "cuda", "mkldnn", "openmp"]

cudnn = SimpleNamespace(deterministic=False, benchmark=False, enabled=True,
                        allow_tf32=True, is_available=lambda: False, version=lambda: None)
mps = SimpleNamespace(is_available=lambda: False, is_built=lambda: False)
cuda = SimpleNamespace(matmul=SimpleNamespace(allow_tf32=False), is_built=lambda: True)
mkldnn = SimpleNamespace(is_available=lambda: False, enabled=False)
openmp = SimpleNamespace(is_available=lambda: False)
