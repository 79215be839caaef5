"""Jupyter: fit's notebook bar (in a fake Jupyter environment, and in a real kernel through
nbclient), and no double output: one image per History.plot(), one table for a History."""

import contextlib
import io
import os
import sys
import types

import pytest

from gradkit import nn, optim
from gradkit.callbacks import History, ProgressBar, progress

METRICS = ("loss", "accuracy", "val_loss", "val_accuracy")


class Handle:
    """What IPython's display(..., display_id=True) returns: records each state shown."""

    def __init__(self, obj):
        self.updates = [obj]

    def update(self, obj):
        self.updates.append(obj)


class OutStream(io.StringIO):
    """Stands for ipykernel's stdout (ipykernel.iostream.OutStream)."""


OutStream.__module__ = "ipykernel.iostream"


@contextlib.contextmanager
def kernel_stdout():
    """sys.stdout as in a kernel, for the body of a test (pytest's capture replaces
    sys.stdout between a fixture and the test)."""
    saved, sys.stdout = sys.stdout, OutStream()
    try:
        yield sys.stdout
    finally:
        sys.stdout = saved


@pytest.fixture
def jupyter(monkeypatch):
    """A fake Jupyter kernel (with kernel_stdout): IPython's get_ipython giving a
    ZMQInteractiveShell, and IPython.display.display recording what is displayed. Returns
    the display handles."""
    handles = []

    class ZMQInteractiveShell:
        pass

    def display(obj, display_id=None):
        assert display_id is True  # the bar is updated in place
        handles.append(Handle(obj))
        return handles[-1]

    ipython = types.ModuleType("IPython")
    ipython.get_ipython = ZMQInteractiveShell
    shown = types.ModuleType("IPython.display")
    shown.display = display
    for name, module in (("IPython", ipython), ("IPython.display", shown),
                         ("ipykernel.zmqshell", types.ModuleType("ipykernel.zmqshell"))):
        monkeypatch.setitem(sys.modules, name, module)
    for var in [k for k in os.environ if k == "QT_API" or k.startswith("SPYDER")]:
        monkeypatch.delenv(var)
    monkeypatch.setattr(progress, "_notebook_tqdm", lambda: None)  # no ipywidgets
    return handles


def _fit(blobs, epochs=2, **kwargs):
    x, y = blobs
    model = nn.Sequential(nn.Linear(4, 3))
    model.compile(optim.SGD(model.parameters(), lr=0.1), "cross_entropy", ["accuracy"])
    return model.fit(x, y, epochs=epochs, batch_size=8, validation_split=0.2, **kwargs)


def test_what_counts_as_a_notebook(jupyter, monkeypatch):
    assert progress.in_notebook()
    monkeypatch.setenv("QT_API", "pyqt5")  # qtconsole and Spyder get plain lines
    assert not progress.in_notebook()
    monkeypatch.delenv("QT_API")
    monkeypatch.setattr(sys.modules["IPython"], "get_ipython", lambda: None)  # no shell
    assert not progress.in_notebook()
    monkeypatch.delitem(sys.modules, "ipykernel.zmqshell")  # not a kernel: IPython, python
    assert not progress.in_notebook()


def test_a_notebook_bar_per_epoch_and_nothing_printed(blobs, jupyter):
    assert progress.in_notebook()
    with kernel_stdout() as out:
        _fit(blobs, callbacks=[ProgressBar(refresh=0.0)])
    assert out.getvalue() == ""  # the bars only: no lines as well
    assert len(jupyter) == 2
    for epoch, handle in enumerate(jupyter, 1):
        assert len(handle.updates) > 2  # updated in place while the epoch runs
        final = handle.updates[-1]
        page, text = final._repr_html_(), repr(final)
        assert '<progress value="6" max="6"' in page and text.startswith(f"Epoch {epoch}/2 [")
        for name in METRICS:
            assert f"{name}: " in page and f"{name}: " in text
        assert "samples/s" in text
        live = handle.updates[-2]._repr_html_()  # a running state: no validation yet
        assert "loss: " in live and "val_loss" not in live


def test_the_notebook_bar_escapes_html(jupyter):
    bar = progress._HTMLBar(3, "<b>", lambda obj, display_id: Handle(obj))
    bar.set_postfix_str("a<b")
    assert "&lt;b&gt;" in bar._view()._repr_html_() and "a&lt;b" in bar._view()._repr_html_()


def test_tqdms_widget_when_ipywidgets_is_installed(blobs, jupyter, monkeypatch):
    made = []

    class Widget:
        def __init__(self, total, desc, unit, leave):
            self.total, self.desc, self.n, self.closed, self.postfix = total, desc, 0, 0, ""
            made.append(self)

        def update(self, k):
            self.n += k

        def set_postfix_str(self, text, refresh=True):
            self.postfix = text

        def close(self):
            self.closed += 1

    monkeypatch.setattr(progress, "_notebook_tqdm", lambda: Widget)
    with kernel_stdout():
        _fit(blobs, callbacks=[ProgressBar(refresh=0.0)])
    assert [w.desc for w in made] == ["Epoch 1/2", "Epoch 2/2"] and not jupyter
    assert all(w.n == w.total == 6 and w.closed == 1 for w in made)
    assert all(f"{name}: " in made[-1].postfix for name in METRICS)


