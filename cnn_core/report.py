"""``cnn-core report``: every experiment of the notes in one self-contained HTML page,
its numbers set beside the ones the course's notebooks print::

    from cnn_core.report import run_report
    run_report("out", "path/to/catvnoncat")      # -> "out/report.html"

The figures are embedded as PNG ``data:`` URIs, so the page is the only file. The
report draws with matplotlib and runs the scikit-learn baseline and the parallel study
(joblib): it needs the ``cli`` extra, ``pip install "cnn_core[cli]"``.
"""
from __future__ import annotations

import base64
import dataclasses
import datetime
import html
import io
import math
import os
import sys

import numpy as np

from cnn_core import experiments, plotting
from cnn_core._backend import resolve_backend
from cnn_core._optional import require

__all__ = ["PUBLISHED", "Published", "Row", "tolerance_of", "agrees",
           "plot_hidden_layer_sweep", "run_report"]

#: Grid step of the decision boundaries: the notes' 0.01 draws the same picture 4x slower.
BOUNDARY_STEP = 0.02
CAT_FILES = ("train_catvnoncat.h5", "test_catvnoncat.h5")
EXTRA_DATASETS = ("noisy_circles", "noisy_moons", "blobs", "gaussian_quantiles")
CAT_MODELS = (("logistic", "cat: logistic regression"), ("shallow", "cat: two-layer network"),
              ("deep", "cat: L-layer network"))
TANH = ["tanh", "sigmoid"]
#: The optional modules :func:`run_report` checks for before it starts, all in the ``cli``
#: extra (h5py, for the cat files, is asked for by :mod:`cnn_core.datasets` when they are
#: read, also before any experiment runs).
NEEDS = ("matplotlib.pyplot", "sklearn", "joblib")


@dataclasses.dataclass(frozen=True)
class Published:
    """A number as a course notebook printed it (``text``), the ``tolerance`` within which
    a measurement agrees with it, and a ``note`` on how to read it."""

    text: str
    tolerance: float
    note: str = ""
    truncated: bool = False  # printed with %d: any value in [text, text + 1) prints so

    @property
    def value(self):
        return float(self.text)


def tolerance_of(text):
    """Half a unit of the last printed digit of ``text``: 5e-07 for "0.693147", 0.5 for "47"."""
    decimals = len(text.split(".")[1]) if "." in text else 0
    return 0.5 * 10.0 ** -decimals


def _printed(text, tolerance=None, note="", truncated=False):
    if truncated:
        tolerance = 1.0
    return Published(text, tolerance_of(text) if tolerance is None else tolerance, note,
                     truncated)


def agrees(measured, published):
    """True when ``|measured - published.value| <= published.tolerance``.

    A slack of 1e-9 of the tolerance absorbs binary rounding of decimal numbers
    (0.6931475 - 0.693147 is not exactly 5e-07 in floating point). A number the course
    printed with ``%d`` agrees when it truncates to the printed integer."""
    if published.truncated:
        return published.value <= measured < published.value + 1
    return abs(measured - published.value) <= published.tolerance * (1 + 1e-9)


_TRUNCATED = "printed with %d, which truncates: {0} to {0}.99 all print as {0}"
_FULL = ("printed to 17 digits: agreement is taken to 1e-15, a few units of float64 "
         "rounding, by which the NumPy and Cython backends' sums already differ")
# The numbers the course's notebooks print in their outputs, as printed (the text sets the
# tolerance): "Planar data classification with one hidden layer" (planar, hidden-layer
# study), "Logistic Regression with a Neural Network mindset" (cat: logistic regression,
# in percent) and "Deep Neural Network - Application" (two-layer and L-layer, fractions).
PUBLISHED = {
    ("planar", "logistic regression: train accuracy (%)"):
        _printed("47", note=_TRUNCATED.format(47), truncated=True),
    ("planar", "4-unit tanh network: train accuracy (%)"):
        _printed("90", note=_TRUNCATED.format(90), truncated=True),
    # Printed with "{}" from multiples of 0.25 %: two decimals at most.
    **{("hidden-layer study", f"{n} hidden units: train accuracy (%)"): _printed(text, 0.005)
       for n, text in [(1, "67.5"), (2, "67.25"), (3, "90.75"), (4, "90.5"), (5, "91.25"),
                       (10, "90.25"), (20, "90.5")]},
    ("cat: logistic regression", "cost at iteration 0"): _printed("0.693147"),
    ("cat: logistic regression", "cost at iteration 1900"): _printed("0.140872"),
    ("cat: logistic regression", "train accuracy (%)"): _printed("99.04306220095694"),
    ("cat: logistic regression", "test accuracy (%)"): _printed("70.0"),
    ("cat: two-layer network", "cost at iteration 0"):
        _printed("0.6930497356599888", 1e-15, note=_FULL),
    ("cat: two-layer network", "cost at iteration 2400"):
        _printed("0.048554785628770206", 1e-15, note=_FULL),
    ("cat: two-layer network", "train accuracy (fraction)"): _printed("1.0"),
    ("cat: two-layer network", "test accuracy (fraction)"): _printed("0.72"),
    ("cat: L-layer network", "cost at iteration 0"): _printed("0.771749"),
    ("cat: L-layer network", "cost at iteration 2400"): _printed("0.092878"),
    ("cat: L-layer network", "train accuracy (fraction)"): _printed("0.985645933014"),
    ("cat: L-layer network", "test accuracy (fraction)"): _printed("0.8"),
}


