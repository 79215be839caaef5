"""CSVLogger rows and TensorBoard event files (read back record by record)."""

import csv
import struct

import pytest

from gradkit import nn, optim
from gradkit.callbacks import CSVLogger, TensorBoard


def _fit(blobs, callbacks, epochs=3, **kwargs):
    x, y = blobs
    model = nn.Sequential(nn.Linear(4, 3))
    model.compile(optim.SGD(model.parameters(), lr=0.1), "cross_entropy", ["accuracy"])
    return model.fit(x, y, epochs=epochs, batch_size=16, validation_split=0.25, verbose=0,
                     callbacks=callbacks, **kwargs)


def test_csv_logger(blobs, tmp_path):
    path = tmp_path / "logs" / "train.csv"
    history = _fit(blobs, [CSVLogger(path)])
    rows = list(csv.DictReader(path.read_text().splitlines()))
    assert list(rows[0]) == ["epoch", "accuracy", "loss", "lr", "val_accuracy", "val_loss"]
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    assert [float(r["val_loss"]) for r in rows] == pytest.approx(history.history["val_loss"])
    _fit(blobs, [CSVLogger(path, separator=";", append=True)], epochs=2)
    lines = path.read_text().splitlines()
    assert len(lines) == 1 + 3 + 2 and lines[-1].count(";") == 5


def _records(path):
    """The payloads of a TFRecord file, checking the framing and both CRCs."""
    from tensorboardX.crc32c import crc32c

    def masked(data):
        crc = crc32c(data)
        return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF

    data, out, pos = path.read_bytes(), [], 0
    while pos < len(data):
        header = data[pos:pos + 8]
        (length,) = struct.unpack("<Q", header)
        (header_crc,) = struct.unpack("<I", data[pos + 8:pos + 12])
        assert header_crc == masked(header)
        body = data[pos + 12:pos + 12 + length]
        (body_crc,) = struct.unpack("<I", data[pos + 12 + length:pos + 16 + length])
        assert body_crc == masked(body)
        out.append(body)
        pos += 16 + length
    return out


def _scalars(folder):
    from tensorboardX.proto.event_pb2 import Event

    files = sorted(folder.glob("events.out.tfevents.*"))
    assert len(files) == 1
    found = {}
    for record in _records(files[0]):
        event = Event.FromString(record)
        for value in event.summary.value:
            found.setdefault(value.tag, []).append((event.step, value.simple_value))
    return found


def test_tensorboard_event_files(blobs, tmp_path):
    pytest.importorskip("tensorboardX")
    history = _fit(blobs, [TensorBoard(tmp_path)])
    train, val = _scalars(tmp_path / "train"), _scalars(tmp_path / "validation")
    assert set(train) == {"epoch_loss", "epoch_accuracy", "epoch_lr"}
    assert set(val) == {"epoch_loss", "epoch_accuracy"}
    assert [s for s, _ in val["epoch_loss"]] == [0, 1, 2]
    assert [v for _, v in val["epoch_loss"]] == pytest.approx(history.history["val_loss"],
                                                              rel=1e-6)
