"""TensorDataset and Subset: storage dtypes, indexing, batched gathers, errors."""

from __future__ import annotations

import numpy as np
import pytest

import gradkit as gk
from gradkit.data import Dataset, Subset, TensorDataset


def test_dataset_is_abstract():
    with pytest.raises(TypeError):
        Dataset()

    class NoLen(Dataset):
        def __getitem__(self, i):
            return i

    with pytest.raises(TypeError):
        NoLen()


def test_tensor_dataset_getitem_and_len(xy):
    x, y = xy
    ds = TensorDataset(x, y)
    assert len(ds) == 23
    xi, yi = ds[4]
    np.testing.assert_array_equal(xi, x[4])
    assert yi == 4
    np.testing.assert_array_equal(ds[-1][0], x[-1])
    with pytest.raises(IndexError):
        ds[23]


def test_tensor_dataset_single_array_items_are_1_tuples(xy):
    ds = TensorDataset(xy[0])
    item = ds[0]
    assert isinstance(item, tuple) and len(item) == 1


def test_float64_stored_as_float32_other_dtypes_kept():
    f64 = np.ones((4, 2))
    u8 = np.zeros((4, 28, 28), dtype=np.uint8)
    i32 = np.arange(4, dtype=np.int32)
    b = np.array([True, False, True, False])
    ds = TensorDataset(f64, u8, i32, b, [0.5, 1.5, 2.5, 3.5], [1, 2, 3, 4])
    assert [a.dtype for a in ds.arrays] == [
        np.float32, np.uint8, np.int32, np.bool_, np.float32, np.int64,
    ]


def test_arrays_are_stored_without_copy_when_possible(xy):
    x, y = xy
    ds = TensorDataset(x, y)
    assert ds.arrays[0] is x and ds.arrays[1] is y


def test_tensors_accepted_and_keep_their_dtype():
    t64 = gk.tensor(np.ones((3, 2)), dtype="float64", requires_grad=True)
    ds = TensorDataset(t64, gk.tensor([1, 2, 3]))
    assert ds.arrays[0].dtype == np.float64  # an explicit float64 Tensor is respected
    assert isinstance(ds.arrays[0], np.ndarray)
    assert ds.arrays[1].dtype == np.int64


def test_non_contiguous_input_is_made_contiguous():
    x = np.arange(40, dtype=np.float32).reshape(4, 10)[:, ::2]
    ds = TensorDataset(x)
    assert ds.arrays[0].flags.c_contiguous
    np.testing.assert_array_equal(ds.arrays[0], x)


def test_length_mismatch_error_names_the_lengths():
    with pytest.raises(ValueError, match=r"same first dimension.*\[100, 99\]"):
        TensorDataset(np.zeros((100, 2)), np.zeros(99))


@pytest.mark.parametrize(
    "args, exc, msg",
    [
        ((), ValueError, "at least one array"),
        ((np.float32(3.0),), ValueError, "scalar"),
        (([[1, 2], [3]],), TypeError, "ragged"),
        (([object(), object()],), TypeError, "not numeric"),
    ],
)
def test_tensor_dataset_errors(args, exc, msg):
    with pytest.raises(exc, match=msg):
        TensorDataset(*args)


def test_getitems_is_one_fancy_index_per_field(xy):
    x, y = xy
    ds = TensorDataset(x, y)
    idx = np.array([5, 0, 22, 5])
    xb, yb = ds.__getitems__(idx)
    np.testing.assert_array_equal(xb, x[idx])
    np.testing.assert_array_equal(yb, y[idx])
    assert xb.dtype == np.float32 and yb.dtype == np.int64


def test_subset_indexing(xy):
    x, y = xy
    ds = TensorDataset(x, y)
    sub = Subset(ds, [3, 7, -1])
    assert len(sub) == 3
    assert sub[0][1] == 3 and sub[2][1] == 22
    np.testing.assert_array_equal(sub.indices, [3, 7, 22])
    assert sub.indices.dtype == np.int64


def test_subset_batched_gather_matches_per_sample(xy):
    x, y = xy
    sub = Subset(TensorDataset(x, y), np.array([10, 2, 9, 4, 4]))
    idx = np.array([4, 0, 2])
    xb, yb = sub.__getitems__(idx)
    np.testing.assert_array_equal(yb, [4, 10, 9])
    np.testing.assert_array_equal(xb, np.stack([sub[i][0] for i in idx]))


def test_subset_of_generic_dataset_and_nested_subsets(list_dataset):
    base = list_dataset([(np.full(2, i, np.float32), i) for i in range(10)])
    sub = Subset(Subset(base, [9, 8, 7, 6]), [3, 0])
    xb, yb = sub.__getitems__(np.array([0, 1]))
    np.testing.assert_array_equal(yb, [6, 9])
    np.testing.assert_array_equal(xb, [[6, 6], [9, 9]])


def test_subset_errors(xy):
    ds = TensorDataset(*xy)
    with pytest.raises(IndexError, match="index 23 is out of range.*23 samples"):
        Subset(ds, [0, 23])
    with pytest.raises(IndexError, match="-24"):
        Subset(ds, [-24])
    with pytest.raises(TypeError, match="1-D sequence of ints"):
        Subset(ds, [0.5, 1.0])
    with pytest.raises(TypeError, match="1-D sequence of ints"):
        Subset(ds, np.ones(23, dtype=bool))
    assert len(Subset(ds, [])) == 0
