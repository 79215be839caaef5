"""Type checkers see Tensor: its methods and operators are written on the class (nothing is
attached at run time), a user's script type-checks with mypy with zero errors and the types
it should have, misuse is flagged, and the wheel ships `py.typed`."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

import pytest

import gradkit as gk
from gradkit.tensor import Tensor

tensor_module = importlib.import_module("gradkit.tensor")  # `gk.tensor` is the function

ROOT = Path(__file__).resolve().parents[1]

# Round one's tables in gradkit/ops/__init__.py, whose entries were setattr'd onto Tensor.
OLD_METHODS = [
    "exp", "log", "sqrt", "abs", "sign", "tanh", "sigmoid", "relu", "leaky_relu", "gelu",
    "elu", "softplus", "sin", "cos", "square", "reciprocal", "maximum", "minimum", "clip",
    "pow", "sum", "mean", "max", "min", "prod", "var", "std", "logsumexp", "argmax",
    "argmin", "any", "all", "matmul", "dot", "reshape", "flatten", "transpose", "swapaxes",
    "expand_dims", "squeeze", "broadcast_to", "split", "flip", "pad", "tril", "triu",
    "softmax", "log_softmax", "cumsum",
]
OLD_OPERATORS = [
    "__add__", "__sub__", "__mul__", "__truediv__", "__pow__", "__matmul__", "__floordiv__",
    "__mod__", "__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__", "__and__",
    "__or__", "__xor__", "__radd__", "__rsub__", "__rmul__", "__rtruediv__", "__rpow__",
    "__rmatmul__", "__neg__", "__abs__", "__getitem__", "__invert__", "__pos__", "__iter__",
]
OLD_PROPERTIES = ["T", "mT"]

# What a user writes. Each `reveal_type(e)  # T` line must reveal type T (`Tensor` stands for
# gradkit.tensor.Tensor); each line ending in `# error: CODE` must get exactly that mypy
# error; every other line must be clean.
USER_SCRIPT = """\
import numpy as np

import gradkit as gk
from gradkit import nn

x = gk.randn(3)
y = (x * 2).reshape(3, 1).sum()
z: float = y.item()
w = x.exp().mean(axis=0)
m = nn.Linear(3, 2)
out = m(gk.randn(4, 3))
out.backward(gk.ones_like(out))
t = x.T @ x
a = 2 * x + x ** 2 - x / 3
b = x[0:2]
c = x > 0
p = gk.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
loss = ((p @ p.mT).relu() - 1.0).square().mean()
loss.backward()
shape: tuple[int, ...] = p.shape
host: np.ndarray = p.detach().numpy()
s = 0.0
for row in p:
    s += float(row.sum())
