"""The files `gradkit train` writes at the end of a run, and `report.html`: one static page
(no server, images embedded) with the settings, the results, the pictures, the per-epoch
table and every file of the run (its size and what it is); without matplotlib it says why
there are no charts and how to draw them later."""

from __future__ import annotations

import base64
import html
from pathlib import Path

import numpy as np

import gradkit as gk

from .. import viz
from ..callbacks.history import History
from ..nn import Conv2d, Module
from .common import CHECKPOINT_FILE, MODEL_FILE, RUN_FILE, note, readable, write_history, write_json
from .data import RunData
from .datacmd import human_size
from .stopping import patience_of

REPORT_FILE = "report.html"
#: What each file of a run folder is (the report's Files table, in this order).
FILE_ROLES = {
    MODEL_FILE: "the trained model, architecture + weights (gk.load, gradkit predict / evaluate)",
    CHECKPOINT_FILE: "model, optimizer, data order and random state after the last finished "
                     "epoch: gradkit train --resume continues from it",
    RUN_FILE: "settings, preprocessing (what gradkit predict repeats), results, these files",
    "history.csv": "per-epoch loss, accuracy, val_loss, val_accuracy, seconds (a spreadsheet)",
    "history.json": "the same per-epoch values as JSON lists",
    "curves.png": "training vs validation curves",
    "confusion.png": "the test set's confusion matrix",
    "misclassified.png": "misclassified test images",
    "filters.png": "the first convolution layer's filters",
    "feature_maps.png": "the feature maps of the first test image",
    REPORT_FILE: "this page",
}


def write_outputs(out: Path, model: Module, data: RunData, meta: dict, rows: list[dict],
                  history: History, results: dict, train_seconds: float) -> list[str]:
    """Model, history, pictures, run.json and report.html into `out`; returns every file of
    the run as "name (size)" (the checkpoint written during training included)."""
    written = [CHECKPOINT_FILE] if (out / CHECKPOINT_FILE).is_file() else []

    def done(name: str) -> None:
        readable(out / name)
        written.append(name)

    gk.save(model, out / MODEL_FILE)
    done(MODEL_FILE)
    write_history(out, rows)
    done("history.csv")
    done("history.json")
    scores = np.asarray(model.predict(data.x_test, batch_size=1024))
    y_pred = scores.argmax(axis=1)
    pictures, no_charts = _pictures(out, model, data, history, y_pred)
    for name in pictures.values():
        done(name)
    per_class = _per_class(data.y_test, y_pred, data.classes)
    meta = dict(meta)
    meta["results"] = {
        "test_loss": float(results["loss"]), "test_accuracy": float(results["accuracy"]),
        "epochs_done": len(rows), "train_seconds_this_session": round(train_seconds, 1),
        "overfit_epoch": None if history.overfit_epoch is None
        else int(history.overfit_epoch) + 1,
        "per_class_accuracy": per_class,
    }
    if no_charts:
        meta["results"]["charts_missing"] = no_charts
    if "best_weights" in meta:
        meta["results"]["best_weights"] = meta.pop("best_weights")
    if rows and "val_loss" in rows[-1]:
        best = min(rows, key=lambda r: r.get("val_loss", np.inf))
        meta["results"]["best_val_loss_epoch"] = best["epoch"]
    meta["files"] = _in_order(written + [RUN_FILE, REPORT_FILE])
    write_json(out / RUN_FILE, meta)
    (out / REPORT_FILE).write_text(render_report(out, meta, rows, pictures))
    return [f"{name} ({human_size((out / name).stat().st_size)})" for name in meta["files"]]


def _in_order(names: list[str]) -> list[str]:
    """`names` in the order of `FILE_ROLES` (model first), unknown names last."""
    order = list(FILE_ROLES)
    return sorted(names, key=lambda n: order.index(n) if n in order else len(order))


def _pictures(out: Path, model, data, history, y_pred) -> tuple[dict[str, str], str | None]:
    """(title -> file name of each PNG drawn, None) or, without matplotlib, ({}, why)."""
    try:
        viz.require_matplotlib()
    except ImportError as exc:
        why = f"{exc}, then run the same command again (see Reproduce)"
        note(f"no charts: {why}")
        return {}, why
    pics = {}
    if history.history:
        viz.plot_history(history, out / "curves.png")
        pics["Training and validation curves"] = "curves.png"
    viz.plot_confusion_matrix(data.y_test, y_pred, class_names=data.classes,
                              path=out / "confusion.png", title="test set")
    pics["Confusion matrix (test set)"] = "confusion.png"
    if data.image_shape is not None:
        viz.plot_misclassified(model, data.x_test, data.y_test, n=25,
                               path=out / "misclassified.png", class_names=data.classes,
                               image_shape=data.image_shape)
        pics["Misclassified test images (true → predicted)"] = "misclassified.png"
    if any(isinstance(m, Conv2d) for m in model.modules()):
        pics.update(_conv_pictures(out, model, data))
    return pics, None


