"""Code in the style of the course's PyTorch lessons (tensors, autograd demos, a hand-written
regression loop with `.data.sub_` and `.grad.zero_()`, accuracy with `torch.max(out, 1)`),
run unchanged with `gradkit.torch` and with PyTorch: it prints the same text. (Values that
differ in the last float32 bit, such as exp(log(x)), print differently in PyTorch's format,
so the lessons' code here avoids printing them.)"""

from __future__ import annotations

import contextlib
import io
import textwrap

import pytest

import gradkit.torch as gtorch

TENSORS = """
x = torch.tensor([[1., 2.], [3., 4.]])
print(x)
print(x.shape, x.size(), x.size(0), x.dtype, x.dim(), x.numel())
y = torch.ones(2, 2) * 3
print(x + y, x * y, x @ y, x.T, x.t(), sep="\\n")
print(x.sum(), x.mean(dim=0), x.max(1), x.argmax(), x.std(), x.var(1))
a = torch.arange(6).view(2, 3)
print(a, a.float().mean(), a.permute(1, 0), a.unsqueeze(0).shape, a.flatten(), a[:, 1])
print(torch.cat([a, a], dim=1), torch.stack([a, a]).shape, a.repeat(2, 1), a.type())
print(torch.zeros(2, 3, dtype=torch.long), torch.eye(2), torch.full((2,), 0.5))
print(a.reshape(-1, 2), a.sum(dim=1, keepdim=True), torch.where(a > 2, a, -a))
print(x.numpy(), x.tolist(), x[0, 1].item(), float(x.sum()))
print(torch.clamp(x, 1.5, 3.5), torch.sqrt(x), x.abs().neg())
"""

AUTOGRAD = """
w = torch.tensor([1.0, -1.0, 0.5], requires_grad=True)
f = (w ** 2).sum() + w.prod()
print(f)
f.backward()
print(w.grad)
with torch.no_grad():
    w -= 0.1 * w.grad
print(w)
w.grad.zero_()
print(w.grad)
z = torch.tensor(3.0, requires_grad=True)
g = z ** 3 + 2 * z
g.backward()
print(z.grad, g, g.grad_fn.name())
"""

REGRESSION = """
x = torch.linspace(-1, 1, 20).view(-1, 1)
y = 3 * x + 0.5
w = torch.zeros(1, 1, requires_grad=True)
b = torch.zeros(1, requires_grad=True)
lr = 0.5
for epoch in range(30):
    y_pred = x.mm(w) + b
    loss = (y_pred - y).pow(2).mean()
    loss.backward()
    w.data.sub_(lr * w.grad.data)
    b.data.sub_(lr * b.grad.data)
    w.grad.zero_()
    b.grad.data.zero_()
    if epoch % 10 == 0:
        print(epoch, f"{loss.item():.4f}")
print(w.item() > 2.9, round(b.item(), 2))
"""

ACCURACY = """
out = torch.tensor([[0.1, 2.0, 0.3], [1.0, 0.2, 0.1], [0.0, 0.1, 3.0], [0.5, 0.4, 0.3]])
labels = torch.tensor([1, 0, 1, 0])
_, predicted = torch.max(out, 1)
correct = (predicted == labels).sum().item()
print(predicted, correct, (predicted == labels).float().mean())
print(f"accuracy {100 * correct / labels.size(0):.1f}%")
probs = torch.softmax(out, dim=1)
print(probs.sum(dim=1).round(), probs.argmax(dim=1), torch.topk(probs, 2).indices)
"""


def _printed(torch, code):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(textwrap.dedent(code), {"torch": torch})
    return buf.getvalue()


@pytest.mark.parametrize("code", [TENSORS, AUTOGRAD, REGRESSION, ACCURACY],
                         ids=["tensors", "autograd", "regression", "accuracy"])
def test_lesson_code_prints_what_pytorch_prints(code):
    torch = pytest.importorskip("torch", reason="PyTorch is the reference (pip install torch)")
    assert _printed(gtorch, code) == _printed(torch, code)
