"""Synthetic datasets with scikit-learn's argument names and meaning, in NumPy only.

The algorithms and the order of random draws follow ``sklearn.datasets`` exactly, with the
same `numpy.random.RandomState` stream, so an int ``random_state`` gives scikit-learn's own
numbers (up to the float32 cast): a lesson written with scikit-learn's data reproduces here.
``x`` is float32; classification labels are int64, regression targets float32.
``random_state``: None (fresh entropy), an int seed, a `numpy.random.RandomState`, or a
`numpy.random.Generator` (used to seed a RandomState).
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

__all__ = ["make_circles", "make_classification", "make_moons", "make_regression"]

RandomState = int | np.random.RandomState | np.random.Generator | None


# ---------------------------------------------------------------- argument checks


def _int(fn: str, name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{fn}: {name} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{fn}: {name} must be >= {minimum}, got {value}")
    return int(value)


def _float(fn: str, name: str, value: object, lo: float | None = None,
           hi: float | None = None, hi_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{fn}: {name} must be a number, got {type(value).__name__} {value!r}")
    v = float(value)
    if not np.isfinite(v) or (lo is not None and v < lo) or (hi is not None and (
            v > hi or (hi_open and v == hi))):
        bounds = f"[{lo if lo is not None else '-inf'}, {hi if hi is not None else 'inf'}"
        raise ValueError(f"{fn}: {name} must be in {bounds}{')' if hi_open else ']'}, got {v}")
    return v


def _noise(fn: str, noise: float | None) -> float:
    return 0.0 if noise is None else _float(fn, "noise", noise, lo=0.0)


def _rng(random_state: RandomState) -> np.random.RandomState:
    """scikit-learn's `check_random_state`, except that None means fresh entropy."""
    if isinstance(random_state, np.random.RandomState):
        return random_state
    if isinstance(random_state, np.random.Generator):
        return np.random.RandomState(int(random_state.integers(0, 2**32)))
    if random_state is None or (isinstance(random_state, numbers.Integral)
                                and not isinstance(random_state, bool)):
        return np.random.RandomState(random_state)
    raise TypeError(f"random_state must be None, an int, a RandomState or a Generator, "
                    f"got {type(random_state).__name__}")


