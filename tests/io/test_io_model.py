"""gk.save / gk.load: every built-in layer, nesting, custom classes, modes and dtypes."""

from __future__ import annotations

import json
from collections import OrderedDict

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn
from gradkit.io import ConfigError, FormatError, read_metadata

from .helpers import MLP, Configurable, assert_same_state, randomize, run, small_model

X4 = np.random.default_rng(1).standard_normal((5, 4)).astype(np.float32)
X234 = np.random.default_rng(2).standard_normal((5, 2, 3, 4)).astype(np.float32)

LAYERS = [
    (lambda: nn.Linear(4, 3), X4),
    (lambda: nn.Linear(4, 3, bias=False), X4),
    (lambda: nn.Linear(4, 3, dtype="float64"), X4.astype(np.float64)),
    (nn.ReLU, X4), (lambda: nn.LeakyReLU(0.2), X4), (nn.Tanh, X4), (nn.Sigmoid, X4),
    (nn.GELU, X4), (lambda: nn.ELU(0.5), X4), (lambda: nn.Softplus(2.0), X4),
    (lambda: nn.Softmax(0), X4), (lambda: nn.LogSoftmax(axis=1), X4),
    (lambda: nn.Dropout(0.3), X4), (nn.Identity, X4),
    (lambda: nn.Flatten(1, 2), X234), (lambda: nn.Flatten(0), X234),
    (lambda: nn.BatchNorm1d(4), X4),
    (lambda: nn.BatchNorm1d(3, eps=1e-3, momentum=None), X234[:, 0]),
    (lambda: nn.BatchNorm1d(4, affine=False), X4),
    (lambda: nn.BatchNorm1d(4, track_running_stats=False), X4),
    (lambda: nn.LayerNorm(4), X4), (lambda: nn.LayerNorm((3, 4), eps=1e-3), X234),
    (lambda: nn.LayerNorm(4, elementwise_affine=False), X4),
    (lambda: nn.LayerNorm(4, bias=False), X4),
]


@pytest.mark.parametrize("make, x", LAYERS, ids=lambda v: "" if isinstance(v, np.ndarray)
                         else repr(v()).replace(" ", ""))
@pytest.mark.parametrize("mode", ["eval", "train"])
def test_every_layer_round_trips(tmp_path, make, x, mode):
    model = randomize(make())
    getattr(model, mode)()
    path = gk.save(model, tmp_path / "m.safetensors")
    loaded = gk.load(path)
    assert type(loaded) is type(model) and repr(loaded) == repr(model)
    assert loaded.training == model.training
    assert_same_state(model, loaded)
    model.eval(), loaded.eval()
    np.testing.assert_array_equal(run(loaded, x), run(model, x))


@pytest.mark.parametrize("make, args", [
    (nn.MSELoss, ()), (lambda: nn.L1Loss("sum"), ()), (lambda: nn.HuberLoss(0.5, "none"), ()),
    (lambda: nn.CrossEntropyLoss(label_smoothing=0.1), ()), (nn.BCEWithLogitsLoss, ()),
    (lambda: nn.NLLLoss("sum"), ()), (nn.BCELoss, ()),
])
def test_losses_round_trip(tmp_path, make, args):
    loss = make()
    loaded = gk.load(gk.save(loss, tmp_path / "loss.safetensors"))
    assert type(loaded) is type(loss) and repr(loaded) == repr(loss)


def test_every_builtin_layer_is_covered():
    classes = {name for name in nn.__all__
               if isinstance(getattr(nn, name), type) and issubclass(getattr(nn, name), nn.Module)
               and name != "Module"}
    assert classes <= set(gk.io.builtin_layers())