p2 = p.detach()
p2 += 1
p2 *= gk.ones(2, 2)
reveal_type((x * 2).reshape(3, 1).sum())  # Tensor
reveal_type(x + 1)  # Tensor
reveal_type(1 + x)  # Tensor
reveal_type(1.5 - x)  # Tensor
reveal_type(2 * x)  # Tensor
reveal_type(3 / x)  # Tensor
reveal_type(2 ** x)  # Tensor
reveal_type(x @ x)  # Tensor
reveal_type(-x)  # Tensor
reveal_type(+x)  # Tensor
reveal_type(abs(x))  # Tensor
reveal_type(~c)  # Tensor
reveal_type(x // 2)  # Tensor
reveal_type(x % 2)  # Tensor
reveal_type(x == 1)  # Tensor
reveal_type(x != x)  # Tensor
reveal_type(x <= 0.5)  # Tensor
reveal_type((x > 0) & (x < 1) | c ^ c)  # Tensor
reveal_type(x[0])  # Tensor
reveal_type(x[None, ..., 1:])  # Tensor
reveal_type(x[gk.tensor([0, 2])])  # Tensor
reveal_type(x[c])  # Tensor
reveal_type(p.T)  # Tensor
reveal_type(p.mT)  # Tensor
reveal_type(next(iter(p)))  # Tensor
reveal_type(p2)  # Tensor
reveal_type(x.leaky_relu(0.1).gelu().elu(alpha=1.0).softplus().sigmoid().tanh())  # Tensor
reveal_type(x.abs().sqrt().log().sign().sin().cos().reciprocal())  # Tensor
reveal_type(x.maximum(0.0).minimum(x).clip(0.0, 1.0).pow(2))  # Tensor
reveal_type(p.sum(axis=0).mean().max().min(keepdims=True).prod())  # Tensor
reveal_type(p.var(axis=(0, 1), ddof=1).std().logsumexp())  # Tensor
reveal_type(p.argmax(axis=1).argmin().any().all())  # Tensor
reveal_type(p.matmul(p).dot(p).cumsum(0).softmax().log_softmax(axis=-1))  # Tensor
reveal_type(p.reshape((4,)).reshape(2, 2).flatten().expand_dims(0).squeeze())  # Tensor
reveal_type(p.transpose(1, 0).swapaxes(0, 1).broadcast_to((3, 2, 2)).flip(0))  # Tensor
reveal_type(p.pad(1, value=0.0).tril().triu(k=1))  # Tensor
reveal_type(p.astype("float64").to("cpu").cpu().float().detach())  # Tensor
reveal_type(p.requires_grad_(False))  # Tensor
reveal_type(p.split(2))  # list[Tensor]
reveal_type(p.grad)  # Tensor | None
reveal_type(p.shape)  # tuple[int, ...]
reveal_type(gk.exp(x) + gk.zeros(3) + gk.ones_like(x) + gk.where(c, x, 0.0))  # Tensor
reveal_type(gk.concatenate([x, x]) + gk.arange(6) + gk.tensor(1.0))  # Tensor
x.no_such_method()  # error: attr-defined
x.exp(2)  # error: call-arg
x.reshape("3")  # error: arg-type
x.sum(keepdims="yes")  # error: arg-type
text: str = x + x  # error: assignment
"""

REVEALED = re.compile(r':(\d+): note: Revealed type is "(.*)"$')
ERROR = re.compile(r":(\d+): error: .*\[([a-z-]+)\]$")


@pytest.fixture(scope="module")
def mypy_report(tmp_path_factory):
    api = pytest.importorskip("mypy.api", reason="mypy is in the test extra")
    where = tmp_path_factory.mktemp("typing")
    script = where / "user_script.py"
    script.write_text(USER_SCRIPT)
    stdout, stderr, _ = api.run([
        str(script), "--config-file", str(ROOT / "pyproject.toml"),
        "--follow-imports=silent",  # gradkit's own errors are the package check's business
        "--cache-dir", str(where / "cache"), "--python-version", "3.10",
    ])
    assert "error: Cannot find implementation" not in stdout, stdout
    return stdout + stderr


def _expected(kind: str) -> dict[int, str]:
    """{line: expectation} for the script's lines that carry `# T` (reveals) or
    `# error: CODE` (errors)."""
    found = {}
    for n, line in enumerate(USER_SCRIPT.splitlines(), 1):
        code, sep, note = line.partition("  # ")
        if not sep:
            continue
        is_error = note.startswith("error: ")
        if kind == "error" and is_error:
            found[n] = note.removeprefix("error: ")
        elif kind == "reveal" and not is_error and code.startswith("reveal_type("):
            found[n] = note.replace("Tensor", "gradkit.tensor.Tensor")
    return found


def test_a_users_script_type_checks_with_zero_errors(mypy_report):
    errors = {int(m[1]): m[2] for m in map(ERROR.search, mypy_report.splitlines()) if m}
    assert errors == _expected("error"), mypy_report


def test_tensor_expressions_have_the_right_types(mypy_report):
    revealed = {int(m[1]): m[2].replace("builtins.", "")  # older mypy spells builtins out
                for m in map(REVEALED.search, mypy_report.splitlines()) if m}
    assert revealed == _expected("reveal"), mypy_report


def test_the_users_script_runs():
    """The script's clean lines are real code: they run (with reveal_type as identity)."""
    lines = [line for line in USER_SCRIPT.splitlines() if "# error:" not in line]
    exec(compile("\n".join(lines), "user_script.py", "exec"), {"reveal_type": lambda v: v})


@pytest.mark.parametrize("name", OLD_METHODS + OLD_OPERATORS + OLD_PROPERTIES)
def test_each_method_and_operator_is_defined_on_the_class(name):
    assert name in Tensor.__dict__, f"Tensor.{name} is not written on the class"
    member = Tensor.__dict__[name]
    fn = member.fget if isinstance(member, property) else member
    assert fn.__qualname__.startswith("Tensor."), f"Tensor.{name} is {fn.__qualname__}"
    assert inspect.getsourcefile(fn) == inspect.getsourcefile(Tensor)
    assert fn.__doc__, f"Tensor.{name} has no docstring"
    assert "return" in inspect.get_annotations(fn), f"Tensor.{name} has no return type"


def test_hash_stays_identity_while_eq_makes_a_tensor():
    x = gk.tensor([1.0, 2.0])
    assert Tensor.__hash__ is object.__hash__ and hash(x) == object.__hash__(x)
    assert isinstance(x == x, Tensor) and {x: 1}[x] == 1


def test_no_setattr_on_tensor_anywhere_in_the_package():
    for path in sorted((ROOT / "gradkit").rglob("*.py")):
        tree = ast.parse(path.read_text())
        own = any(isinstance(n, ast.ClassDef) and n.name == "Tensor" for n in tree.body)
        if own and path != ROOT / "gradkit" / "tensor.py":
            continue  # a dialect's own Tensor subclass (gradkit.tf) may build its methods
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "setattr"
                    and node.args and getattr(node.args[0], "id", "") == "Tensor"):
                pytest.fail(f"{path.relative_to(ROOT)}:{node.lineno} attaches to Tensor")


def test_the_ops_are_bound_once_through_the_hook():
    placeholders = [k for k, v in vars(tensor_module).items()
                    if v is tensor_module._unbound and k != "_unbound"]
    assert placeholders == []
    assert tensor_module._exp is gk.exp and tensor_module._add is gk.ops.add
    with pytest.raises(RuntimeError, match="missing"):
        tensor_module._bind_ops(exp=gk.exp)
    assert tensor_module._exp is gk.exp  # a refused call binds nothing


def test_py_typed_is_shipped():
    tomllib = pytest.importorskip("tomllib")
    assert (ROOT / "gradkit" / "py.typed").is_file()
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "py.typed" in config["tool"]["setuptools"]["package-data"]["gradkit"]