def _conv_pictures(out: Path, model, data) -> dict[str, str]:
    """The first conv layer's filters and the feature maps of the first test image."""
    viz.plot_filters(model, out / "filters.png")
    label = data.classes[int(data.y_test[0])]
    viz.plot_feature_maps(model, data.x_test[0], out / "feature_maps.png",
                          title=f"feature maps of the first test image (a {label})")
    return {"Filters of the first convolution layer": "filters.png",
            f"Feature maps of the first test image ({label}) after each conv block":
                "feature_maps.png"}


def _per_class(y_true, y_pred, classes) -> dict[str, float]:
    out = {}
    for i, name in enumerate(classes):
        mask = y_true == i
        if mask.any():
            out[name] = round(float((y_pred[mask] == i).mean()), 4)
    return out


# ---- HTML -------------------------------------------------------------------------------------
_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto;
       max-width: 1100px; padding: 0 1em; color: #222; }
h1 { margin-bottom: 0.1em; } .sub { color: #666; margin-top: 0; }
.cards { display: flex; flex-wrap: wrap; gap: 1em; margin: 1.2em 0; }
.card { border: 1px solid #ddd; border-radius: 8px; padding: 0.8em 1.2em; min-width: 9em; }
.card .v { font-size: 1.7em; font-weight: 600; } .card .k { color: #666; font-size: 0.9em; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.92em; }
th, td { border: 1px solid #ddd; padding: 0.3em 0.7em; text-align: right; }
th { background: #f4f4f4; } td.l, th.l { text-align: left; }
tr.best td { background: #eef7ee; }
figure { margin: 1em 0 2em; } figcaption { color: #444; font-weight: 600; margin-bottom: .4em; }
img { max-width: 100%; border: 1px solid #eee; }
.warn { background: #fff4e0; border-left: 4px solid #f0a020; padding: 0.5em 1em; }
code { background: #f4f4f4; padding: 0 0.3em; border-radius: 3px; }
"""


def _img(out: Path, name: str) -> str:
    data = base64.b64encode((out / name).read_bytes()).decode()
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(name)}">'


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return ",".join(map(str, value)) if value else "none"
    return "" if value is None else str(value)


def render_report(out: Path, meta: dict, rows: list[dict], pictures: dict[str, str]) -> str:
    """The report page as HTML text (images embedded as base64, so the file stands alone)."""
    e = html.escape
    s, r = meta["settings"], meta.get("results", {})
    cards = [("test accuracy", f"{r.get('test_accuracy', float('nan')):.4f}"),
             ("test loss", f"{r.get('test_loss', float('nan')):.4f}"),
             ("epochs", str(r.get("epochs_done", len(rows)))),
             ("parameters", f"{meta.get('parameters', 0):,}")]
    if rows and "val_accuracy" in rows[-1]:
        cards.insert(2, ("last val accuracy", f"{rows[-1]['val_accuracy']:.4f}"))
    seconds = sum(row.get("seconds", 0.0) for row in rows)
    kind = "CNN" if s.get("model") == "cnn" else "MLP"
    cards.append(("training time", f"{seconds:.0f} s"))
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>gradkit run: {e(meta['dataset'])}</title><style>{_CSS}</style></head><body>",
        f"<h1>gradkit train — {e(meta['dataset'])}</h1>",
        f'<p class="sub">{e(meta["architecture"])} {kind} · {e(s["optimizer"])} '
        f'lr {s["lr"]:g} · '
        f'created {e(meta.get("created", ""))} · gradkit {e(meta.get("gradkit_version", ""))}'
        f" · folder <code>{e(str(out))}</code></p>",
        '<div class="cards">' + "".join(
            f'<div class="card"><div class="v">{e(v)}</div><div class="k">{e(k)}</div></div>'
            for k, v in cards) + "</div>",
    ]
    kept = r.get("best_weights")
    if kept:
        parts.append(f"<p>{e(_kept_text(kept))}</p>")
    if r.get("overfit_epoch"):
        remedy = ("its weights are the ones kept" if kept and kept.get("kept") == "best"
                  and kept.get("epoch") == r["overfit_epoch"]
                  else "try more dropout, fewer epochs or --patience")
        parts.append(f'<p class="warn">Overfitting: the validation loss was lowest at epoch '
                     f'{r["overfit_epoch"]} and rose afterwards while the training loss kept '
                     f"falling ({e(remedy)}).</p>")
    if r.get("charts_missing"):
        parts.append(f'<p class="warn">No charts: {e(r["charts_missing"])}.</p>')
    for title, name in pictures.items():
        parts.append(f"<figure><figcaption>{e(title)}</figcaption>{_img(out, name)}</figure>")
    parts.append("<h2>Per epoch</h2>" + _epoch_table(rows, r.get("best_val_loss_epoch")))
    parts.append("<h2>Settings</h2>" + _kv_table(
        [("dataset", meta["dataset"])] + [(k, _fmt(v) if v is not None else "all")
                                      for k, v in s.items()
                                      if k != "dataset" and (k != "channels" or v)]
        + [("samples (train / validation / test)",
            " / ".join(f"{meta['samples'][k]:,}" for k in ("train", "validation", "test")))]))
    if r.get("per_class_accuracy"):
        parts.append("<h2>Test accuracy per class</h2>" + _kv_table(
            [(k, f"{v:.4f}") for k, v in r["per_class_accuracy"].items()]))
    pre = meta.get("preprocessing", {})
    parts.append("<h2>Files</h2>" + _files_table(out, meta.get("files", []), kept))
    parts.append(f"<p>Preprocessing (applied again by <code>gradkit predict</code>): "
                 f"<code>{e(_fmt_pre(pre))}</code></p>")
    parts.append(f"<p>Reproduce: <code>{e(_command(meta))}</code></p></body></html>")
    return "\n".join(parts) + "\n"


def _fmt_pre(pre: dict) -> str:
    if pre.get("type") == "image":
        h, w = pre["image_shape"]
        layout = ("flattened" if pre.get("flatten", True)
                  else "as " + "x".join(map(str, pre.get("input_shape", [1, h, w]))))
        return (f"{h}x{w} grayscale image, pixels x / {pre['raw_max']:g}, {layout}; "
                f"{pre.get('ink', '')}")
    if pre.get("type") == "features":
        return f"features {', '.join(pre.get('feature_names', []))} standardised (x - mean) / std"
    return str(pre)


def _command(meta: dict) -> str:
    s = meta["settings"]
    parts = ["gradkit train", f"--dataset {s['dataset']}"]
    if s.get("model", "mlp") != "mlp":
        parts += [f"--model {s['model']}", f"--channels {_fmt(s['channels'])}"]
    parts += [f"--hidden {_fmt(s['hidden'])}",
             f"--activation {s['activation']}", f"--dropout {s['dropout']:g}",
             f"--epochs {s['epochs']}", f"--batch-size {s['batch_size']}",
             f"--optimizer {s['optimizer']}", f"--lr {s['lr']:g}", f"--seed {s['seed']}",
             f"--val-split {s['val_split']:g}", f"--patience {patience_of(s)}"]
    if s.get("train_size"):
        parts.append(f"--train-size {s['train_size']}")
    return " ".join(parts)


def _kept_text(kept: dict) -> str:
    if not kept.get("monitor"):
        why = ("early stopping was off (--patience 0)" if not kept.get("early_stopping")
               else "no epoch was trained in this session")
        return f"Weights kept: the last epoch's ({kept['epoch']}); {why}."
    n = kept["patience"]
    stop = (f" Training stopped early after epoch {kept['last_epoch']} ({n} epoch"
            f"{'' if n == 1 else 's'} without improvement)." if kept.get("stopped_early") else "")
    which = ("the last epoch's" if kept["epoch"] == kept["last_epoch"]
             else f"epoch {kept['epoch']}'s")
    return (f"Weights kept: {which} ({kept['monitor']} {kept['value']:.4f}, the lowest); the "
            f"test results above are theirs.{stop}")


def _files_table(out: Path, names: list[str], kept: dict | None) -> str:
    """Each file of the run: a link, its size and what it is."""
    rows = []
    for name in names:
        role = FILE_ROLES.get(name, "")
        if name == MODEL_FILE and kept and kept.get("kept") == "best" and kept.get(
                "epoch") != kept.get("last_epoch"):
            role += f"; epoch {kept['epoch']}'s weights (the best), not the last epoch's"
        path = out / name
        size = human_size(path.stat().st_size) if path.is_file() and name != REPORT_FILE else ""
        rows.append(f'<tr><td class="l"><a href="{html.escape(name)}">{html.escape(name)}</a>'
                    f'</td><td>{size}</td><td class="l">{html.escape(role)}</td></tr>')
    head = '<tr><th class="l">file</th><th>size</th><th class="l">what it is</th></tr>'
    return f"<table>{head}{''.join(rows)}</table>"


def _kv_table(items) -> str:
    body = "".join(f'<tr><th class="l">{html.escape(str(k))}</th><td class="l">'
                   f"{html.escape(str(v))}</td></tr>" for k, v in items)
    return f"<table>{body}</table>"


def _epoch_table(rows: list[dict], best_epoch) -> str:
    if not rows:
        return "<p>No epochs.</p>"
    keys: list[str] = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    head = "".join(f"<th>{html.escape(k)}</th>" for k in keys)
    body = []
    for r in rows:
        cls = ' class="best"' if r.get("epoch") == best_epoch else ""
        cells = "".join(f"<td>{html.escape(_fmt(r.get(k)))}</td>" for k in keys)
        body.append(f"<tr{cls}>{cells}</tr>")
    note_text = ("<p class=\"sub\">Highlighted: the epoch with the lowest validation loss.</p>"
                 if best_epoch else "")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>{note_text}"
