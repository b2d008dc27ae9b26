"""Reading a learner's file: only its imports and top-level function definitions.

A ``.py`` file is parsed whole; a notebook (``.ipynb``, read with ``nbformat``) cell by
cell, with IPython's magics and shell escapes blanked (line numbers kept). Every other
top-level statement (a training run, a plot, ``input()``) is dropped here and never
reaches the child process that runs the learner's code.
"""
from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass, field

__all__ = ["CheckError", "Segment", "LearnerFunction", "LearnerSource", "read_source"]

#: Notebook cell magics whose body is still Python (kept after the magic line).
_PYTHON_CELL_MAGICS = ("%%time", "%%timeit", "%%capture", "%%prun")


class CheckError(ValueError):
    """The file cannot be checked: unreadable, not Python, or none of the notes' functions."""


@dataclass(frozen=True)
class Segment:
    """One unit of the learner's code: a ``.py`` file, or one notebook cell.

    ``filename`` is what the compiled code reports in tracebacks (``path`` or
    ``"path [cell 4]"``; cells are numbered from 1 in the notebook's order, markdown
    cells included); ``imports`` and ``functions`` are the kept top-level statements as
    ``(line, source text, name)`` (name None for an import); ``source`` is the whole
    text, for the tracebacks' source lines.
    """

    filename: str
    cell: int | None
    imports: tuple
    functions: tuple
    source: str


@dataclass(frozen=True)
class LearnerFunction:
    """A top-level ``def`` of the learner's file."""

    name: str
    params: tuple[str, ...]
    required: int
    varargs: bool
    cell: int | None
    line: int
    calls: frozenset[str]

    def where(self):
        return f"line {self.line}" if self.cell is None else f"cell {self.cell}, line {self.line}"


@dataclass
class LearnerSource:
    """What was taken from the learner's file."""

    path: str
    segments: list[Segment]
    functions: dict[str, LearnerFunction]
    dropped: int = 0
    warnings: list[str] = field(default_factory=list)


def _lines(text):
    """Lines as Python's tokenizer counts them (a form feed or U+2028 does not end one)."""
    return re.split(r"\r\n|\r|\n", text)


def _strip_magics(code):
    """Blank IPython magics and shell escapes so that the cell parses as Python.

    Returns the cleaned text, or None for a cell magic whose body is not Python.
    """
    lines = _lines(code)
    if lines and lines[0].lstrip().startswith("%%"):
        if not lines[0].lstrip().startswith(_PYTHON_CELL_MAGICS):
            return None
        lines[0] = ""
    cleaned = []
    for line in lines:
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")) or (stripped.endswith("?") and stripped[:-1].isidentifier()):
            cleaned.append("")
        else:
            cleaned.append(line)
    return "\n".join(cleaned) + "\n"


def _signature(node):
    args = node.args
    positional = [a.arg for a in args.posonlyargs + args.args]
    required = len(positional) - len(args.defaults)
    return tuple(positional), required


def _called_names(node):
    return frozenset(n.func.id for n in ast.walk(node)
                     if isinstance(n, ast.Call) and isinstance(n.func, ast.Name))


def _segment(source, filename, cell, tree):
    imports, functions, notes = [], [], []
    kept_functions = {}
    dropped = 0
    lines = _lines(source)
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            # The node's own text: a statement after ";" on the same line is not kept.
            imports.append((node.lineno, ast.get_source_segment(source, node), None))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            # From the def line: decorators are code of the file's and are not run.
            functions.append((node.lineno, "\n".join(lines[node.lineno - 1:node.end_lineno]),
                              node.name))
            if node.decorator_list:
                where = f"line {node.lineno}" if cell is None else f"cell {cell}, line {node.lineno}"
                notes.append(f"{where}: the decorators of {node.name} are not applied")
            params, required = _signature(node)
            kept_functions[node.name] = LearnerFunction(
                node.name, params, required, node.args.vararg is not None, cell, node.lineno,
                _called_names(node))
        else:
            dropped += 1
    segment = Segment(filename, cell, tuple(imports), tuple(functions), source)
    return segment, kept_functions, dropped, notes


def _read_text(path):
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise CheckError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CheckError(f"{path}: is not UTF-8 text (byte {exc.start})") from exc


def _notebook_cells(path):
    try:
        import nbformat
    except ImportError as exc:  # pragma: no cover - nbformat ships with the check extra
        raise CheckError(
            f"{path}: reading notebooks needs nbformat: pip install 'cnn_core[check]'") from exc
    try:
        notebook = nbformat.read(path, as_version=4)
    except OSError as exc:
        raise CheckError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    except Exception as exc:  # nbformat raises JSON, validation and version errors
        raise CheckError(f"{path}: is not a Jupyter notebook ({type(exc).__name__}: "
                         f"{str(exc).splitlines()[0] if str(exc) else ''})") from exc
    return [(number, cell.source) for number, cell in enumerate(notebook.cells, start=1)
            if cell.cell_type == "code"]


def read_source(path):
    """Parse ``path`` (``.py`` or ``.ipynb``) into a :class:`LearnerSource`.

    Raises:
        CheckError: when the file cannot be read, is not valid Python (a ``.py`` file),
            or is neither a ``.py`` nor an ``.ipynb`` file.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise CheckError(f"{path}: no such file")
    ext = os.path.splitext(path)[1].lower()
    if ext == ".ipynb":
        units = [(cell, _strip_magics(code)) for cell, code in _notebook_cells(path)]
    elif ext == ".py":
        units = [(None, _read_text(path))]
    else:
        raise CheckError(f"{path}: expected a .py file or a Jupyter notebook (.ipynb)")
    source = LearnerSource(path, [], {})
    for cell, code in units:
        if code is None:
            source.warnings.append(f"cell {cell}: a cell magic whose body is not Python; skipped")
            continue
        filename = path if cell is None else f"{path} [cell {cell}]"
        try:
            tree = ast.parse(code, filename=filename)
        except SyntaxError as exc:
            where = f"line {exc.lineno}" if cell is None else f"cell {cell}, line {exc.lineno}"
            message = f"{path}: syntax error at {where}: {exc.msg}"
            if cell is None:
                raise CheckError(message) from exc
            source.warnings.append(message + "; the cell was skipped")
            continue
        segment, functions, dropped, notes = _segment(code, filename, cell, tree)
        source.segments.append(segment)
        source.dropped += dropped
        source.warnings += notes
        for name, function in functions.items():
            if name in source.functions:
                source.warnings.append(
                    f"{name} is defined twice ({source.functions[name].where()} and "
                    f"{function.where()}); the last definition is checked")
            source.functions[name] = function
    return source
