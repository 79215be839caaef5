"""Synthetic makers: shapes, dtypes, determinism, structure, argument checks."""

from __future__ import annotations

import numpy as np
import pytest

from gradkit.datasets import make_circles, make_classification, make_moons, make_regression

MAKERS = [
    lambda rs: make_classification(50, 6, random_state=rs),
    lambda rs: make_moons(50, noise=0.1, random_state=rs),
    lambda rs: make_circles(50, noise=0.1, random_state=rs),
    lambda rs: make_regression(50, 6, noise=1.0, random_state=rs),
]


@pytest.mark.parametrize("make", MAKERS)
def test_determinism(make) -> None:
    a, b, c = make(3), make(3), make(4)
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[0], c[0])
    state = make(np.random.RandomState(3))
    np.testing.assert_array_equal(state[0], a[0])
    gen_a, gen_b = make(np.random.default_rng(5)), make(np.random.default_rng(5))
    np.testing.assert_array_equal(gen_a[0], gen_b[0])


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_bit_for_bit_scikit_learn(seed) -> None:
    skd = pytest.importorskip("sklearn.datasets", reason="scikit-learn is not installed")
    cases = [
        ("make_classification", dict(n_samples=100, n_features=2, n_redundant=0,
                                     n_informative=2, flip_y=0.2)),
        ("make_classification", dict(n_samples=300, n_features=20, n_informative=5,
                                     n_redundant=3, n_repeated=2, n_classes=3, shift=None,
                                     scale=None)),
        ("make_classification", dict(n_samples=50, n_features=12, n_informative=10,
                                     n_redundant=0, n_clusters_per_class=1)),
        ("make_moons", dict(n_samples=100, noise=0.1)),
        ("make_circles", dict(n_samples=101, noise=0.1, factor=0.5)),
        ("make_regression", dict(n_samples=50, n_features=5, n_informative=3, noise=1.0,
                                 coef=True)),
        ("make_regression", dict(n_samples=50, n_features=8, effective_rank=3, noise=1.0,
                                 n_targets=2)),
    ]
    import gradkit.datasets as gkd

    for name, kw in cases:
        ours = getattr(gkd, name)(random_state=seed, **kw)
        theirs = getattr(skd, name)(random_state=seed, **kw)
        for u, v in zip(ours, theirs, strict=True):
            np.testing.assert_allclose(u, v.astype(u.dtype), rtol=1e-6, atol=1e-5,
                                       err_msg=name)


def test_classification_shapes_and_balance() -> None:
    x, y = make_classification(1000, 20, n_classes=4, n_informative=4, flip_y=0,
                               random_state=0)
    assert x.shape == (1000, 20) and x.dtype == np.float32
    assert y.shape == (1000,) and y.dtype == np.int64
    assert np.bincount(y).tolist() == [250] * 4


def test_classification_weights() -> None:
    _, y = make_classification(1000, weights=[0.9], flip_y=0, random_state=0)
    assert np.bincount(y).tolist() == [901, 99]  # as scikit-learn: int() of 0.1 - 1e-17
    _, y = make_classification(1000, n_classes=3, n_informative=3, weights=[0.5, 0.3, 0.2],
                               flip_y=0, random_state=0)
    assert np.bincount(y).tolist() == [500, 300, 200]


def test_classification_feature_structure() -> None:
    # 3 informative + 2 redundant (linear combinations) + 1 repeated + 4 noise: rank 7
    x, _ = make_classification(500, 10, n_informative=3, n_redundant=2, n_repeated=1,
                               random_state=1)
    assert np.linalg.matrix_rank(x.astype(np.float64), tol=1e-3) == 7
    # the repeated column is an exact copy of another
    cols = [tuple(c) for c in x.T]
    assert len(set(cols)) == 9


def test_classification_is_learnable() -> None:
    # well-separated clusters: the nearest class mean gets most points right
    x, y = make_classification(600, 5, n_informative=5, n_redundant=0, n_clusters_per_class=1,
                               class_sep=3.0, flip_y=0, random_state=0)
    means = np.stack([x[y == k].mean(0) for k in range(2)])
    pred = np.argmin(((x[:, None, :] - means) ** 2).sum(-1), axis=1)
    assert (pred == y).mean() > 0.9


