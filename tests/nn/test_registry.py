"""The registries are the single source of names: compile(), gradkit.sklearn, the CLI and the
architecture JSON accept exactly their names, and an unknown name's error lists them."""

import re

import numpy as np
import pytest

import gradkit as gk
from gradkit import nn, optim
from gradkit.cli import build_parser
from gradkit.cli import train as cli_train
from gradkit.nn import registry
from gradkit.optim import registry as optimizers


def _model():
    return nn.Sequential(nn.Linear(4, 3))


def _listed(names) -> str:
    return re.escape(str(sorted(names)))


# ---- the tables themselves -----------------------------------------------------------------
def test_tables_hold_the_documented_names():
    assert set(optimizers.OPTIMIZERS) == {"sgd", "adam", "adamw", "rmsprop", "adagrad"}
    assert set(optimizers.DEFAULT_LR) == set(optimizers.OPTIMIZERS)
    assert optimizers.DEFAULT_LR["sgd"] == 0.01
    assert {"cross_entropy", "mse", "mae", "bce", "bce_with_logits", "huber",
            "nll"} <= set(registry.LOSSES)
    assert registry.LOSSES["l1"] is registry.LOSSES["mae"] is nn.L1Loss
    assert {"relu", "tanh", "sigmoid", "gelu", "elu", "leaky_relu",
            "softplus"} <= set(registry.ACTIVATIONS)
    assert set(registry.LOSS_KINDS) == set(registry.LOSSES.values())
    assert all(issubclass(c, optim.Optimizer) for c in optimizers.OPTIMIZERS.values())
    assert all(registry.MODULES[c.__name__] is c for c in registry.ACTIVATIONS.values())
    assert all(registry.MODULES[c.__name__] is c for c in registry.LOSSES.values())


def test_every_public_module_class_of_nn_is_registered():
    classes = {name for name in nn.__all__
               if isinstance(getattr(nn, name), type) and issubclass(getattr(nn, name), nn.Module)
               and name != "Module"}
    assert classes == set(registry.MODULES)
    assert gk.io.builtin_layers() == sorted(registry.MODULES)


def test_the_tables_are_read_only():
    with pytest.raises(TypeError):
        registry.ACTIVATIONS["swish"] = nn.ReLU  # type: ignore[index]
    with pytest.raises(TypeError):
        optimizers.OPTIMIZERS["lion"] = optim.SGD  # type: ignore[index]


def test_lookup_ignores_case_and_lists_the_names_when_unknown():
    assert registry.get_activation("ReLU") is nn.ReLU
    assert optimizers.get_optimizer("AdamW") is optim.AdamW
    with pytest.raises(ValueError, match="here: unknown activation 'swish'; choose from "
                                         + _listed(registry.ACTIVATIONS)):
        registry.get_activation("swish", "here")
    with pytest.raises(ValueError, match=_listed(optimizers.OPTIMIZERS)):
        optimizers.get_optimizer("lion")


# ---- mlp -----------------------------------------------------------------------------------
def test_mlp_blocks():
    model = registry.mlp([4, 16, 8, 3], "tanh", dropout=0.1)
    kinds = [type(m) for m in model]
    assert kinds == [nn.Linear, nn.Tanh, nn.Dropout, nn.Linear, nn.Tanh, nn.Dropout, nn.Linear]
    assert [(m.in_features, m.out_features) for m in model if isinstance(m, nn.Linear)] == [
        (4, 16), (16, 8), (8, 3)]
    single = registry.mlp((5, 2))
    assert len(single) == 1 and single[0].out_features == 2
    assert nn.Dropout not in {type(m) for m in registry.mlp([4, 8, 2], dropout=0.0)}
    with pytest.raises(ValueError, match="at least the input and output"):
        registry.mlp([4])


@pytest.mark.parametrize("name", sorted(registry.ACTIVATIONS))
def test_every_activation_builds_trains_and_saves(name, tmp_path):
    model = registry.mlp([3, 5, 2], name)
    assert type(model[1]) is registry.ACTIVATIONS[name]
    x = np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)
    loaded = gk.load(gk.save(model, tmp_path / "m.safetensors"))
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


# ---- compile -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(optimizers.OPTIMIZERS))
def test_compile_takes_every_optimizer_name(name):
    model = _model()
    model.compile(name, "mse")
    assert type(model.optimizer) is optimizers.OPTIMIZERS[name]
    assert model.optimizer.lr == pytest.approx(optimizers.DEFAULT_LR[name])


@pytest.mark.parametrize("name", sorted(registry.LOSSES))
def test_compile_takes_every_loss_name(name):
    model = _model()
    model.compile("sgd", name)
    cls = registry.LOSSES[name]
    assert type(model._train_config.loss) is cls
    assert model._train_config.loss_kind == registry.LOSS_KINDS[cls]


def test_compile_errors_list_the_registry_names():
    with pytest.raises(ValueError, match=f"compile: unknown optimizer 'lion'; choose from "
                                         f"{_listed(optimizers.OPTIMIZERS)}"):
        _model().compile("lion", "mse")
    with pytest.raises(ValueError, match=f"compile: unknown loss 'hinge'; choose from "
                                         f"{_listed(registry.LOSSES)}"):
        _model().compile("sgd", "hinge")


# ---- the command line ----------------------------------------------------------------------
def _choices(flag: str):
    parser = build_parser()
    sub = next(a for a in parser._actions if a.choices and "train" in a.choices)
    action = next(a for a in sub.choices["train"]._actions if flag in a.option_strings)
    return tuple(action.choices)


def test_cli_choices_are_the_registry_names():
    assert _choices("--optimizer") == tuple(optimizers.OPTIMIZERS)
    assert _choices("--activation") == tuple(registry.ACTIVATIONS)


@pytest.mark.parametrize("name", sorted(registry.ACTIVATIONS))
def test_cli_model_for_every_activation(name):
    model = cli_train.build_model(4, [8], 3, name, 0.2)
    assert [type(m) for m in model] == [nn.Linear, registry.ACTIVATIONS[name], nn.Dropout,
                                        nn.Linear]


def test_cli_refuses_an_unknown_activation_naming_the_choices(capsys):
    with pytest.raises(SystemExit) as exc:
        gk.cli.main(["train", "--activation", "swish"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and all(name in err for name in registry.ACTIVATIONS)


# ---- gradkit.sklearn -----------------------------------------------------------------------
def test_sklearn_takes_the_registry_names():
    pytest.importorskip("sklearn")
    from gradkit.sklearn import NeuralNetClassifier, mlp

    for name in registry.ACTIVATIONS:
        assert type(mlp(4, 3, hidden=(5,), activation=name)[1]) is registry.ACTIVATIONS[name]
    with pytest.raises(ValueError, match=_listed(registry.ACTIVATIONS)):
        mlp(4, 3, activation="swish")
    x = np.random.default_rng(0).standard_normal((12, 4)).astype(np.float32)
    y = np.arange(12) % 3
    for name in optimizers.OPTIMIZERS:
        clf = NeuralNetClassifier(optimizer=name, epochs=1, random_state=0).fit(x, y)
        assert clf.predict(x).shape == (12,)
    with pytest.raises(ValueError, match=_listed(optimizers.OPTIMIZERS)):
        NeuralNetClassifier(optimizer="lion", epochs=1).fit(x, y)
    with pytest.raises(ValueError, match=_listed(registry.LOSSES)):
        NeuralNetClassifier(loss="hinge", epochs=1).fit(x, y)
