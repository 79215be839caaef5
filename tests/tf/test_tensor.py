"""tf.Tensor and tf.Variable over gradkit: the same core objects, TF's behaviour."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import gradkit as gk
import gradkit.tf as tf
from gradkit.errors import AutogradError


def test_tf_tensors_are_gradkit_tensors_and_results_stay_tf():
    x = tf.constant([1.0, 2.0])
    native = gk.tensor([3.0, 4.0])
    for out in (x + native, native + x, native * x, x @ native, -x, x[0], x.exp(),
                np.float32(2) * x, x.reshape(2, 1), tf.reduce_sum(native)):
        assert type(out) is tf.Tensor and isinstance(out, gk.Tensor)
    assert all(type(r) is tf.Tensor for r in x)
    assert all(type(p) is tf.Tensor for p in tf.constant([1, 2, 3, 4]).split(2))
    assert type(native) is gk.Tensor  # a native operand is never retagged
    assert type(tf.constant(1.0).T) is tf.Tensor


def test_tf_tensors_are_immutable():
    x = tf.constant([1.0, 2.0])
    y = x
    y += 1
    assert x.numpy().tolist() == [1.0, 2.0] and y.numpy().tolist() == [2.0, 3.0]
    with pytest.raises(TypeError, match="does not support item assignment"):
        x[0] = 5.0


def test_numpy_of_a_scalar_is_a_numpy_scalar_and_shapes_compare_to_lists():
    assert isinstance(tf.constant(2.0).numpy(), np.float32)
    s = tf.zeros((2, 3)).shape
    assert s == [2, 3] and s == (2, 3) and s != [3, 2] and s.num_elements() == 6
    assert s[0] == 2 and len({s, (2, 3)}) == 1


def test_variables_train_with_gradkits_own_optimizers_and_backward():
    w = tf.Variable([1.0, -2.0])
    opt = gk.optim.SGD([w], lr=0.5)
    loss = (w * w).sum()
    loss.backward()
    opt.step()
    assert w.numpy().tolist() == [0.0, 0.0] and type(w) is tf.Variable
    assert not tf.Variable([1, 2]).requires_grad  # an int variable is never trainable
    assert not tf.Variable(1.0, trainable=False).requires_grad


def test_variable_numpy_is_a_snapshot_and_assign_checks_shapes():
    v = tf.Variable([1.0, 2.0])
    history = [v.numpy()]
    v.assign_sub([0.5, 0.5])
    assert history[0].tolist() == [1.0, 2.0] and v.numpy().tolist() == [0.5, 1.5]
    with pytest.raises(ValueError, match="shape"):
        v.assign([1.0, 2.0, 3.0])
    assert v.assign(7.0).numpy().tolist() == [7.0, 7.0]  # a scalar fills (as a constant)
    assert tf.Variable(lambda: tf.ones((2,))).numpy().tolist() == [1.0, 1.0]


def test_assigning_before_the_gradient_refuses_instead_of_a_wrong_gradient():
    w = tf.Variable(3.0)
    with tf.GradientTape(persistent=True) as tape:
        y = w * w
    w.assign(10.0)
    with pytest.raises(AutogradError, match="modified in place"):
        tape.gradient(y, w)


def test_constant_copies_its_numpy_source_but_convert_to_tensor_does_not():
    a = np.zeros(3, np.float32)
    c, t = tf.constant(a), tf.convert_to_tensor(a)
    a[0] = 1.0
    assert c.numpy()[0] == 0.0 and t.numpy()[0] == 1.0
    assert tf.convert_to_tensor(c) is c and tf.convert_to_tensor(c, tf.float64).dtype == "f8"


def test_missing_names_name_the_gradkit_way():
    with pytest.raises(AttributeError, match="graph mode"):
        tf.Session  # noqa: B018
    with pytest.raises(AttributeError, match="gk.logsumexp"):
        tf.logsumexp  # noqa: B018
    with pytest.raises(AttributeError, match="conv2d"):
        tf.nn.conv2d  # noqa: B018
    with pytest.raises(AttributeError, match="tf.data.Dataset"):
        tf.data.Dataset.range(2).padded_batch  # noqa: B018
    for module in (tf.math, tf.random, tf.config, tf.data):
        with pytest.raises(AttributeError, match="gradkit"):
            module.no_such_name  # noqa: B018
    assert not hasattr(tf, "no_such_name")


def test_importing_the_dialect_does_not_import_keras():
    code = ("import sys, gradkit.tf as tf; tf.constant(1.0); "
            "print('gradkit.keras' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"


def test_keras_aliases_are_gradkit_keras():
    keras = pytest.importorskip("gradkit.keras")
    assert tf.keras is keras
    if hasattr(keras, "optimizers"):
        assert tf.optimizers is keras.optimizers
    if hasattr(keras, "losses"):
        assert tf.losses is keras.losses


def test_device_falls_back_to_the_cpu_without_that_gpu():
    from gradkit.tf.config import gradkit_device

    assert gradkit_device("/CPU:0") == "cpu" and gradkit_device("/device:CPU:0") == "cpu"
    if not gk.cuda.is_available():
        assert gradkit_device("/GPU:0") == "cpu"
        with tf.device("/GPU:0"):
            assert tf.constant([1.0]).device == "cpu"
        assert [d.device_type for d in tf.config.list_physical_devices()] == ["CPU"]
        assert tf.config.list_physical_devices("GPU") == []


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(
    not gk.cuda.is_available(), reason="no CUDA GPU/CuPy"))])
def test_a_tape_step_on_each_device(device):
    name = "/GPU:0" if device == "cuda" else "/CPU:0"
    with tf.device(name):
        w = tf.Variable(tf.random.normal((3, 1)))
        x = tf.constant(np.arange(6, dtype=np.float32).reshape(2, 3))
        batch = next(iter(tf.data.Dataset.from_tensor_slices(np.ones((4, 3), np.float32))
                          .batch(2)))
    assert w.device.startswith(device) and x.device.startswith(device)
    assert batch.device.startswith(device)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.matmul(x, w))
    g = tape.gradient(loss, w)
    assert g.device.startswith(device)
    np.testing.assert_allclose(g.numpy()[:, 0], [3.0, 5.0, 7.0])
    w.assign_sub(0.1 * g)
    assert tf.round(tf.constant([0.5, 1.5])).numpy().tolist() == [0.0, 2.0]


def test_small_helpers_behave_as_tf():
    assert tf.is_tensor(tf.constant(1.0)) and tf.is_tensor(gk.tensor(1.0))
    assert not tf.is_tensor(np.zeros(2)) and tf.executing_eagerly()
    assert tf.__version__.startswith("2.") and tf.as_dtype("float32") == tf.float32
    x = tf.ones((1000,))
    kept = tf.nn.dropout(x, rate=0.5).numpy()
    assert set(np.unique(kept).tolist()) == {0.0, 2.0} and 350 < (kept > 0).sum() < 650
    assert tf.nn.dropout(x, rate=0.0) is not x