@dataclasses.dataclass
class Row:
    """One number of the summary; ``measured`` is None when the experiment did not run."""

    experiment: str
    quantity: str
    measured: float | None

    def __post_init__(self):
        if self.measured is not None:  # a plain float: its repr is what the page shows
            self.measured = float(self.measured)

    @property
    def published(self):
        """The :class:`Published` number, or None where the course publishes nothing."""
        return PUBLISHED.get((self.experiment, self.quantity))

    def cells(self):
        """The summary table's cells as text."""
        published, measured = self.published, self.measured
        if published is not None:
            tolerance = (f"[{published.text}, {int(published.value) + 1})"
                         if published.truncated else f"{published.tolerance:.1g}")
        if published is None:
            return [self.experiment, self.quantity, repr(measured)] + ["—"] * 4 + [""]
        if measured is None:
            return [self.experiment, self.quantity, "not run", published.text,
                    tolerance, "—", "—", published.note]
        return [self.experiment, self.quantity, repr(measured), published.text,
                tolerance, f"{measured - published.value:+.2g}",
                "✓" if agrees(measured, published) else "no", published.note]


def _table(headers, rows, table_id=None):
    """An HTML table of escaped text."""
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>"
                   for row in rows)
    ident = f' id="{table_id}"' if table_id else ""
    return f"<table{ident}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _embed(fig, alt):
    """``fig`` as an ``<img>`` holding its PNG inline; the figure is closed."""
    plt = require("matplotlib.pyplot", "plot", "cnn_core.report")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


def _predictor(parameters, activations, backend):
    """A ``predict_fn`` for the boundary plots: points as rows in, 0/1 labels out."""
    return lambda points: experiments.predict_proba(parameters, activations, points.T,
                                                    backend=backend) > 0.5


def _boundary(predict_fn, data, title):
    ax = plotting.plot_decision_boundary(predict_fn, data.X, data.Y, h=BOUNDARY_STEP)
    ax.set_title(title)
    return _embed(ax.figure, title)


def _costs(run, label):
    ax = plotting.plot_costs(run.costs, run.settings["learning_rate"], every=run.cost_every)
    return _embed(ax.figure, f"cost curve of the {label}")


def _percent(run, X, Y, backend):
    """The planar notes' accuracy in percent of ``run``'s model on ``X``, ``Y``."""
    probabilities = experiments.predict_proba(run.parameters, run.metadata["activations"], X,
                                              backend=backend)
    return experiments.notes_accuracy_percent(Y, probabilities > 0.5)


def plot_hidden_layer_sweep(result, h=BOUNDARY_STEP):
    """The notes' figure of the hidden-layer study: one decision-boundary panel per size,
    titled ``Hidden Layer of size n``, on their 5 x 2 grid (more rows for more sizes).

    Returns the Figure (the caller saves and closes it).
    """
    plt = require("matplotlib.pyplot", "plot", "cnn_core.report.plot_hidden_layer_sweep")
    rows = max(5, math.ceil(len(result.hidden_sizes) / 2))
    fig = plt.figure(figsize=(10, 4 * rows), layout="constrained")  # titles clear of labels
    for i, (n_h, parameters) in enumerate(zip(result.hidden_sizes, result.parameters)):
        ax = fig.add_subplot(rows, 2, i + 1)
        ax.set_title(f"Hidden Layer of size {n_h}")
        plotting.plot_decision_boundary(_predictor(parameters, TANH, None), result.data.X,
                                        result.data.Y, ax=ax, h=h)
    return fig