def test_classification_shift_scale_none_and_flip() -> None:
    x, y = make_classification(300, 5, shift=None, scale=None, flip_y=0.5, random_state=2)
    assert x.shape == (300, 5) and np.isfinite(x).all()
    assert set(np.unique(y)) == {0, 1}


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_features": 4, "n_informative": 3, "n_redundant": 2},
         "Number of informative, redundant and repeated features must sum to less"),
        ({"n_classes": 3, "n_clusters_per_class": 2, "n_informative": 2},
         r"n_classes\(3\) \* n_clusters_per_class\(2\) must be smaller or equal 2\*\*n_info"),
        ({"weights": [0.2, 0.3, 0.5]}, "Weights specified but incompatible"),
        ({"flip_y": 1.5}, r"flip_y must be in \[0.0, 1.0\]"),
        ({"n_samples": 0}, "n_samples must be >= 1"),
        ({"weights": [-0.5, 1.5]}, "non-negative"),
    ],
)
def test_classification_validation(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        make_classification(**kwargs)


def test_type_errors() -> None:
    with pytest.raises(TypeError, match="n_samples must be an int"):
        make_classification(10.5)
    with pytest.raises(TypeError, match="n_features must be an int"):
        make_regression(10, True)


def test_moons_geometry() -> None:
    x, y = make_moons(200, shuffle=False)
    assert x.shape == (200, 2) and x.dtype == np.float32 and y.dtype == np.int64
    assert np.bincount(y).tolist() == [100, 100]
    np.testing.assert_allclose(np.linalg.norm(x[y == 0], axis=1), 1, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(x[y == 1] - [1, 0.5], axis=1), 1, atol=1e-6)
    _, y = make_moons((30, 70), random_state=0)
    assert np.bincount(y).tolist() == [30, 70]
    _, y = make_moons(101, random_state=0)
    assert np.bincount(y).tolist() == [50, 51]


def test_circles_geometry() -> None:
    x, y = make_circles(200, factor=0.3, random_state=0)
    assert x.shape == (200, 2) and x.dtype == np.float32 and y.dtype == np.int64
    r = np.linalg.norm(x, axis=1)
    np.testing.assert_allclose(r[y == 0], 1, atol=1e-6)
    np.testing.assert_allclose(r[y == 1], 0.3, atol=1e-6)


def _linear_fit_accuracy(x: np.ndarray, y: np.ndarray) -> float:
    """Accuracy of the least-squares linear classifier (a stand-in for logistic regression)."""
    a = np.hstack([x, np.ones((len(x), 1))]).astype(np.float64)
    w, *_ = np.linalg.lstsq(a, 2.0 * y - 1, rcond=None)
    return float(((a @ w > 0) == y).mean())


def test_moons_and_circles_are_not_linearly_separable() -> None:
    x, y = make_circles(400, noise=0.05, factor=0.5, random_state=0)
    # both classes are centred on the origin: a line cannot split them
    assert np.abs(x[y == 0].mean(0)).max() < 0.1 and np.abs(x[y == 1].mean(0)).max() < 0.1
    assert _linear_fit_accuracy(x, y) < 0.7
    x, y = make_moons(400, noise=0.05, random_state=0)
    acc = _linear_fit_accuracy(x, y)
    assert 0.7 < acc < 0.95  # mostly, but not entirely, linear
    # while a radius feature makes circles trivially separable
    r = np.linalg.norm(make_circles(400, factor=0.5, random_state=0)[0], axis=1)
    assert r.max() <= 1.0 + 1e-6


@pytest.mark.parametrize("maker", [make_moons, make_circles])
def test_noise_and_n_samples_validation(maker) -> None:
    with pytest.raises(ValueError, match="noise must be in"):
        maker(10, noise=-1.0)
    with pytest.raises(ValueError, match="two-element tuple"):
        maker((1, 2, 3))


def test_circles_factor_validation() -> None:
    for bad in (1.0, -0.1, 2):
        with pytest.raises(ValueError, match="factor must be in"):
            make_circles(10, factor=bad)


def test_regression() -> None:
    x, y, coef = make_regression(200, 8, n_informative=3, bias=2.5, coef=True, random_state=0)
    assert x.shape == (200, 8) and y.shape == (200,) and coef.shape == (8,)
    assert x.dtype == y.dtype == coef.dtype == np.float32
    assert np.count_nonzero(coef) == 3 and coef.max() <= 100 and coef.min() >= 0
    np.testing.assert_allclose(y, x.astype(np.float64) @ coef + 2.5, rtol=1e-4, atol=1e-3)
    x, y, coef = make_regression(50, 4, n_targets=3, noise=0.5, coef=True, random_state=1)
    assert y.shape == (50, 3) and coef.shape == (4, 3)
    resid = y - x.astype(np.float64) @ coef
    assert 0.2 < resid.std() < 1.0
    assert len(make_regression(10, 3, random_state=0)) == 2


def test_regression_low_rank() -> None:
    x, _ = make_regression(100, 50, effective_rank=5, tail_strength=0.1, random_state=0)
    s = np.linalg.svd(x.astype(np.float64), compute_uv=False)
    i = np.arange(50)
    expected = 0.9 * np.exp(-((i / 5) ** 2)) + 0.1 * np.exp(-0.1 * i / 5)
    np.testing.assert_allclose(s, expected, rtol=1e-4, atol=1e-6)
    with pytest.raises(ValueError, match="noise must be in"):
        make_regression(noise=-1)


def test_close_to_scikit_learn() -> None:
    """Same algorithm: the deterministic makers match scikit-learn exactly, the random ones in
    structure."""
    skd = pytest.importorskip("sklearn.datasets")
    for ours, theirs in ((make_moons, skd.make_moons), (make_circles, skd.make_circles)):
        x, y = ours(37, shuffle=False)
        sx, sy = theirs(37, shuffle=False)
        np.testing.assert_allclose(x, sx, atol=1e-6)
        np.testing.assert_array_equal(y, sy)
    x, y = make_classification(200, 7, n_classes=3, n_informative=4, flip_y=0, random_state=0)
    sx, sy = skd.make_classification(200, n_features=7, n_classes=3, n_informative=4,
                                     flip_y=0, random_state=0)
    assert x.shape == sx.shape and np.bincount(y).tolist() == np.bincount(sy).tolist()
    assert np.linalg.matrix_rank(x, tol=1e-3) == np.linalg.matrix_rank(sx, tol=1e-3)
