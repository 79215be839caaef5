"""Layer 0 of gradkit: everything that knows which device an array lives on.

- `devices.py`: the device seam: NumPy on the CPU, CuPy on NVIDIA GPUs (imported lazily),
  `xp_of(array)`, `to_device`, `to_numpy`, `parse_device`, default dtypes;
- `cuda.py`: `gk.cuda` (is a GPU usable, which one, synchronising);
- `deferred.py`: checks of GPU-resident values counted on the device, raised at the next read;
- `random.py`: gradkit's random generators (`gk.manual_seed`);
- `kernels.py`: the fused kernels, one entry per fused op for both devices.

Nothing here imports any other part of gradkit except `gradkit.errors`.
"""

from . import cuda, deferred, kernels, random
from .devices import (
    DEFAULT_FLOAT,
    DEFAULT_INT,
    cupy_module,
    device_name,
    device_scope,
    gpu_count,
    is_cuda_available,
    is_gpu_array,
    namespace,
    parse_device,
    scatter_add,
    to_device,
    to_numpy,
    xp_of,
)

__all__ = [
    "cuda", "deferred", "kernels", "random", "DEFAULT_FLOAT", "DEFAULT_INT", "cupy_module",
    "device_name", "device_scope", "gpu_count", "is_cuda_available", "is_gpu_array",
    "namespace", "parse_device", "scatter_add", "to_device", "to_numpy", "xp_of",
]
