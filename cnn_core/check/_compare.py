"""Comparing what a learner's function returned with what is due, leaf by leaf.

:func:`compare` walks the expected structure (tuples, dicts, arrays, scalars) and
returns every :class:`Difference`; an empty list means a match. Values match to a
tolerance that admits rounding, a different order of the same operations, and not a
different formula: entry-wise ``|got - due| <= RTOL |due| + ATOL * max|due|``.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from ._worker import Opaque

__all__ = ["Difference", "compare", "relation", "RTOL", "ATOL", "leaf"]

#: Entry-wise relative tolerance.
RTOL = 1e-6
#: Absolute tolerance, as a fraction of the largest entry due (entries near 0).
ATOL = 1e-8


@dataclass(frozen=True)
class Difference:
    """One way in which the output differs: where, what kind, and a sentence."""

    path: str
    kind: str
    message: str


def _kind_name(value):
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}"
    if isinstance(value, Opaque):
        return f"a {value.type_name}"
    if value is None:
        return "None"
    if isinstance(value, (bool, np.bool_)):
        return "a bool"
    if isinstance(value, (numbers.Number, np.generic)):
        return "a number"
    return f"a {type(value).__name__}"


def _is_scalar(value):
    if isinstance(value, np.ndarray):
        return value.ndim == 0
    return isinstance(value, (numbers.Number, np.generic)) and not isinstance(value, (bool, np.bool_))


def _as_numeric_array(value):
    """``value`` as a float64 array, or None when it is not numeric."""
    if isinstance(value, np.ndarray):
        return value.astype(np.float64) if value.dtype.kind in "biuf" else None
    if _is_scalar(value) or isinstance(value, (bool, np.bool_)):
        try:
            return np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            return None
    return None


def close(got, due):
    """Boolean array: which entries of ``got`` match ``due`` (same shape, float64)."""
    scale = float(np.max(np.abs(due))) if due.size else 0.0
    with np.errstate(invalid="ignore"):
        ok = np.abs(got - due) <= RTOL * np.abs(due) + ATOL * scale
    return ok | (np.isnan(got) & np.isnan(due)) | ((got == due) & np.isinf(due))


def _shape_message(path, got, due):
    if len(due) == 2 and got == (due[0],) and due[1] == 1:
        return f"{path} has shape {got} where {due} is due (keepdims=True keeps the column)"
    if len(got) == 2 and len(due) == 2 and got == (due[1], due[0]):
        return f"{path} has shape {got} where {due} is due (transposed)"
    return f"{path} has shape {got} where {due} is due"


def _index_text(index):
    return "[" + ", ".join(str(int(i)) for i in index) + "]"


def _compare_values(path, got, due):
    got_array, due_array = _as_numeric_array(got), _as_numeric_array(due)
    if got_array is None:
        return [Difference(path, "type", f"{path} is {_kind_name(got)} where {_kind_name(due)} is due")]
    if due_array.ndim == 0 and got_array.ndim > 0:
        if got_array.size == 1:
            return [Difference(path, "shape", f"{path} is an array of shape {got_array.shape} "
                                              "where a scalar is due (np.squeeze it)")]
        return [Difference(path, "shape", f"{path} is an array of shape {got_array.shape} "
                                          "where a scalar is due")]
    if isinstance(due, np.ndarray) and due.ndim > 0 and not isinstance(got, np.ndarray):
        return [Difference(path, "type", f"{path} is {_kind_name(got)} where an array of shape "
                                         f"{due.shape} is due")]
    if got_array.shape != due_array.shape:
        return [Difference(path, "shape", _shape_message(path, got_array.shape, due_array.shape))]
    ok = close(got_array, due_array)
    if ok.all():
        return []
    index = np.argwhere(~ok)[0] if due_array.ndim else ()
    g, d = got_array[tuple(index)], due_array[tuple(index)]
    where = path + (_index_text(index) if due_array.ndim else "")
    count = int((~ok).sum())
    of = f" ({count} of {ok.size} entries differ)" if ok.size > 1 else ""
    return [Difference(path, "value", f"{where} is {g:.8g} where {d:.8g} is due{of}")]


def compare(got, due, path):
    """Every difference between ``got`` (the learner's) and ``due`` under ``path``."""
    if isinstance(due, dict):
        if not isinstance(got, dict):
            return [Difference(path, "type", f"{path} is {_kind_name(got)} where a dict is due")]
        missing = [k for k in due if k not in got]
        if missing:
            keys = ", ".join(repr(k) for k in missing)
            return [Difference(path, "keys", f"{path} lacks the key{'s' if len(missing) > 1 else ''} "
                                             f"{keys} (has {sorted(map(str, got))})")]
        differences = []
        for key in due:
            differences += compare(got[key], due[key], f"{path}[{key!r}]")
        return differences
    if isinstance(due, (tuple, list)):
        if not isinstance(got, (tuple, list)):
            return [Difference(path, "type", f"{path} is {_kind_name(got)} where a "
                                             f"{type(due).__name__} of {len(due)} is due")]
        if len(got) != len(due):
            return [Difference(path, "length", f"{path} has {len(got)} items where {len(due)} are due")]
        differences = []
        for i, (g, d) in enumerate(zip(got, due)):
            differences += compare(g, d, f"{path}[{i}]")
        return differences
    if isinstance(due, str):
        return [] if got == due else [Difference(path, "value", f"{path} is {got!r} where {due!r} is due")]
    if isinstance(due, (int, np.integer)) and not isinstance(due, bool) and not isinstance(got, np.ndarray):
        if isinstance(got, (int, np.integer)) and not isinstance(got, bool) and got == due:
            return []
        return [Difference(path, "value", f"{path} is {got!r} where {due!r} is due")]
    return _compare_values(path, got, due)


def leaf(value, keys):
    """``value[k0][k1]...``, or None when the structure does not have it."""
    for key in keys:
        try:
            value = value[key]
        except (KeyError, IndexError, TypeError):
            return None
    return value


def relation(got, due):
    """A phrase for how array ``got`` relates to ``due`` (``"the reference times 4"``), or None."""
    g, d = _as_numeric_array(got), _as_numeric_array(due)
    if g is None or d is None or not d.size:
        return None
    if g.shape != d.shape:
        if g.ndim == 2 and g.shape == d.T.shape and close(g, d.T).all():
            return "the transpose of the reference"
        return None
    if close(g, -d).all():
        return "the reference with the opposite sign"
    mask = np.abs(d) > 1e-12 * np.max(np.abs(d))
    if mask.any() and not np.any(g[~mask]):
        ratios = g[mask] / d[mask]
        c = float(np.median(ratios))
        if np.allclose(ratios, c, rtol=1e-6) and not np.isclose(c, 1.0) and c != 0:
            return f"the reference times {c:.6g}"
    return None