def _planar_section(backend, stream):
    """The planar flower: returns (HTML, rows)."""
    data = experiments.load_data("planar")
    clf, lr = experiments.sklearn_logistic_regression(data.X, data.Y)
    figures = [_embed(plotting.plot_data(data.X, data.Y).figure, "the planar flower data"),
               _boundary(clf.predict, data, "Logistic Regression")]
    # Reloaded: load_planar_dataset reseeds, so the network draws as in the notes.
    run = experiments.train(experiments.load_data("planar"), "shallow", backend=backend)
    nn = _percent(run, data.X, data.Y, backend)
    figures += [_boundary(_predictor(run.parameters, TANH, backend), data,
                          "Decision Boundary for hidden layer size 4"),
                _costs(run, "4-unit tanh network")]
    print(f"planar: logistic regression {lr} %, 4-unit tanh network {nn} %", file=stream)
    text = (f"<p>scikit-learn's LogisticRegressionCV: {lr} %. The notes' 4-unit tanh network "
            f"({run.settings['iterations']} iterations, learning rate "
            f"{run.settings['learning_rate']}): {nn} % of the training points.</p>")
    rows = [Row("planar", "logistic regression: train accuracy (%)", lr),
            Row("planar", "4-unit tanh network: train accuracy (%)", nn)]
    return text + "".join(figures), rows


def _sweep_section(jobs, backend, stream):
    """The hidden-layer-size study: returns (HTML, rows)."""
    result = experiments.hidden_layer_sweep(experiments.load_data("planar"), jobs=jobs,
                                            backend=backend)
    print("hidden-layer study: " + ", ".join(f"{n} units {a} %" for n, a in
                                             zip(result.hidden_sizes, result.accuracies)),
          file=stream)
    rows = [Row("hidden-layer study", f"{n} hidden units: train accuracy (%)", a)
            for n, a in zip(result.hidden_sizes, result.accuracies)]
    table = _table(["hidden units", "train accuracy (%)"],
                   zip(result.hidden_sizes, result.accuracies))
    text = f"<p>One tanh network per size, {result.iterations} iterations each.</p>"
    return text + table + _embed(plot_hidden_layer_sweep(result), "the hidden-layer study"), rows


def _extra_section(backend, stream):
    """The notes' four extra datasets, a 4-unit tanh network on each: returns (HTML, rows)."""
    figures, rows, lines = [], [], []
    for name in EXTRA_DATASETS:
        np.random.seed(1)  # the notes draw these from the generator as it stands
        data = experiments.load_data(name)
        run = experiments.train(data, "shallow", backend=backend)
        percent = _percent(run, data.X, data.Y, backend)
        rows.append(Row(f"extra: {name}", "4-unit tanh network: train accuracy (%)", percent))
        lines.append(f"{name} {percent} %")
        figures.append(_boundary(_predictor(run.parameters, TANH, backend), data,
                                 f"{name}: {percent} %"))
    print("extra datasets: " + ", ".join(lines), file=stream)
    text = ("<p>np.random is seeded with 1 before each dataset is made, so this page is "
            "reproducible (the notes draw them from the generator as it stands). The course "
            "publishes no numbers for them.</p>")
    return text + "".join(figures), rows


def _cat_rows(label, run, backend):
    """The published quantities of one cat model, measured."""
    last = f"cost at iteration {(len(run.costs) - 1) * run.cost_every}"
    rows = [Row(label, "cost at iteration 0", run.costs[0]), Row(label, last, run.costs[-1])]
    data = run.data
    if run.model == "logistic":  # that notebook prints 100 - mean(|p - y|) * 100 percent
        for split, X, Y in (("train", data.X, data.Y), ("test", data.X_test, data.Y_test)):
            p = experiments.predict_proba(run.parameters, ["sigmoid"], X, backend=backend) > 0.5
            rows.append(Row(label, f"{split} accuracy (%)", 100 - np.mean(np.abs(p - Y)) * 100))
        return rows
    return rows + [Row(label, "train accuracy (fraction)", run.train_accuracy),
                   Row(label, "test accuracy (fraction)", run.test_accuracy)]


def _cat_section(data, backend, stream):
    """Logistic regression, the two-layer and the L-layer network: returns (HTML, rows)."""
    parts, rows, lines = [], [], []
    for model, label in CAT_MODELS:
        run = experiments.train(data, model, backend=backend)
        model_rows = _cat_rows(label, run, backend)
        name = label.removeprefix("cat: ")
        rows += model_rows
        p = experiments.predict_proba(run.parameters, run.metadata["activations"], data.X_test,
                                      backend=backend) > 0.5
        mislabeled = plotting.plot_mislabeled_images(
            data.classes, data.X_test, data.Y_test, p.astype(int),
            image_shape=data.image_shape, max_images=10)
        lines.append(f"{name} test {model_rows[-1].measured!r}")
        numbers = "; ".join(f"{r.quantity}: {r.measured!r}" for r in model_rows)
        parts.append(f"<h3>{html.escape(name)}</h3><p>{html.escape(numbers)}.</p>"
                     + _costs(run, name) + "<p>Mislabeled test images (at most 10):</p>"
                     + _embed(mislabeled, f"test images the {name} gets wrong"))
    print("cat: " + ", ".join(lines), file=stream)
    return "".join(parts), rows