@pytest.mark.parametrize("case", ["verbose=2", "a stream", "redirected", "qtconsole"])
def test_plain_lines_in_jupyter_when_asked_or_elsewhere(blobs, jupyter, monkeypatch, case):
    """verbose=2, a stream of one's own, a redirected stdout, qtconsole: plain lines."""
    stream = io.StringIO()
    if case == "qtconsole":
        monkeypatch.setenv("QT_API", "pyqt5")
    with kernel_stdout() as out:
        if case == "a stream":
            _fit(blobs, callbacks=[ProgressBar(stream=stream)])
            out = stream
        elif case == "redirected":
            with contextlib.redirect_stdout(stream):
                _fit(blobs)
            out = stream
        else:
            _fit(blobs, verbose=2 if case == "verbose=2" else 1)
    text = out.getvalue()
    assert not jupyter and "\r" not in text and len(text.splitlines()) == 2


def test_history_html_table():
    h = History()
    assert "no epochs" in h._repr_html_()
    for epoch, (loss, acc, val) in enumerate([(0.9, 0.5, 0.8), (0.5, 0.7, 0.6),
                                             (0.3, 0.8, 0.7)]):
        h.on_epoch_end(epoch, {"loss": loss, "accuracy": acc, "val_loss": val, "lr": 0.01})
    assert h.best("val_loss") == (1, 0.6) and h.best("accuracy") == (2, 0.8)
    assert h.best("missing") is None
    page = h._repr_html_()
    assert page.count("<table>") == 1 and "3 epochs" in page
    assert "<th>val_loss</th>" in page and "last (epoch 3)" in page
    rows = page.split("<tr>")[2:]
    assert "<td>0.7000</td>" in rows[0] and "<td>0.0100</td>" not in rows[0]  # last: lr 0.01
    assert "<td>0.6000</td>" in rows[1] and "<td>0.8000</td>" in rows[1]  # best val_loss, acc
    assert rows[2].count("<td>2</td>") == 1 and rows[2].count("<td>3</td>") == 2  # epochs
    h.overfit_epoch = 1
    assert "lowest at epoch 2" in h._repr_html_()


def test_plot_outside_jupyter_leaves_the_figure_to_pyplot(blobs):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = _fit(blobs, verbose=0).plot()
    assert plt.fignum_exists(fig.number) and not hasattr(fig, "_ipython_display_")
    plt.close(fig)


CELLS = [
    """import numpy as np
from gradkit import nn, optim
rng = np.random.default_rng(0)
x = rng.normal(size=(60, 4)).astype(np.float32)
y = rng.integers(0, 3, 60)
model = nn.Sequential(nn.Linear(4, 3))
model.compile(optim.SGD(model.parameters(), lr=0.1), "cross_entropy", ["accuracy"])
history = model.fit(x, y, epochs=2, batch_size=8, validation_split=0.2)""",
    "history.plot()",
    "fig = history.plot()",
    "history.plot();",
    """import matplotlib.pyplot as plt
history.plot(); plt.show()
plt.figure(); plt.plot([1, 2]); plt.show()""",
    "history",
]


def _images(cell):
    return [o["data"]["text/plain"] for o in cell.outputs if "image/png" in o.get("data", {})]


def test_in_a_real_notebook(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    pytest.importorskip("matplotlib")
    from nbclient import NotebookClient

    monkeypatch.delenv("MPLBACKEND", raising=False)  # Jupyter's own (inline) backend
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(var, "1")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in sys.path if p))
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    fit, plot, assigned, quiet, shown, table = nb.cells
    assert [o.output_type for o in fit.outputs] == ["display_data"] * 2  # no stream lines
    for epoch, out in enumerate(fit.outputs, 1):
        assert "<progress" in out.data["text/html"]
        assert out.data["text/plain"].startswith(f"Epoch {epoch}/2 [")
        assert all(f"{name}: " in out.data["text/plain"] for name in METRICS)
    for cell in (plot, assigned, quiet):  # once, whether or not it is the cell's value
        assert len(cell.outputs) == 1 and len(_images(cell)) == 1, cell.source
    images = _images(shown)
    assert len(shown.outputs) == 2 and "2 Axes" in images[0] and "1 Axes" in images[1]
    assert len(table.outputs) == 1 and table.outputs[0].output_type == "execute_result"
    assert "<table>" in table.outputs[0].data["text/html"]
    assert table.outputs[0].data["text/plain"].startswith("History(epochs=2")
