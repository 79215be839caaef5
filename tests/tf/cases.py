"""Conformance cases: small programs written against TensorFlow's API, each a function of
the `tf` module that returns plain values (nested lists, numbers, strings, None).

tests/tf/record_reference.py runs them with TensorFlow itself and stores what they return
in tests/tf/tf_reference.json; tests/tf/test_conformance.py runs them with gradkit.tf and
compares. So every expected value here comes from TensorFlow (the version is in the JSON).
"""

from __future__ import annotations

import warnings

import numpy as np

CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


def plain(x):
    """A tensor (or a structure of them) as lists and numbers (None stays None)."""
    if x is None or isinstance(x, (str, bool, int, float)):
        return x
    if isinstance(x, dict):
        return {k: plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [plain(v) for v in x]
    return np.asarray(x.numpy() if hasattr(x, "numpy") else x).tolist()


# ---- printing and dtypes ------------------------------------------------------------------


@case
def printing(tf):
    m = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    v = tf.constant([1.0, 2.0])
    return [repr(v), str(v), repr(m), str(m), repr(tf.constant(3.0)), repr(tf.constant(3)),
            repr(tf.constant(True)), str(tf.constant(2.5)), str(m.shape), repr(m.shape)]


@case
def variable_printing(tf):
    return [repr(tf.Variable([1.0, 2.0])), repr(tf.Variable(3.0, name="w")),
            tf.Variable(1.0, name="b").name, tf.Variable(1.0).name,
            repr(tf.Variable([[1, 2], [3, 4]]))]


@case
def dtype_inference(tf):
    values = [1.0, 1, True, [1, 2.5], np.array([1.0]), np.array([1], np.int64), 2**40,
              [[1, 2], [3, 4]], np.float32(1.0)]
    return [tf.constant(v).dtype.name for v in values]


@case
def variable_dtypes_and_shapes(tf):
    v = tf.Variable([[1.0, 2.0, 3.0]])
    return [v.dtype.name, list(v.shape), v.trainable, tf.Variable(2).dtype.name,
            tf.Variable(1.0, trainable=False).trainable, (v * 2).dtype.name]


# ---- rounding, casting, comparisons ---------------------------------------------------------


@case
def round_half_to_even(tf):
    x = tf.constant([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.4999, 3.7])
    return plain(tf.round(x))


@case
def round_has_no_gradient(tf):
    x = tf.Variable([0.3, 1.7])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(tf.round(x))
    return plain(tape.gradient(y, x))


@case
def cast_truncates(tf):
    x = tf.constant([1.7, -1.7, 2.5, -0.2])
    return [plain(tf.cast(x, tf.int32)), tf.cast(x, tf.int32).dtype.name,
            plain(tf.cast(tf.constant([True, False]), tf.float32)),
            plain(tf.cast(tf.constant([0, 2]), tf.bool))]


@case
def equal_and_logic(tf):
    a, b = tf.constant([1, 2, 3]), tf.constant([1, 0, 3])
    return [plain(tf.equal(a, b)), plain(tf.not_equal(a, b)), plain(tf.greater(a, b)),
            plain(tf.logical_and(tf.equal(a, b), tf.greater(a, 1))),
            plain(tf.logical_not(tf.equal(a, b))), tf.equal(a, b).dtype.name]


@case
def argmax_defaults(tf):
    m = tf.constant([[1, 5, 2], [7, 2, 9]])
    return [plain(tf.argmax(m)), plain(tf.argmax(m, axis=1)), tf.argmax(m).dtype.name,
            plain(tf.argmin(m, 1)), plain(tf.math.argmax(tf.constant([3.0, 9.0, 1.0])))]


@case
def one_hot_rules(tf):
    return [plain(tf.one_hot([0, 2, -1, 5], 3)), plain(tf.one_hot([1, 0], 2, axis=0)),
            plain(tf.one_hot([1], 3, on_value=5.0, off_value=-1.0)),
            tf.one_hot([1], 3).dtype.name, plain(tf.one_hot([[0], [1]], 2).shape)]


# ---- reductions ---------------------------------------------------------------------------


@case
def reductions(tf):
    m = tf.constant([[1.0, 2.0], [3.0, 5.0]])
    i = tf.constant([[1, 2], [3, 4]])
    return [plain(tf.reduce_mean(m)), plain(tf.reduce_mean(m, axis=0)),
            plain(tf.reduce_sum(m, axis=1, keepdims=True)), plain(tf.reduce_max(m, 1)),
            plain(tf.reduce_min(m)), plain(tf.reduce_prod(m)), plain(tf.reduce_mean(i)),
            plain(tf.reduce_mean(tf.constant([-1, -2]))), tf.reduce_sum(i).dtype.name,
            plain(tf.reduce_sum(i, [0, 1])), plain(tf.math.reduce_std(m)),
            plain(tf.math.reduce_variance(m, 0)), plain(tf.reduce_logsumexp(m, 1)),
            plain(tf.reduce_any(tf.constant([False, True]))),
            plain(tf.math.count_nonzero(tf.constant([0, 1, 2]))),
            plain(tf.math.cumsum(tf.constant([1.0, 2.0, 3.0])))]


# ---- GradientTape -----------------------------------------------------------------------------


@case
def tape_non_scalar_target_is_summed(tf):
    x = tf.constant([1.0, 2.0, 3.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    return plain(tape.gradient(y, x))


@case
def tape_several_targets_add_up(tf):
    x = tf.constant([1.0, 2.0, 3.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y1, y2 = x * x, 3 * x
    return plain(tape.gradient([y1, y2], x))


@case
def tape_nested_sources_and_unconnected(tf):
    a, b = tf.Variable(2.0), tf.Variable([1.0, 1.0])
    c = tf.Variable(5.0)
    with tf.GradientTape(persistent=True) as tape:
        y = a * a + tf.reduce_sum(b * a)
    out = [plain(tape.gradient(y, [a, b, c])), plain(tape.gradient(y, {"a": a, "c": c})),
           plain(tape.gradient(y, (a, [b]))),
           plain(tape.gradient(y, c, unconnected_gradients=tf.UnconnectedGradients.ZERO))]
    return out


@case
def tape_non_persistent_second_call(tf):
    x = tf.Variable(1.0)
    with tf.GradientTape() as tape:
        y = x * x
    first = plain(tape.gradient(y, x))
    try:
        tape.gradient(y, x)
    except RuntimeError as exc:
        return [first, str(exc)]
    return [first, "no error"]


@case
def tape_persistent(tf):
    x = tf.constant(3.0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
        z = y * y
    return [plain(tape.gradient(z, x)), plain(tape.gradient(y, x))]


@case
def tape_constants_need_watch(tf):
    x = tf.constant(3.0)
    with tf.GradientTape() as tape:
        y = x * x
    unwatched = tape.gradient(y, x)
    v = tf.Variable(2.0, trainable=False)
    with tf.GradientTape() as tape:
        y = v * v
    return [plain(unwatched), plain(tape.gradient(y, v))]


@case
def tape_watch_accessed_variables_false(tf):
    a, b = tf.Variable(2.0), tf.Variable(3.0)
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(a)
        y = a * b
    return plain(tape.gradient(y, [a, b]))


@case
def tape_stop_recording(tf):
    x = tf.Variable(2.0)
    with tf.GradientTape(persistent=True) as tape:
        y = x * x
        with tape.stop_recording():
            z = x * x * x
    return [plain(tape.gradient(z, x)), plain(tape.gradient(y, x))]


@case
def tape_output_gradients(tf):
    x = tf.Variable([1.0, 2.0])
    with tf.GradientTape() as tape:
        y = x * x
    return plain(tape.gradient(y, x, output_gradients=tf.constant([10.0, 100.0])))


@case
def tape_second_order(tf):
    x = tf.Variable([1.0, 2.0, 3.0])
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            y = x ** 3
        dy = inner.gradient(y, x)
    return [plain(dy), plain(outer.gradient(dy, x))]


@case
def tape_intermediate_source(tf):
    x = tf.Variable(2.0)
    with tf.GradientTape() as tape:
        h = x * 3.0
        y = h * h
    return plain(tape.gradient(y, [h, x]))


@case
def tape_jacobian(tf):
    x = tf.Variable([1.0, 2.0])
    with tf.GradientTape() as tape:
        y = tf.stack([x[0] * x[1], x[0] + 3.0 * x[1], x[1] ** 2])
    return plain(tape.jacobian(y, x))


@case
def tape_int_watch_is_ignored(tf):
    x = tf.constant([1, 2])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = x * x
        return plain(tape.gradient(y, x))


@case
def variable_assignment(tf):
    v = tf.Variable([1.0, 2.0])
    snapshot = v.numpy()
    v.assign([3.0, 4.0])
    after_assign = plain(v)
    v.assign_add([1.0, 1.0])
    v.assign_sub(tf.constant([0.5, 0.5]))
    try:
        v += 1.0
        message = "no error"
    except RuntimeError as exc:
        message = str(exc)
    return [snapshot.tolist(), after_assign, plain(v), message, plain(v + 1.0)]


@case
def variable_gradient_flows_through_read_value(tf):
    v = tf.Variable(3.0)
    with tf.GradientTape() as tape:
        y = v.read_value() * v
    return plain(tape.gradient(y, v))


@case
def stop_gradient_and_identity(tf):
    x = tf.Variable(2.0)
    with tf.GradientTape(persistent=True) as tape:
        y = tf.stop_gradient(x * x) * x
        z = tf.identity(x) * x
    return [plain(tape.gradient(y, x)), plain(tape.gradient(z, x))]
