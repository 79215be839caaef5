"""tf.function: gradkit's compiled step (gk.compile) where gradkit has it, a plain call
otherwise; the same numbers either way."""

from __future__ import annotations

import numpy as np

import gradkit.tf as tf


def _train(eager: bool) -> list[float]:
    tf.config.run_functions_eagerly(eager)
    try:
        tf.random.set_seed(0)
        w = tf.Variable(tf.random.normal((3, 1)))
        x = tf.constant(np.linspace(-1, 1, 24, dtype=np.float32).reshape(8, 3))
        y = tf.constant(np.arange(8, dtype=np.float32).reshape(8, 1))

        @tf.function
        def step(xb, yb):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.square(tf.matmul(xb, w) - yb))
            w.assign_sub(0.05 * tape.gradient(loss, w))
            return loss

        losses = [float(step(x, y)) for _ in range(6)]
        return losses + w.numpy()[:, 0].tolist()
    finally:
        tf.config.run_functions_eagerly(False)


def test_compiled_and_eager_steps_agree():
    compiled, eager = _train(False), _train(True)
    np.testing.assert_allclose(compiled, eager, rtol=1e-6)
    assert compiled[5] < compiled[0]


def test_function_decorates_with_arguments_and_keeps_the_python_function():
    def double(x):
        return x * 2

    f = tf.function(double)
    g = tf.function(jit_compile=True)(double)
    assert f.python_function is double and g.__name__ == "double"
    out = g(tf.constant([1.0, 2.0]))
    assert type(out) is tf.Tensor and out.numpy().tolist() == [2.0, 4.0]
    assert tf.config.functions_run_eagerly() is False
