"""The documentation covers every registered backward, and its figures script runs."""
import importlib.util
import os

import pytest

pytest.importorskip("jax", reason="JAX comes with the test extra: pip install -e '.[test]'")

from cnn_core.reference.registry import REGISTRY  # noqa: E402

DOCS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs")


def _docs_text():
    text = []
    for name in sorted(os.listdir(DOCS)):
        if name.endswith(".md"):
            with open(os.path.join(DOCS, name), encoding="utf-8") as fh:
                text.append(fh.read())
    return "\n".join(text)


def _public_names(entry):
    for target in entry.targets:
        module = getattr(target, "__module__", "") or ""
        name = getattr(target, "__name__", "")
        if module.startswith("cnn_core.") and not module.split(".")[1].startswith("_") \
                and name and not name.startswith(("_", "<")):
            yield f"{module}.{name}"


@pytest.mark.parametrize("entry", REGISTRY, ids=lambda e: e.name)
def test_every_registered_backward_has_a_derivation(entry):
    text = _docs_text()
    linked = [name for name in _public_names(entry) if f"{{py:func}}`{name}`" in text]
    assert linked or f"`{entry.name}`" in text, (
        f"docs/ derive no formula for {entry.name}: link one of "
        f"{list(_public_names(entry))} with {{py:func}} or name the entry"
    )


def test_the_figures_script_writes_placeholders_without_the_cat_data(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("make_figures", os.path.join(DOCS, "make_figures.py"))
    make_figures = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_figures)
    monkeypatch.delenv("CNN_CORE_DATA_DIR", raising=False)
    make_figures.cat_figures(str(tmp_path))
    for name in ("cat_costs.png", "mislabeled.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"