def test_nested_sequential_with_names_and_module_list(tmp_path):
    inner = nn.Sequential(OrderedDict(fc=nn.Linear(6, 3), act=nn.Tanh()))
    model = randomize(nn.Sequential(nn.Linear(4, 6), nn.ReLU(),
                                    nn.Sequential(inner, nn.Identity())))
    model.append(nn.Sequential(nn.ModuleList([nn.Linear(2, 2), nn.ReLU()]))[0][0])
    holder = nn.ModuleList([nn.Linear(4, 2), nn.Sequential(nn.Linear(2, 1))])
    path = gk.save(model, tmp_path / "m.safetensors")
    loaded = gk.load(path)
    assert repr(loaded) == repr(model)
    assert list(dict(loaded.named_modules())) == list(dict(model.named_modules()))
    model.eval(), loaded.eval()
    np.testing.assert_array_equal(run(loaded[:3], X4), run(model[:3], X4))
    loaded_holder = gk.load(gk.save(holder, tmp_path / "h.safetensors"))
    assert repr(loaded_holder) == repr(holder)
    assert_same_state(holder, loaded_holder)


def test_file_is_plain_weights_plus_json_metadata(tmp_path):
    model = small_model()
    path = gk.save(model, tmp_path / "m.safetensors")
    meta = read_metadata(path)
    assert meta["format"] == "gradkit.model" and meta["format_version"] == "1"
    arch = json.loads(meta["architecture"])
    assert arch["model"]["class"] == "Sequential" and arch["training"] is True
    assert arch["model"]["children"][0] == ["0", {"class": "Linear", "config": {
        "in_features": 4, "out_features": 6, "bias": True}}]
    tensors, _ = gk.io.read_safetensors(path)
    assert set(tensors) == set(model.state_dict())


def test_load_leaves_the_random_state_alone(tmp_path):
    path = gk.save(small_model(), tmp_path / "m.safetensors")
    gk.manual_seed(3)
    before = gk.random.get_rng_state()
    gk.load(path)
    assert gk.random.get_rng_state() == before


def test_custom_class_needs_the_class_or_the_model(tmp_path):
    model = randomize(MLP(hidden=7))
    path = gk.save(model, tmp_path / "custom.safetensors")
    with pytest.raises(ConfigError, match=r"custom Module class 'tests\.io\.helpers\.MLP'.*"
                                          r"model=MLP\(\.\.\.\).*custom_objects=\{'MLP': MLP\}"):
        gk.load(path)
    # the model itself
    loaded = gk.load(path, model=MLP(hidden=7))
    assert_same_state(model, loaded)
    # the class: built without arguments (MLP records none) it has the wrong shapes
    with pytest.raises(nn.StateDictError, match=r"shape mismatch for 'fc1.weight'"):
        gk.load(path, custom_objects={"MLP": MLP})
    assert_same_state(model, gk.load(path, custom_objects={"MLP": lambda: MLP(hidden=7)}))


def test_custom_class_with_get_config_and_nested_in_sequential(tmp_path):
    model = randomize(nn.Sequential(nn.Linear(3, 4), Configurable(hidden=9), nn.Softmax()))
    path = gk.save(model, tmp_path / "c.safetensors")
    with pytest.raises(ConfigError, match=r"model\.1 is an instance of the custom"):
        gk.load(path)
    loaded = gk.load(path, custom_objects={"Configurable": Configurable})
    assert isinstance(loaded[1], Configurable) and loaded[1].hidden == 9
    x = X4[:, :3]
    np.testing.assert_array_equal(run(loaded, x), run(model, x))


def test_weights_only_and_wrong_files_are_refused_clearly(tmp_path):
    model = small_model()
    weights = model.save_weights(tmp_path / "w.safetensors")
    with pytest.raises(FormatError, match="weights only.*model.load_weights"):
        gk.load(weights)
    assert_same_state(model, gk.load(weights, model=randomize(small_model(), 5)))
    (tmp_path / "junk.safetensors").write_bytes(b"hello")
    with pytest.raises(FormatError, match="truncated"):
        gk.load(tmp_path / "junk.safetensors")
    with pytest.raises(FileNotFoundError):
        gk.load(tmp_path / "missing.safetensors")


