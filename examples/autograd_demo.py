"""Train a 2-16-2 network on two interleaved moons with nothing but tensors and autograd.

The low-level API of the frameworks lesson: parameters are tensors that require grad, the
forward pass is ordinary maths, `loss.backward()` fills `.grad`, and a hand-written SGD step
updates the parameters under `no_grad`.
"""

import numpy as np

import gradkit as gk


def two_moons(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    t = rng.uniform(0, np.pi, n)
    upper = rng.random(n) < 0.5
    x = np.where(upper[:, None], np.c_[np.cos(t), np.sin(t)], np.c_[1 - np.cos(t), 0.5 - np.sin(t)])
    x += rng.normal(0, 0.1, x.shape)
    return x.astype(np.float32), upper.astype(np.int64)


def main() -> None:
    gk.manual_seed(0)
    x, y = two_moons(512, np.random.default_rng(0))
    w1 = (gk.randn(2, 16) * 0.7).requires_grad_()
    b1 = gk.zeros(16, requires_grad=True)
    w2 = (gk.randn(16, 2) * 0.3).requires_grad_()
    b2 = gk.zeros(2, requires_grad=True)
    params = [w1, b1, w2, b2]
    xs, ys = gk.tensor(x), gk.tensor(y)
    for epoch in range(301):
        hidden = gk.tanh(xs @ w1 + b1)
        logits = hidden @ w2 + b2
        loss = -gk.log_softmax(logits)[gk.arange(len(ys)), ys].mean()
        for p in params:
            p.grad = None
        loss.backward()
        with gk.no_grad():
            for p in params:
                p -= 0.5 * p.grad
        if epoch % 50 == 0:
            acc = (logits.argmax(axis=1) == ys).mean().item()
            print(f"epoch {epoch:3d}  loss {loss.item():.4f}  accuracy {acc:.3f}")


if __name__ == "__main__":
    main()
