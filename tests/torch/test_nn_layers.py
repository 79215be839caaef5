"""gradkit.torch.nn's layers against real PyTorch 2.13: the same weights (copied with
load_state_dict) give the same outputs and the same gradients, the state dicts have the same
keys and shapes, the default initialisation has PyTorch's ranges, and the layers print as
PyTorch's print."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import gradkit.torch as gt

RNG = np.random.default_rng(0)


def _data(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def _copy_weights(mine, theirs) -> None:
    mine.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


def _outputs(out):
    if isinstance(out, (tuple, list)):
        return [o for x in out for o in _outputs(x)]
    return [] if out is None else [out]


def _run(module, x: np.ndarray, tensor_fn, **call):
    t = tensor_fn(x.copy())
    if t.dtype.is_floating_point:
        t.requires_grad_(True)
    outs = _outputs(module(t, **call))
    total = sum((o * (i + 1.0)).sum() for i, o in enumerate(outs))
    total.backward()
    grads = {n: p.grad.numpy() for n, p in module.named_parameters() if p.grad is not None}
    xgrad = t.grad.numpy() if t.grad is not None else None
    return [o.detach().numpy() for o in outs], grads, xgrad


# (constructor text, input shape or an int-id maker, call keywords, train mode)
CASES = [
    ("Linear(5, 3)", (4, 5), {}, True),
    ("Linear(5, 3, bias=False)", (2, 7, 5), {}, True),
    ("Conv1d(3, 4, 3, padding=1)", (2, 3, 8), {}, True),
    ("Conv2d(2, 3, 3, stride=2, padding=1)", (2, 2, 7, 7), {}, True),
    ("Conv2d(2, 4, 3, padding='same', groups=2)", (1, 2, 5, 5), {}, True),
    ("ConvTranspose2d(3, 2, 2, stride=2)", (1, 3, 4, 4), {}, True),
    ("MaxPool2d(2)", (2, 3, 6, 6), {}, True),
    ("MaxPool2d(3, stride=2, padding=1)", (1, 2, 7, 7), {}, True),
    ("AvgPool2d(2)", (2, 3, 6, 6), {}, True),
    ("AdaptiveAvgPool2d((1, 1))", (2, 3, 5, 5), {}, True),
    ("MaxPool1d(2)", (2, 3, 8), {}, True),
    ("AvgPool1d(2)", (2, 3, 8), {}, True),
    ("Flatten()", (2, 3, 4), {}, True),
    ("Unflatten(1, (2, 6))", (3, 12), {}, True),
    ("BatchNorm1d(4)", (8, 4), {}, True),
    ("BatchNorm1d(4)", (8, 4), {}, False),
    ("BatchNorm2d(3)", (4, 3, 5, 5), {}, True),
    ("LayerNorm(6)", (3, 6), {}, True),
    ("LayerNorm([2, 3], elementwise_affine=False)", (4, 2, 3), {}, True),
    ("Embedding(10, 4, padding_idx=0)", "ids", {}, True),
    ("RNN(4, 5, batch_first=True)", (2, 6, 4), {}, True),
    ("RNN(4, 5, num_layers=2, nonlinearity='relu')", (6, 2, 4), {}, True),
    ("LSTM(4, 5, batch_first=True)", (3, 6, 4), {}, True),
    ("LSTM(4, 3, num_layers=2, bidirectional=True)", (5, 2, 4), {}, True),
    ("GRU(4, 5, batch_first=True)", (2, 6, 4), {}, True),
    ("RNNCell(4, 5)", (3, 4), {}, True),
    ("LSTMCell(4, 5)", (3, 4), {}, True),
    ("GRUCell(4, 5)", (3, 4), {}, True),
    ("MultiheadAttention(8, 2, batch_first=True)", "attn", {}, True),
    ("TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)", (2, 5, 8), {}, True),
    ("ReLU()", (3, 4), {}, True),
    ("ReLU6()", (3, 4), {}, True),
    ("SiLU()", (3, 4), {}, True),
    ("Hardtanh()", (3, 4), {}, True),
    ("Tanh()", (3, 4), {}, True),
    ("Sigmoid()", (3, 4), {}, True),
    ("GELU()", (3, 4), {}, True),
    ("GELU(approximate='tanh')", (3, 4), {}, True),
    ("LeakyReLU(0.2)", (3, 4), {}, True),
    ("ELU()", (3, 4), {}, True),
    ("Softplus(beta=2)", (3, 4), {}, True),
    ("Softmax(dim=1)", (3, 4), {}, True),
    ("LogSoftmax(dim=-1)", (3, 4), {}, True),
    ("Identity()", (3, 4), {}, True),
    ("Dropout(0.5)", (3, 4), {}, False),
    ("Upsample(scale_factor=2)", (1, 2, 3, 3), {}, True),
]


@pytest.mark.parametrize("text, shape, call, training", CASES,
                         ids=[c[0] + ("" if c[3] else " eval") for c in CASES])
def test_layer_matches_pytorch(torch, text, shape, call, training):
    ref = eval("torch.nn." + text, {"torch": torch})
    mine = eval("gt.nn." + text, {"gt": gt})
    assert sorted(mine.state_dict()) == sorted(ref.state_dict())
    for k, v in ref.state_dict().items():
        assert tuple(mine.state_dict()[k].shape) == tuple(v.shape), k
    _copy_weights(mine, ref)
    ref.train(training)
    mine.train(training)
    if shape == "ids":
        x = RNG.integers(0, 10, (3, 5)).astype(np.int64)
    elif shape == "attn":
        x = _data(2, 5, 8)
    else:
        x = _data(*shape)
    if shape == "attn":
        got = _attention(mine, x, gt.tensor)
        want = _attention(ref, x, torch.tensor)
    else:
        got = _run(mine, x, gt.tensor, **call)
        want = _run(ref, x, torch.tensor, **call)
    tol = dict(rtol=2e-4, atol=2e-5)
    assert len(got[0]) == len(want[0])
    for a, b in zip(got[0], want[0]):
        np.testing.assert_allclose(a, b, **tol)
    assert sorted(got[1]) == sorted(want[1])
    for k in want[1]:
        np.testing.assert_allclose(got[1][k], want[1][k], **tol, err_msg=k)
    if want[2] is not None:
        np.testing.assert_allclose(got[2], want[2], **tol)


def _attention(module, x, tensor_fn):
    q = tensor_fn(x.copy()).requires_grad_(True)
    out, weights = module(q, q, q)
    total = out.sum() + (weights * 2.0).sum()
    total.backward()
    grads = {n: p.grad.numpy() for n, p in module.named_parameters()}
    return [out.detach().numpy(), weights.detach().numpy()], grads, q.grad.numpy()


def test_outputs_are_dialect_tensors_and_parameters_are_torch_parameters():
    m = gt.nn.LSTM(3, 4, batch_first=True)
    out, (h, c) = m(gt.randn(2, 5, 3))
    assert all(type(t) is gt.Tensor for t in (out, h, c))
    for p in m.parameters():
        assert isinstance(p, gt.nn.Parameter) and isinstance(p, gt.Tensor)
    attn = gt.nn.TransformerEncoderLayer(8, 2, 16)
    assert all(isinstance(p, gt.nn.Parameter) for p in attn.parameters())
    assert type(attn.self_attn).__name__ == "MultiheadAttention"
    assert type(attn.self_attn.out_proj).__name__ == "NonDynamicallyQuantizableLinear"
    assert isinstance(attn.linear1, gt.nn.Linear)


@pytest.mark.parametrize("text", [
    "Linear(30, 7)", "Conv2d(3, 8, 5)", "Conv1d(4, 2, 3)", "LSTM(6, 10)", "GRU(6, 10)",
    "RNN(6, 10)",
])
def test_default_init_has_pytorchs_bounds(torch, text):
    mine = eval("gt.nn." + text, {"gt": gt})
    ref = eval("torch.nn." + text, {"torch": torch})
    for (name, p), (_, q) in zip(mine.named_parameters(), ref.named_parameters()):
        bound = float(q.detach().abs().max())  # PyTorch's draw: just under its bound
        if "weight_ih" in name or "weight_hh" in name or "bias_" in name:
            limit = 1 / np.sqrt(mine.hidden_size)
        else:
            w = dict(ref.named_parameters())["weight"]
            limit = 1 / np.sqrt(w.shape[1] * int(np.prod(w.shape[2:])))
        values = p.numpy()
        assert np.abs(values).max() <= limit + 1e-7, name
        if values.size >= 30:  # spread over the whole range, not a narrower one
            assert np.abs(values).max() > 0.8 * limit, name
        assert bound <= limit + 1e-7


def test_embedding_init_is_standard_normal_with_a_zero_padding_row():
    gt.manual_seed(0)
    e = gt.nn.Embedding(2000, 16, padding_idx=3)
    w = e.weight.numpy()
    assert np.all(w[3] == 0)
    assert abs(w.std() - 1) < 0.02 and abs(w.mean()) < 0.02


REPRS = [
    "Linear(2, 3)", "Conv2d(1, 6, kernel_size=5, padding=2)",
    "Conv1d(2, 3, 3)", "MaxPool2d(2)", "AvgPool2d(2)", "AdaptiveAvgPool2d((1, 1))",
    "Flatten()", "Dropout()", "Dropout(0.2, inplace=True)", "BatchNorm1d(4)",
    "BatchNorm1d(3, affine=False)", "BatchNorm2d(4, momentum=None)", "LayerNorm(5)",
    "Embedding(10, 3, padding_idx=0)", "RNN(3, 4, batch_first=True)",
    "RNN(3, 4, nonlinearity='relu')", "LSTM(3, 4)", "GRU(3, 4, 2, dropout=0.5)",
    "MultiheadAttention(8, 2)", "ReLU()", "ReLU(inplace=True)", "Tanh()", "Sigmoid()",
    "Softmax(dim=1)", "LogSoftmax(dim=1)", "Softmax()", "GELU()", "GELU(approximate='tanh')",
    "LeakyReLU()", "LeakyReLU(0.2, inplace=True)", "ELU()", "Softplus(2)", "Identity()",
    "ReLU6()", "SiLU()", "Hardtanh()", "Unflatten(1, (2, 5))", "MSELoss()", "L1Loss()",
    "CrossEntropyLoss()", "NLLLoss()", "BCELoss()", "BCEWithLogitsLoss()", "HuberLoss()",
    "SmoothL1Loss()", "KLDivLoss()", "Dropout2d()", "ConvTranspose2d(2, 3, 2, stride=2)",
    "MaxPool1d(2)", "AvgPool1d(2)", "Upsample(scale_factor=2)", "AdaptiveAvgPool1d(1)",
    "RNNCell(3, 4)", "RNNCell(3, 4, nonlinearity='relu')", "LSTMCell(3, 4)",
    "GRUCell(3, 4, bias=False)", "TransformerEncoderLayer(8, 2, 16)",
    "Sequential(Linear(2, 10), ReLU(), Linear(10, 1))",
    "ModuleList([Linear(2, 2), Linear(2, 2), ReLU(), Linear(2, 2)])",
    "TransformerEncoder(TransformerEncoderLayer(8, 2, 16, batch_first=True), 2)",
]


@pytest.mark.parametrize("text", REPRS)
def test_prints_as_pytorch(torch, text):
    ns_ref = {n: getattr(torch.nn, n) for n in dir(torch.nn) if n[0].isupper()}
    ns_mine = {n: getattr(gt.nn, n) for n in gt.nn.__all__ if n[0].isupper()}
    assert repr(eval(text, ns_mine)) == repr(eval(text, ns_ref))


LAYERS = ["Linear", "Conv1d", "Conv2d", "ConvTranspose2d", "MaxPool1d", "MaxPool2d",
          "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "Flatten",
          "Unflatten", "Dropout", "Dropout2d", "BatchNorm1d", "BatchNorm2d", "LayerNorm",
          "Embedding", "RNNCell", "LSTMCell", "GRUCell", "MultiheadAttention",
          "TransformerEncoderLayer", "TransformerEncoder", "ReLU", "Softmax", "LogSoftmax",
          "GELU", "LeakyReLU", "ELU", "Softplus", "ReLU6", "SiLU", "Hardtanh", "Upsample",
          "MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "CrossEntropyLoss", "NLLLoss",
          "BCELoss", "BCEWithLogitsLoss", "KLDivLoss", "ModuleList", "ModuleDict"]


@pytest.mark.parametrize("name", LAYERS)
def test_constructor_signature_is_pytorchs(torch, name):
    def params(cls):
        sig = inspect.signature(cls.__init__)
        return [(p.name, p.default if p.default is not inspect.Parameter.empty else "-")
                for p in sig.parameters.values() if p.name != "self"]

    mine, ref = params(getattr(gt.nn, name)), params(getattr(torch.nn, name))
    if name == "TransformerEncoderLayer":  # the default activation is each one's F.relu
        mine = [(n, "relu" if n == "activation" else d) for n, d in mine]
        ref = [(n, "relu" if n == "activation" else d) for n, d in ref]
    assert mine == ref


def test_recurrent_signatures_take_pytorchs_arguments(torch):
    for name in ("RNN", "LSTM", "GRU"):
        m = getattr(gt.nn, name)(3, 4, 2, bias=False, batch_first=True, dropout=0.1,
                                 bidirectional=True, device="cpu", dtype=gt.float32)
        r = getattr(torch.nn, name)(3, 4, 2, bias=False, batch_first=True, dropout=0.1,
                                    bidirectional=True)
        assert sorted(m.state_dict()) == sorted(r.state_dict())
    with pytest.raises(NotImplementedError, match="proj_size"):
        gt.nn.LSTM(3, 4, proj_size=2)


def test_device_and_dtype_arguments():
    m = gt.nn.Linear(3, 2, device=gt.device("cpu"), dtype=gt.float64)
    assert m.weight.dtype == gt.float64
    c = gt.nn.Conv2d(1, 2, 3, dtype=np.float64)
    assert c.weight.dtype == gt.float64


def test_shape_errors_name_the_layer():
    with pytest.raises(ValueError, match=r"Linear\(in_features=4.*\(2, 5\)"):
        gt.nn.Linear(4, 2)(gt.randn(2, 5))
    with pytest.raises(ValueError, match="Conv2d"):
        gt.nn.Conv2d(3, 2, 3)(gt.randn(1, 2, 5, 5))


def test_missing_layers_say_what_to_use():
    with pytest.raises(AttributeError, match="Conv3d.*1-D and 2-D"):
        gt.nn.Conv3d  # noqa: B018
    with pytest.raises(AttributeError, match="GroupNorm.*BatchNorm2d"):
        gt.nn.GroupNorm  # noqa: B018
    with pytest.raises(AttributeError, match="Frobnicate.*nn.Module"):
        gt.nn.Frobnicate  # noqa: B018