def test_architecture_that_does_not_match_its_weights(tmp_path):
    path = tmp_path / "m.safetensors"
    tensors = nn.Linear(4, 3).state_dict()
    arch = {"model": {"class": "Linear", "config": {"in_features": 3, "out_features": 3}}}
    gk.io.write_safetensors(path, tensors, {"format": "gradkit.model", "format_version": "1",
                                            "architecture": json.dumps(arch)})
    with pytest.raises(ValueError, match=r"shape mismatch for 'weight'.*\(3, 3\).*\(3, 4\)"):
        gk.load(path)


@pytest.mark.parametrize("arch, message", [
    ({"model": {"class": "os.system", "config": {}}}, "unknown layer class 'os.system'"),
    ({"model": {"class": "Linear", "config": {"in_features": 10**6, "out_features": 10**6}}},
     "asks for 1000001000000 parameter values but the file holds only 15"),
    ({"model": {"class": "Linear", "config": {"in_features": 4, "out_features": 3,
                                                   "colour": 1}}},
     "cannot build Linear"),
    ({"model": {"class": "Sequential", "children": "nope"}}, "'children' must be a list"),
    ({"model": ["Linear"]}, "must be an object with a 'class'"),
    ({"nothing": 1}, "architecture in the header is not valid"),
])
def test_hand_crafted_architectures(tmp_path, arch, message):
    path = tmp_path / "m.safetensors"
    gk.io.write_safetensors(path, nn.Linear(4, 3).state_dict(), {
        "format": "gradkit.model", "format_version": "1", "architecture": json.dumps(arch)})
    with pytest.raises(ValueError, match=message):
        gk.load(path)


def test_newer_format_version_is_refused(tmp_path):
    path = tmp_path / "m.safetensors"
    gk.io.write_safetensors(path, {}, {"format": "gradkit.model", "format_version": "2",
                                       "architecture": "{}"})
    with pytest.raises(FormatError, match="newer gradkit.*format version 2"):
        gk.load(path)


def test_shared_layers_are_refused_with_a_hint(tmp_path):
    layer = nn.Linear(2, 2)
    with pytest.raises(ConfigError, match="appears twice.*save_weights"):
        gk.save(nn.Sequential(layer, layer), tmp_path / "s.safetensors")
    assert not list(tmp_path.iterdir())


class _Scale(nn.Module):
    """A stand-in for a newly registered layer: its arguments are attributes of their names."""

    def __init__(self, factor: float = 2.0, bias: bool = True, device="cpu", dtype=None) -> None:
        super().__init__()
        self.factor = factor
        self.register_parameter("bias", nn.Parameter(gk.zeros(1, dtype=dtype)) if bias else None)

    def forward(self, x):
        return x * self.factor + (0 if self.bias is None else self.bias)


class _Opaque(nn.Module):
    def __init__(self, width: int = 3) -> None:
        super().__init__()
        self.hidden_width = width


def test_a_registered_layer_is_described_from_its_constructor(monkeypatch):
    from gradkit.nn import registry

    monkeypatch.setattr(registry, "MODULES", {**registry.MODULES, "_Scale": _Scale,
                                              "_Opaque": _Opaque})
    arch = gk.io.architecture(_Scale(3.0, bias=False))
    assert arch == {"class": "_Scale", "config": {"factor": 3.0, "bias": False}}
    rebuilt = gk.io.build(arch)
    assert type(rebuilt) is _Scale and rebuilt.factor == 3.0 and rebuilt.bias is None
    wide = gk.io.architecture(_Scale(dtype="float64"))
    assert wide["config"] == {"factor": 2.0, "bias": True, "dtype": "float64"}
    with pytest.raises(ConfigError, match="'width' is not an attribute"):
        gk.io.architecture(_Opaque())
