"""Sphinx configuration of cnn_core's documentation (MyST Markdown pages + autodoc)."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))  # the source tree, with its built extension
sys.path.insert(0, HERE)

import cnn_core  # noqa: E402

project = "cnn_core"
author = "cnn_core developers"
release = version = cnn_core.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
]
myst_enable_extensions = ["dollarmath", "amsmath"]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build", "README.md"]
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
html_theme = "alabaster"
html_static_path = []

# Names that docstrings use in prose and that have no page of their own.
nitpick_ignore_regex = [
    (r"py:class", r"(numpy\.)?ndarray|np\.ndarray|Callable.*|typing\..*|optional|callable"),
    (r"py:class", r"dict|list|tuple|float|int|str|bool|object"),
]


def _make_figures(app):
    import make_figures

    make_figures.main(os.path.join(HERE, "_figures"))


def setup(app):
    app.connect("builder-inited", _make_figures)