def _load_cat(data_dir):
    """``(Data, None)``, or ``(None, notice HTML)`` when the course's files are missing."""
    try:
        return experiments.load_data("cat", data_dir), None
    except (FileNotFoundError, ValueError) as exc:
        folder = data_dir or os.environ.get("CNN_CORE_DATA_DIR")
        where = (f"the folder {folder} does not hold them ({exc})" if folder else
                 "no folder was given (neither --data-dir nor CNN_CORE_DATA_DIR is set)")
        message = (f"The cat vs non-cat experiments did not run: they need the course's "
                   f"{CAT_FILES[0]} and {CAT_FILES[1]}, and {where}. Put both files in one "
                   f"folder and set CNN_CORE_DATA_DIR or give --data-dir.")
        return None, f'<div class="notice" role="alert">{html.escape(message)}</div>'


_CSS = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #999;"
        "padding:.2em .5em;text-align:left}img{max-width:100%;display:block;margin:1em 0}"
        ".notice{border:3px solid #c00;background:#fee;padding:1em;font-weight:bold}"
        "footer{color:#555;font-size:small;margin-top:3em}")


def _page(notice, summary_rows, sections, backend):
    """The whole HTML document as a string."""
    matplotlib = require("matplotlib", "cli", "cnn_core.report")
    sklearn = require("sklearn", "cli", "cnn_core.report")
    versions = {**experiments.versions(), "matplotlib": matplotlib.__version__,
                "scikit-learn": sklearn.__version__}
    title = "cnn_core: the course's experiments"
    summary = _table(["experiment", "quantity", "measured", "published by the course",
                      "tolerance", "difference", "agrees", "note"],
                     [row.cells() for row in summary_rows], table_id="summary")
    body = "".join(f"<section><h2>{html.escape(t)}</h2>{s}</section>" for t, s in sections)
    footer = html.escape(", ".join(f"{k} {v}" for k, v in versions.items())
                         + f"; backend {backend}; "
                         + datetime.datetime.now().isoformat(timespec="seconds"))
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
            f"<h1>{html.escape(title)}</h1>{notice or ''}<h2>Measured vs published</h2>"
            f"{summary}<p>A measurement agrees when it is within the tolerance of the printed "
            f"number: half a unit of its last printed digit (0.005 for the hidden-layer study, "
            f"printed with two decimals at most).</p>{body}<footer>{footer}</footer>"
            f"</body></html>\n")


def run_report(out_dir, data_dir=None, *, jobs=None, backend=None, stream=None):
    """Run every experiment of the notes with its defaults and write ``report.html``.

    Arguments:
        out_dir: the folder for the page (created).
        data_dir: the folder of the cat files (default ``$CNN_CORE_DATA_DIR``); without
            them the page says so at the top and the other experiments run.
        jobs: workers of the hidden-layer study (None: all cores).
        backend: "cython" or "numpy" (None: the current one).
        stream: where the progress lines go (default ``sys.stdout``).

    Returns:
        The path of ``report.html``.

    Raises:
        ImportError: a package of the ``cli`` extra is missing (the message names it),
            before any experiment runs.
    """
    for module in NEEDS:
        require(module, "cli", "cnn_core.report.run_report")
    stream = stream or sys.stdout
    backend = resolve_backend(backend)
    os.makedirs(out_dir, exist_ok=True)
    cat, notice = _load_cat(data_dir)
    sections, rows = [], []
    for title, (part, part_rows) in (
            ("1. The planar flower", _planar_section(backend, stream)),
            ("2. The hidden-layer size study", _sweep_section(jobs, backend, stream)),
            ("3. The extra datasets", _extra_section(backend, stream))):
        sections.append((title, part))
        rows += part_rows
    if cat is None:
        print("cat: skipped, the data is missing", file=stream)
        rows += [Row(e, q, None) for e, q in PUBLISHED if e.startswith("cat")]
    else:
        part, cat_rows = _cat_section(cat, backend, stream)
        sections.append(("4. Cat vs non-cat", part))
        rows += cat_rows
    path = os.path.join(out_dir, "report.html")
    with open(path, "w", encoding="utf-8") as file:
        file.write(_page(notice, rows, sections, backend))
    return path
