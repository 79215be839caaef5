"""Shared helpers: fixed parameters, gradient sequences, and gradkit/PyTorch runs of them."""

from __future__ import annotations

import numpy as np

import gradkit as gk
from gradkit import optim

SHAPES = [(4, 3), (3,), (2, 2, 2)]

# (optimizer name, keyword arguments): every option each optimizer has, alone and combined.
CASES = [
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.5}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.1, "weight_decay": 0.1}),
    ("SGD", {"lr": 0.1, "maximize": True}),
    ("SGD", {"lr": 0.1, "momentum": 0.8, "nesterov": True, "weight_decay": 0.05,
             "maximize": True}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01,
             "maximize": True}),
    ("Adam", {}),
    ("Adam", {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("Adam", {"lr": 0.01, "amsgrad": True, "weight_decay": 0.1, "maximize": True}),
    ("AdamW", {}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    ("AdamW", {"lr": 0.01, "maximize": True}),
    ("RMSprop", {}),
    ("RMSprop", {"lr": 0.01, "alpha": 0.9, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5, "weight_decay": 0.1,
                 "maximize": True}),
    ("Adagrad", {}),
    ("Adagrad", {"lr": 0.1, "lr_decay": 0.05}),
    ("Adagrad", {"lr": 0.1, "initial_accumulator_value": 0.5, "weight_decay": 0.1,
                 "eps": 1e-6}),
    ("Adagrad", {"lr": 0.1, "maximize": True}),
]
IDS = [f"{name}-" + ("-".join(f"{k}={v}" for k, v in kw.items()) or "defaults")
       for name, kw in CASES]


def initial_arrays(seed: int = 1, dtype=np.float32) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(dtype) for s in SHAPES]


def grad_sequence(steps: int, seed: int = 2, dtype=np.float32) -> list[list]:
    """`steps` lists of gradients, one per parameter; some are None (parameter skipped)."""
    rng = np.random.default_rng(seed)
    seq = []
    for i in range(steps):
        grads = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
        if i % 4 == 2:
            grads[1] = None
        seq.append(grads)
    return seq


def make_gk(name: str, arrays, **kw):
    params = [gk.tensor(a.copy(), dtype=a.dtype, requires_grad=True) for a in arrays]
    return params, getattr(optim, name)(params, **kw)


def set_gk_grads(params, grads) -> None:
    for p, g in zip(params, grads):
        if g is None:
            p.grad = None
        else:
            g = g.copy()
            g.flags.writeable = False  # any in-place write to a gradient would raise
            p.grad = gk.tensor(g, dtype=g.dtype)


def run_gk(params, opt, grad_seq) -> None:
    for grads in grad_seq:
        set_gk_grads(params, grads)
        opt.step()


def run_torch(torch, name: str, arrays, grad_seq, lr_changes=None, **kw):
    params = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
    opt = getattr(torch.optim, name)(params, foreach=False, **kw)
    for i, grads in enumerate(grad_seq):
        if lr_changes and i in lr_changes:
            for group in opt.param_groups:
                group["lr"] = lr_changes[i]
        for p, g in zip(params, grads):
            p.grad = None if g is None else torch.tensor(g.copy())
        opt.step()
    return [p.detach().numpy() for p in params]
