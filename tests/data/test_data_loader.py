"""DataLoader: batching, shapes and dtypes, shuffling, reproducibility, generic datasets."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gradkit as gk
from gradkit.data import DataLoader, Subset, TensorDataset


def _labels(loader) -> np.ndarray:
    return np.concatenate([yb.numpy() for _, yb in loader])


def test_batches_are_tensors_with_stored_dtypes(xy):
    x, y = xy
    u8 = np.arange(23 * 4, dtype=np.uint8).reshape(23, 2, 2)
    batches = list(DataLoader(TensorDataset(x, y, u8), batch_size=5))
    assert len(batches) == 5
    xb, yb, ub = batches[0]
    assert all(isinstance(t, gk.Tensor) for t in batches[0])
    assert (xb.shape, xb.dtype) == ((5, 3), np.float32)
    assert (yb.shape, yb.dtype) == ((5,), np.int64)
    assert (ub.shape, ub.dtype) == ((5, 2, 2), np.uint8)
    assert not xb.requires_grad
    np.testing.assert_array_equal(xb.numpy(), x[:5])


def test_float64_input_comes_out_float32():
    x = np.random.default_rng(0).normal(size=(8, 2))
    (xb,) = next(iter(DataLoader(TensorDataset(x), batch_size=4)))
    assert xb.dtype == np.float32
    np.testing.assert_allclose(xb.numpy(), x[:4], rtol=1e-6)


def test_last_partial_batch_and_drop_last(xy):
    ds = TensorDataset(*xy)
    sizes = [len(yb) for _, yb in DataLoader(ds, batch_size=5)]
    assert sizes == [5, 5, 5, 5, 3]
    sizes = [len(yb) for _, yb in DataLoader(ds, batch_size=5, drop_last=True)]
    assert sizes == [5, 5, 5, 5]
    assert len(list(DataLoader(ds, batch_size=23, drop_last=True))) == 1
    assert len(list(DataLoader(ds, batch_size=100))) == 1


@pytest.mark.parametrize("bs, drop_last, expected", [
    (1, False, 23), (5, False, 5), (5, True, 4), (23, False, 1), (23, True, 1), (24, False, 1),
])
def test_len_is_number_of_batches(xy, bs, drop_last, expected):
    loader = DataLoader(TensorDataset(*xy), batch_size=bs, drop_last=drop_last)
    assert len(loader) == expected == len(list(loader))


def test_no_shuffle_keeps_order(xy):
    loader = DataLoader(TensorDataset(*xy), batch_size=4)
    assert _labels(loader).tolist() == list(range(23))
    assert _labels(loader).tolist() == list(range(23))


def test_shuffle_covers_every_index_once_and_epochs_differ(xy):
    loader = DataLoader(TensorDataset(*xy), batch_size=4, shuffle=True, seed=0)
    epochs = [_labels(loader) for _ in range(3)]
    for e in epochs:
        assert sorted(e.tolist()) == list(range(23))
    assert e.tolist() != list(range(23))
    assert epochs[0].tolist() != epochs[1].tolist() != epochs[2].tolist()


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 50), bs=st.integers(1, 60), drop_last=st.booleans(),
       shuffle=st.booleans())
def test_every_index_at_most_once_and_all_when_keeping_last(n, bs, drop_last, shuffle):
    if drop_last and bs > n:
        return  # refused at construction (tested below)
    loader = DataLoader(TensorDataset(np.arange(n)), batch_size=bs, shuffle=shuffle,
                        drop_last=drop_last, seed=1)
    seen = np.concatenate([b.numpy() for (b,) in loader])
    assert len(np.unique(seen)) == len(seen) == (n // bs * bs if drop_last else n)
    assert len(loader) == -(-len(seen) // bs)


def test_seed_makes_the_epoch_sequence_reproducible(xy):
    def run(seed):
        loader = DataLoader(TensorDataset(*xy), batch_size=4, shuffle=True, seed=seed)
        return [_labels(loader).tolist() for _ in range(3)]

    assert run(7) == run(7)
    assert run(7) != run(8)


def test_manual_seed_makes_unseeded_loaders_reproducible(xy):
    def run():
        loader = DataLoader(TensorDataset(*xy), batch_size=4, shuffle=True)
        return [_labels(loader).tolist() for _ in range(2)]

    gk.manual_seed(5)
    a, b = run(), run()
    gk.manual_seed(5)
    assert run() == a
    assert a != b  # each loader draws a fresh seed from the global generator


def test_generic_dataset_path_equals_array_path(xy, list_dataset):
    x, y = xy
    generic = list_dataset([(x[i], int(y[i])) for i in range(len(y))])
    fast = TensorDataset(x, y)
    for shuffle in (False, True):
        kw = {"batch_size": 6, "shuffle": shuffle, "seed": 3}
        for (gx, gy), (fx, fy) in zip(DataLoader(generic, **kw), DataLoader(fast, **kw),
                                      strict=True):
            assert (gx.dtype, gy.dtype) == (fx.dtype, fy.dtype)
            np.testing.assert_array_equal(gx.numpy(), fx.numpy())
            np.testing.assert_array_equal(gy.numpy(), fy.numpy())


def test_subset_of_tensor_dataset_in_loader(xy):
    sub = Subset(TensorDataset(*xy), [20, 1, 5, 7, 3])
    assert _labels(DataLoader(sub, batch_size=2)).tolist() == [20, 1, 5, 7, 3]
    shuffled = _labels(DataLoader(sub, batch_size=2, shuffle=True, seed=0))
    assert sorted(shuffled.tolist()) == [1, 3, 5, 7, 20]


def test_single_array_items_give_a_batched_tensor(list_dataset):
    ds = list_dataset([np.full(3, i, np.float32) for i in range(5)])
    batches = list(DataLoader(ds, batch_size=2))
    assert isinstance(batches[0], gk.Tensor) and batches[0].shape == (2, 3)
    assert batches[-1].shape == (1, 3)


def test_dict_and_tuple_items(list_dataset):
    ds = list_dataset(
        [{"image": np.full((2, 2), i, np.uint8), "label": i, "meta": (i * 0.5, f"s{i}")}
         for i in range(5)]
    )
    batch = next(iter(DataLoader(ds, batch_size=3)))
    assert set(batch) == {"image", "label", "meta"}
    assert batch["image"].shape == (3, 2, 2) and batch["image"].dtype == np.uint8
    assert batch["label"].dtype == np.int64 and batch["label"].tolist() == [0, 1, 2]
    weights, names = batch["meta"]
    assert weights.dtype == np.float32 and weights.tolist() == [0.0, 0.5, 1.0]
    assert names == ["s0", "s1", "s2"]


def test_collate_fn_gets_the_list_of_samples(xy):
    seen = []

    def collate(samples):
        seen.append(len(samples))
        return np.stack([s[0] for s in samples]) * 2

    out = list(DataLoader(TensorDataset(*xy), batch_size=10, collate_fn=collate))
    assert seen == [10, 10, 3]
    assert isinstance(out[0], gk.Tensor)  # arrays a collate_fn returns become Tensors
    np.testing.assert_array_equal(out[0].numpy(), xy[0][:10] * 2)


@pytest.mark.parametrize("bs", [0, -1, 2.0, "4", None, True])
def test_bad_batch_size(xy, bs):
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        DataLoader(TensorDataset(*xy), batch_size=bs)


def test_numpy_int_batch_size(xy):
    assert len(DataLoader(TensorDataset(*xy), batch_size=np.int64(5))) == 5


def test_empty_dataset_error(list_dataset):
    with pytest.raises(ValueError, match="dataset is empty"):
        DataLoader(list_dataset([]), batch_size=2)
    with pytest.raises(ValueError, match="dataset is empty"):
        DataLoader(TensorDataset(np.zeros((0, 3))))


def test_drop_last_with_too_few_samples_is_refused(xy):
    with pytest.raises(ValueError, match="gives no batches"):
        DataLoader(TensorDataset(*xy), batch_size=24, drop_last=True)


def test_bad_arguments(xy):
    ds = TensorDataset(*xy)
    with pytest.raises(TypeError, match="seed"):
        DataLoader(ds, shuffle=True, seed="0")
    with pytest.raises(ValueError, match="shuffle=True or a sampler"):
        DataLoader(ds, shuffle=True, sampler=range(23))
    with pytest.raises(TypeError, match="__iter__ and __len__"):
        DataLoader(ds, sampler=5)
    with pytest.raises(gk.DeviceError):
        DataLoader(ds, device="tpu")


def test_device_cpu_is_a_no_op(xy):
    (xb, _) = next(iter(DataLoader(TensorDataset(*xy), batch_size=4, device="cpu")))
    assert xb.device == "cpu"


@pytest.mark.skipif(not gk.cuda.is_available(), reason="needs a CUDA GPU and CuPy")
def test_device_cuda_moves_batches(xy):  # pragma: no cover - needs a GPU
    loader = DataLoader(TensorDataset(*xy), batch_size=4, shuffle=True, seed=0, device="cuda")
    xb, yb = next(iter(loader))
    assert xb.device == yb.device == "cuda:0"
    gpu = DataLoader(TensorDataset(gk.tensor(xy[0], device="cuda"), xy[1]), batch_size=4,
                     shuffle=True, seed=0)
    gx, gy = next(iter(gpu))
    assert gx.device == "cuda:0" and gy.device == "cpu"
    np.testing.assert_array_equal(gx.numpy(), xb.numpy())


def test_repr(xy):
    assert "batches=5" in repr(DataLoader(TensorDataset(*xy), batch_size=5))


def test_read_only_views_for_unshuffled_numpy_batches():
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    y = np.arange(10)
    views = DataLoader(TensorDataset(x, y), batch_size=4, read_only_views=True)
    batches = list(views)
    assert [len(xb) for xb, _ in batches] == [4, 4, 2]
    for i, (xb, yb) in enumerate(batches):
        assert np.shares_memory(xb.data, x) and not xb.data.flags.writeable
        np.testing.assert_array_equal(xb.numpy(), x[4 * i:4 * i + 4])
        np.testing.assert_array_equal(yb.numpy(), y[4 * i:4 * i + 4])
    with pytest.raises(ValueError, match="read-only"):
        batches[0][0].data[0, 0] = -1  # the dataset cannot be changed through a batch
    assert x[0, 0] == 0
    copies = DataLoader(TensorDataset(x, y), batch_size=4)  # the default: fresh arrays
    xb, _ = next(iter(copies))
    assert not np.shares_memory(xb.data, x) and xb.data.flags.writeable
    shuffled = DataLoader(TensorDataset(x, y), batch_size=4, shuffle=True, seed=0,
                          read_only_views=True)  # a permutation is gathered, as before
    xb, _ = next(iter(shuffled))
    assert not np.shares_memory(xb.data, x)


def test_predict_and_evaluate_read_views_and_give_the_same_numbers():
    from gradkit import nn

    x = np.random.default_rng(0).standard_normal((50, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    model.compile(optimizer="sgd", loss="cross_entropy", metrics=["accuracy"])
    want = model(gk.tensor(x)).numpy()
    np.testing.assert_allclose(model.predict(x, batch_size=16), want, rtol=1e-6)
    logs = model.evaluate(x, y, batch_size=16, verbose=0)
    ref = gk.nn.functional.cross_entropy(gk.tensor(want), gk.tensor(y)).item()
    assert abs(logs["loss"] - ref) < 1e-5
    x_before = x.copy()
    model.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0)
    np.testing.assert_array_equal(x, x_before)