def _shuffle(rng: np.random.RandomState, *arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    """Rows permuted as `sklearn.utils.shuffle` does (shuffle of an index range)."""
    perm = np.arange(len(arrays[0]))
    rng.shuffle(perm)
    return tuple(a[perm] for a in arrays)


def _two_counts(fn: str, n_samples: int | Sequence[int]) -> tuple[int, int]:
    """``n_samples`` as (outer, inner): an int splits in half (outer gets the smaller
    half), a pair is taken as is."""
    if isinstance(n_samples, numbers.Integral) and not isinstance(n_samples, bool):
        n = _int(fn, "n_samples", n_samples, 0)
        return n // 2, n - n // 2
    try:
        n_out, n_in = n_samples  # type: ignore[misc]
    except (TypeError, ValueError):
        raise ValueError(
            f"{fn}: n_samples must be an int or a two-element tuple, got {n_samples!r}"
        ) from None
    return _int(fn, "n_samples[0]", n_out, 0), _int(fn, "n_samples[1]", n_in, 0)


# ---------------------------------------------------------------- makers


def _sample_without_replacement(n_population: int, n: int,
                                 rng: np.random.RandomState) -> np.ndarray:
    """scikit-learn's `sample_without_replacement` ('auto' method), draw for draw."""
    ratio = n / n_population if n_population else 1.0
    if 0.01 < ratio < 0.99:
        return rng.permutation(n_population)[:n]
    if ratio < 0.2:  # tracking selection
        out, seen = np.empty(n, dtype=np.int64), set()
        for i in range(n):
            j = rng.randint(n_population)
            while j in seen:
                j = rng.randint(n_population)
            seen.add(j)
            out[i] = j
        return out
    out = np.arange(n)  # reservoir sampling
    for i in range(n, n_population):
        j = rng.randint(0, i + 1)
        if j < n:
            out[j] = i
    return out


def _hypercube(n_vertices: int, dimensions: int, rng: np.random.RandomState) -> np.ndarray:
    """``n_vertices`` distinct vertices of the {0, 1}^dimensions hypercube."""
    if dimensions > 30:
        return np.hstack([rng.randint(2, size=(n_vertices, dimensions - 30)),
                          _hypercube(n_vertices, 30, rng)])
    codes = _sample_without_replacement(2**dimensions, n_vertices, rng).astype(">u4")
    return np.unpackbits(codes.view(">u1")).reshape(-1, 32)[:, -dimensions:]


def make_classification(
    n_samples: int = 100,
    n_features: int = 20,
    *,
    n_informative: int = 2,
    n_redundant: int = 2,
    n_repeated: int = 0,
    n_classes: int = 2,
    n_clusters_per_class: int = 2,
    weights: Sequence[float] | None = None,
    flip_y: float = 0.01,
    class_sep: float = 1.0,
    hypercube: bool = True,
    shift: float | Sequence[float] | None = 0.0,
    scale: float | Sequence[float] | None = 1.0,
    shuffle: bool = True,
    random_state: RandomState = None,
) -> tuple[np.ndarray, np.ndarray]:
    """A random n-class problem (scikit-learn's ``make_classification``).

    Each class is ``n_clusters_per_class`` Gaussian clusters placed on vertices of a
    hypercube of side ``2 * class_sep`` in the ``n_informative`` dimensions (random
    covariance per cluster). Then come ``n_redundant`` random linear combinations of the
    informative features, ``n_repeated`` copies of earlier features, and standard-normal
    noise features; ``flip_y`` of the labels are re-drawn at random. Features are
    ``(x + shift) * scale`` (None draws them at random); with ``shuffle`` the rows and the
    columns are permuted. ``weights`` are the class proportions (the last may be left out).

    Returns ``x`` float32 (n_samples, n_features) and ``y`` int64 (n_samples,).
    """
    fn = "make_classification"
    n_samples = _int(fn, "n_samples", n_samples, 1)
    n_features = _int(fn, "n_features", n_features, 1)
    n_informative = _int(fn, "n_informative", n_informative, 1)
    n_redundant = _int(fn, "n_redundant", n_redundant, 0)
    n_repeated = _int(fn, "n_repeated", n_repeated, 0)
    n_classes = _int(fn, "n_classes", n_classes, 1)
    n_clusters_per_class = _int(fn, "n_clusters_per_class", n_clusters_per_class, 1)
    flip_y = _float(fn, "flip_y", flip_y, 0.0, 1.0)
    class_sep = _float(fn, "class_sep", class_sep)
    _check_feature_counts(fn, n_features, n_informative, n_redundant, n_repeated, n_classes,
                          n_clusters_per_class)
    w = _class_weights(fn, weights, n_classes)
    rng = _rng(random_state)
    # The random draws below keep scikit-learn's order exactly: centroids, informative
    # features and their per-cluster covariance, redundant and repeated features, noise
    # features, label flips, shift, scale, then the row and column shuffles.
    x = np.zeros((n_samples, n_features))
    y = np.zeros(n_samples, dtype=np.int64)
    sizes = _cluster_sizes(n_samples, w, n_clusters_per_class)
    _informative_clusters(rng, x, y, sizes, n_informative, n_classes, class_sep, hypercube)
    _derived_features(rng, x, n_informative, n_redundant, n_repeated)
    flip = rng.uniform(size=n_samples) < flip_y  # drawn even for flip_y=0, as sklearn does
    y[flip] = rng.randint(n_classes, size=int(flip.sum()))
    x += (2 * rng.uniform(size=n_features) - 1) * class_sep if shift is None else shift
    x *= 1 + 100 * rng.uniform(size=n_features) if scale is None else scale
    if shuffle:
        x, y = _shuffle(rng, x, y)
        x = x[:, _column_order(rng, n_features)]
    return x.astype(np.float32), y


def _check_feature_counts(fn: str, n_features: int, n_informative: int, n_redundant: int,
                          n_repeated: int, n_classes: int, n_clusters_per_class: int) -> None:
    if n_informative + n_redundant + n_repeated > n_features:
        raise ValueError(
            f"{fn}: Number of informative, redundant and repeated features must sum to less "
            f"than the number of total features (n_informative={n_informative} + "
            f"n_redundant={n_redundant} + n_repeated={n_repeated} > n_features={n_features})"
        )
    if n_classes * n_clusters_per_class > 2**n_informative:
        raise ValueError(
            f"{fn}: n_classes({n_classes}) * n_clusters_per_class({n_clusters_per_class}) "
            f"must be smaller or equal 2**n_informative({n_informative})={2**n_informative}"
        )


def _class_weights(fn: str, weights: Sequence[float] | None, n_classes: int) -> np.ndarray:
    """The class proportions: uniform, or ``weights`` (the last one may be left out)."""
    if weights is None:
        return np.full(n_classes, 1.0 / n_classes)
    w = np.asarray(weights, dtype=np.float64).ravel()
    if len(w) not in (n_classes, n_classes - 1):
        raise ValueError(
            f"{fn}: Weights specified but incompatible with number of classes "
            f"(len(weights)={len(w)}, n_classes={n_classes})"
        )
    if len(w) == n_classes - 1:
        w = np.append(w, 1.0 - w.sum())
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise ValueError(f"{fn}: weights must be finite and non-negative, got {w.tolist()}")
    return w


def _cluster_sizes(n_samples: int, w: np.ndarray, n_clusters_per_class: int) -> list[int]:
    """Samples per cluster (cluster k belongs to class k % n_classes): proportional to the
    class weight, the remainder spread round-robin."""
    n_classes = len(w)
    n_clusters = n_classes * n_clusters_per_class
    sizes = [int(n_samples * w[k % n_classes] / n_clusters_per_class)
             for k in range(n_clusters)]
    for i in range(n_samples - sum(sizes)):
        sizes[i % n_clusters] += 1
    return sizes


def _informative_clusters(rng: np.random.RandomState, x: np.ndarray, y: np.ndarray,
                          sizes: list[int], n_informative: int, n_classes: int,
                          class_sep: float, hypercube: bool) -> None:
    """Fill the informative columns of ``x`` with one Gaussian cluster per entry of
    ``sizes`` around hypercube vertices, and ``y`` with each cluster's class."""
    n_clusters = len(sizes)
    centroids = _hypercube(n_clusters, n_informative, rng).astype(np.float64)
    centroids *= 2 * class_sep
    centroids -= class_sep
    if not hypercube:
        centroids *= rng.uniform(size=(n_clusters, 1))
        centroids *= rng.uniform(size=(1, n_informative))
    x[:, :n_informative] = rng.standard_normal((len(x), n_informative))
    stop = 0
    for k, centroid in enumerate(centroids):
        start, stop = stop, stop + sizes[k]
        y[start:stop] = k % n_classes
        a = 2 * rng.uniform(size=(n_informative, n_informative)) - 1
        x[start:stop, :n_informative] = x[start:stop, :n_informative] @ a + centroid


def _derived_features(rng: np.random.RandomState, x: np.ndarray, n_informative: int,
                      n_redundant: int, n_repeated: int) -> None:
    """After the informative columns: random linear combinations of them (redundant),
    copies of earlier columns (repeated), then standard-normal noise columns."""
    n_samples, n_features = x.shape
    n_useless = n_features - n_informative - n_redundant - n_repeated
    if n_redundant > 0:
        b = 2 * rng.uniform(size=(n_informative, n_redundant)) - 1
        x[:, n_informative:n_informative + n_redundant] = x[:, :n_informative] @ b
    if n_repeated > 0:
        n = n_informative + n_redundant
        idx = ((n - 1) * rng.uniform(size=n_repeated) + 0.5).astype(np.intp)
        x[:, n:n + n_repeated] = x[:, idx]
    if n_useless > 0:
        x[:, n_features - n_useless:] = rng.standard_normal((n_samples, n_useless))


def _column_order(rng: np.random.RandomState, n_features: int) -> np.ndarray:
    """A random permutation of the columns, drawn as scikit-learn does."""
    cols = np.arange(n_features)
    rng.shuffle(cols)
    return cols


def make_moons(
    n_samples: int | tuple[int, int] = 100,
    *,
    shuffle: bool = True,
    noise: float | None = None,
    random_state: RandomState = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (scikit-learn's ``make_moons``): class 0 is the upper
    arc of the unit circle, class 1 the lower arc shifted by (1, -0.5). ``n_samples``: total
    (class 0 gets ``n // 2``) or a pair ``(n_class0, n_class1)``. ``noise``: std of Gaussian
    noise added to each coordinate. Returns ``x`` float32 (n, 2), ``y`` int64 (n,)."""
    n_out, n_in = _two_counts("make_moons", n_samples)
    noise = _noise("make_moons", noise)
    rng = _rng(random_state)
    t_out, t_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n_in)
    x = np.vstack([
        np.column_stack([np.cos(t_out), np.sin(t_out)]),
        np.column_stack([1 - np.cos(t_in), 1 - np.sin(t_in) - 0.5]),
    ])
    y = np.concatenate([np.zeros(n_out, np.int64), np.ones(n_in, np.int64)])
    if shuffle:
        x, y = _shuffle(rng, x, y)
    if noise > 0:
        x = x + rng.normal(scale=noise, size=x.shape)
    return x.astype(np.float32), y


def make_circles(
    n_samples: int | tuple[int, int] = 100,
    *,
    shuffle: bool = True,
    noise: float | None = None,
    random_state: RandomState = None,
    factor: float = 0.8,
) -> tuple[np.ndarray, np.ndarray]:
    """A large circle (class 0, radius 1) around a small one (class 1, radius ``factor``,
    0 <= factor < 1), as scikit-learn's ``make_circles``. ``n_samples``: total (the outer
    circle gets ``n // 2``) or a pair ``(n_outer, n_inner)``. ``noise``: std of Gaussian
    noise added to each coordinate. Returns ``x`` float32 (n, 2), ``y`` int64 (n,)."""
    n_out, n_in = _two_counts("make_circles", n_samples)
    noise = _noise("make_circles", noise)
    factor = _float("make_circles", "factor", factor, 0.0, 1.0, hi_open=True)
    rng = _rng(random_state)
    t_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    t_in = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    x = np.vstack([
        np.column_stack([np.cos(t_out), np.sin(t_out)]),
        np.column_stack([np.cos(t_in) * factor, np.sin(t_in) * factor]),
    ])
    y = np.concatenate([np.zeros(n_out, np.int64), np.ones(n_in, np.int64)])
    if shuffle:
        x, y = _shuffle(rng, x, y)
    if noise > 0:
        x = x + rng.normal(scale=noise, size=x.shape)
    return x.astype(np.float32), y


def _low_rank(n_samples: int, n_features: int, effective_rank: float, tail_strength: float,
              rng: np.random.RandomState) -> np.ndarray:
    """A matrix whose singular values fall off like a bell (rank ~ ``effective_rank``) with
    a fat tail of weight ``tail_strength`` (scikit-learn's ``make_low_rank_matrix``)."""
    n = min(n_samples, n_features)
    u, _ = np.linalg.qr(rng.standard_normal((n_samples, n)))
    v, _ = np.linalg.qr(rng.standard_normal((n_features, n)))
    i = np.arange(n, dtype=np.float64)
    s = ((1 - tail_strength) * np.exp(-1.0 * (i / effective_rank) ** 2)
         + tail_strength * np.exp(-0.1 * i / effective_rank))
    return (u * s) @ v.T


def make_regression(
    n_samples: int = 100,
    n_features: int = 100,
    *,
    n_informative: int = 10,
    n_targets: int = 1,
    bias: float = 0.0,
    effective_rank: float | None = None,
    tail_strength: float = 0.5,
    noise: float = 0.0,
    shuffle: bool = True,
    coef: bool = False,
    random_state: RandomState = None,
) -> tuple[np.ndarray, np.ndarray] | tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A random linear regression problem (scikit-learn's ``make_regression``).

    ``x`` is standard normal (or low-rank with ``effective_rank``); only ``n_informative``
    features have non-zero coefficients, drawn from U(0, 100); ``y = x @ coef + bias`` plus
    Gaussian noise of std ``noise``. Returns ``x`` float32 (n_samples, n_features), ``y``
    float32 (n_samples,) or (n_samples, n_targets), and with ``coef=True`` also the true
    coefficients, float32 (n_features,) or (n_features, n_targets).
    """
    fn = "make_regression"
    n_samples = _int(fn, "n_samples", n_samples, 1)
    n_features = _int(fn, "n_features", n_features, 1)
    n_informative = min(_int(fn, "n_informative", n_informative, 0), n_features)
    n_targets = _int(fn, "n_targets", n_targets, 1)
    bias = _float(fn, "bias", bias)
    noise = _float(fn, "noise", noise, lo=0.0)
    tail_strength = _float(fn, "tail_strength", tail_strength, 0.0, 1.0)
    rng = _rng(random_state)
    if effective_rank is None:
        x = rng.standard_normal((n_samples, n_features))
    else:
        rank = _float(fn, "effective_rank", effective_rank, lo=0.0)
        if rank == 0:
            raise ValueError(f"{fn}: effective_rank must be > 0, got {effective_rank}")
        x = _low_rank(n_samples, n_features, rank, tail_strength, rng)

    truth = np.zeros((n_features, n_targets))
    truth[:n_informative] = 100 * rng.uniform(size=(n_informative, n_targets))
    y = x @ truth + bias
    if noise > 0.0:
        y += rng.normal(scale=noise, size=y.shape)
    if shuffle:
        x, y = _shuffle(rng, x, y)
        cols = _column_order(rng, n_features)
        x, truth = x[:, cols], truth[cols]
    if n_targets == 1:
        y, truth = y[:, 0], truth[:, 0]
    out = (x.astype(np.float32), y.astype(np.float32))
    return (*out, truth.astype(np.float32)) if coef else out
