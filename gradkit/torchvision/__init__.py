"""`import gradkit.torchvision as torchvision`: the small part of torchvision the course
uses, over gradkit.torch: `transforms` (ToTensor, Normalize, Compose, Lambda, Resize) and
`datasets.MNIST` / `datasets.FashionMNIST` (gradkit's verified loaders).

    from gradkit.torchvision import datasets, transforms
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    train = datasets.MNIST("data", train=True, download=True, transform=tf)
"""

from __future__ import annotations

from . import datasets, transforms

__all__ = ["datasets", "transforms"]
__version__ = "0.28.0+gradkit"
