"""The child process that runs a learner's functions: ``python -m cnn_core.check._worker``.

It reads requests from its stdin and answers on its stdout, each a length-prefixed
pickle, and it runs nothing of the learner's file but the imports and function
definitions the parent sends. File descriptors 0 and 1 are pointed at the null device
once the protocol has its own copies, so a learner's ``input()`` gets end-of-file and
its prints (from Python or from C) cannot corrupt the protocol.

Requests:

* ``{"op": "load", "segments": [...], "helpers": chapter, "statement_timeout": s}``:
  run the learner's imports and function definitions, each on its own and under its
  own time limit, in a fresh namespace that already holds ``np`` and the helper
  functions the course supplies for that chapter (``sigmoid``, ``relu``, ...), which
  the learner's own definitions replace. A failing import is reported, not fatal; a
  failing ``def`` is replaced by a stand-in that raises, so that a course helper of
  the same name is never graded in its place.
* ``{"op": "call", "name": f, "cases": [...], "timeout": s}``: call ``f`` on each
  case (``np.random`` seeded first when the case says so) and return its output, the
  arguments it modified, its warnings, or the exception and the line
  of the learner's file where it was raised. A soft time limit (``SIGALRM``), armed
  around the learner's calls only, stops a Python loop with its line; the parent kills
  the process when that fails.
"""
from __future__ import annotations

import builtins
import contextlib
import copy
import io
import linecache
import os
import pickle
import re
import signal
import struct
import sys
import time
import traceback
import warnings

import numpy as np

_HEADER = struct.Struct("<Q")
#: Nesting depth of returned containers beyond which the output is not copied.
_MAX_DEPTH = 12


class Opaque:
    """A returned value that is not a number, array, string or container of those."""

    def __init__(self, type_name, text):
        self.type_name = type_name
        self.text = text

    def __repr__(self):
        return f"<{self.type_name}: {self.text}>"


class _Timeout(BaseException):
    """Raised by the soft time limit; a BaseException so that ``except Exception`` in
    the learner's code does not swallow it."""


def send(stream, message):
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def receive(stream):
    """The next message, or None at end of file."""
    header = _read_exactly(stream, _HEADER.size)
    if header is None:
        return None
    data = _read_exactly(stream, _HEADER.unpack(header)[0])
    return None if data is None else pickle.loads(data)


def _read_exactly(stream, size):
    chunks = []
    while size:
        chunk = stream.read(size)
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


# ---------------------------------------------------------------------------------------
# The helpers the course hands out with each assignment (planar_utils, dnn_utils), used
# when the learner's file imports them from a module that is not here.
# ---------------------------------------------------------------------------------------

def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _dnn_sigmoid(Z):
    return _sigmoid(Z), Z


def _dnn_relu(Z):
    return np.maximum(0, Z), Z


def _dnn_relu_backward(dA, cache):
    dZ = np.array(dA, copy=True)
    dZ[cache <= 0] = 0
    return dZ


def _dnn_sigmoid_backward(dA, cache):
    s = _sigmoid(cache)
    return dA * s * (1 - s)


HELPERS = {
    "basics": {},
    "logistic": {},
    "shallow": {"sigmoid": _sigmoid},
    "deep": {"sigmoid": _dnn_sigmoid, "relu": _dnn_relu,
             "relu_backward": _dnn_relu_backward, "sigmoid_backward": _dnn_sigmoid_backward},
}


# ---------------------------------------------------------------------------------------
# Running the learner's code.
# ---------------------------------------------------------------------------------------

def _lines(text):
    """Lines as Python's tokenizer counts them (a form feed does not end a line)."""
    return re.split(r"\r\n|\r|\n", text)


def _failed_definition(name, message):
    """What stands for a learner's function whose ``def`` statement failed: it raises."""
    def failed(*args, **kwargs):
        raise DefinitionFailed(message)
    failed.__name__ = name
    return failed


class DefinitionFailed(RuntimeError):
    """The learner's ``def`` statement itself raised (a default value, a decorator)."""


class Learner:
    """The learner's namespace in this process, and the calls into it."""

    def __init__(self):
        self.namespace = {}
        self.filenames = set()
        self.defined = {}  # name -> the learner's own function object (or its stand-in)

    def load(self, segments, helpers, statement_timeout):
        """Run each import and ``def`` on its own, each under ``statement_timeout``."""
        self.namespace = {"__name__": "__learner__", "__builtins__": builtins, "np": np,
                          **HELPERS.get(helpers, {})}
        self.defined = {}
        problems = []
        for segment in segments:
            filename = segment["filename"]
            self.filenames.add(filename)
            lines = [line + "\n" for line in _lines(segment["source"])]
            linecache.cache[filename] = (len(segment["source"]), None, lines, filename)
            for kind, items in (("import", segment["imports"]), ("def", segment["functions"])):
                for line, text, name in items:
                    error = self._run_statement(filename, line, text, statement_timeout)
                    if kind == "def":
                        if error is None and callable(self.namespace.get(name)):
                            self.defined[name] = self.namespace[name]
                        else:
                            where = _where_text(segment["cell"], line)
                            stand_in = _failed_definition(
                                name, f"its definition at {where} failed ({error})")
                            self.namespace[name] = self.defined[name] = stand_in
                    if error is not None:
                        problems.append({"kind": kind, "line": line, "cell": segment["cell"],
                                         "text": _lines(text)[0], "name": name, "error": error})
        return {"problems": problems}

    def _run_statement(self, filename, line, text, timeout):
        """Execute one statement of the learner's file; its error as one line, or None."""
        try:
            code = compile("\n" * (line - 1) + text, filename, "exec")
            with _time_limit(timeout):
                exec(code, self.namespace)
        except _Timeout:
            return f"took longer than {timeout:g} s"
        except BaseException as exc:  # noqa: BLE001 - reported to the learner
            return _one_line(exc)
        return None

    def where(self, tb):
        """The innermost frame of the learner's code: (filename, line, text) or None."""
        frames = [f for f in traceback.extract_tb(tb) if f.filename in self.filenames]
        if not frames:
            return None
        frame = frames[-1]
        return {"filename": frame.filename, "line": frame.lineno, "code": (frame.line or "").strip(),
                "function": frame.name}

    def call(self, name, cases, timeout):
        """Each case's result; the time limit counts the learner's calls only, and stops
        at the case where it runs out."""
        function = self.defined.get(name)
        if function is None:
            return [{"status": "error", "error": f"{name} is not defined by the file", "where": None}]
        if self.namespace.get(name) is not function:
            # Another statement (an import after the def) rebound the name.
            return [{"status": "error", "where": None,
                     "error": f"the name {name} is rebound after its definition (to "
                              f"{getattr(self.namespace.get(name), '__module__', None)!s}."
                              f"{name}); the file's own {name} is not what runs"}]
        deadline = time.monotonic() + timeout
        results = []
        for case in cases:
            result = self._call_one(function, case, max(deadline - time.monotonic(), 1e-3))
            results.append(result)
            if result["status"] == "timeout":
                break
        return results

    def _call_one(self, function, case, seconds_left):
        args, kwargs = case["args"], case["kwargs"]
        snapshot = copy.deepcopy((args, kwargs))
        printed = io.StringIO()  # what the learner prints is swallowed, not graded
        if case.get("seed") is not None:
            np.random.seed(case["seed"])
        try:
            with warnings.catch_warnings(record=True) as caught, \
                    contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed), \
                    np.errstate(all="warn"), _time_limit(seconds_left):
                warnings.simplefilter("always")
                output = function(*args, **kwargs)
        except _Timeout as exc:
            return {"status": "timeout", "where": self.where(exc.__traceback__)}
        except BaseException as exc:  # noqa: BLE001 - SystemExit and friends included
            return {"status": "error", "error": _one_line(exc), "where": self.where(exc.__traceback__)}
        names = list(case.get("names", ())) + list(kwargs)
        modified = [names[i] if i < len(names) else f"argument {i + 1}"
                    for i, (before, after) in enumerate(zip(list(snapshot[0]) + list(snapshot[1].values()),
                                                            list(args) + list(kwargs.values())))
                    if not _same(before, after)]
        messages = []
        for warning in caught:
            text = f"{warning.category.__name__}: {warning.message}"
            if text not in messages:
                messages.append(text)
        return {"status": "ok", "output": _safe(output), "modified": modified,
                "warnings": messages[:3]}


def _where_text(cell, line):
    return f"line {line}" if cell is None else f"cell {cell}, line {line}"


def _one_line(exc):
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _same(before, after):
    if isinstance(before, np.ndarray):
        return (isinstance(after, np.ndarray) and before.shape == after.shape
                and before.dtype == after.dtype and np.array_equal(before, after, equal_nan=True))
    if isinstance(before, dict):
        return (isinstance(after, dict) and list(before) == list(after)
                and all(_same(before[k], after[k]) for k in before))
    if isinstance(before, (list, tuple)):
        return (type(before) is type(after) and len(before) == len(after)
                and all(_same(a, b) for a, b in zip(before, after)))
    try:
        return bool(before == after)
    except Exception:  # noqa: BLE001 - an object without a usable ==
        return True


def _safe(value, depth=0):
    """A copy of ``value`` built only of numbers, arrays, strings and containers."""
    if depth > _MAX_DEPTH:
        return Opaque(type(value).__name__, "nested too deeply to compare")
    if value is None or isinstance(value, (bool, int, float, complex, str, np.generic)):
        return value
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "biufc":
            return np.array(value)
        return Opaque(f"ndarray of dtype {value.dtype}", repr(value)[:200])
    if isinstance(value, tuple):
        return tuple(_safe(v, depth + 1) for v in value)
    if isinstance(value, list):
        return [_safe(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {(k if isinstance(k, (str, int)) else repr(k)): _safe(v, depth + 1)
                for k, v in value.items()}
    try:
        text = repr(value)[:200]
    except Exception:  # noqa: BLE001
        text = "(no repr)"
    return Opaque(type(value).__module__ + "." + type(value).__qualname__, text)


@contextlib.contextmanager
def _time_limit(seconds):
    """Raise _Timeout in the main thread after ``seconds`` (where SIGALRM exists)."""
    if not seconds or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum, frame):
        raise _Timeout()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def main():
    requests = os.fdopen(os.dup(0), "rb", buffering=0)
    replies = os.fdopen(os.dup(1), "wb", buffering=0)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    sys.stdin = open(os.devnull)
    learner = Learner()
    while True:
        message = receive(requests)
        if message is None:
            return
        if message["op"] == "load":
            reply = learner.load(message["segments"], message.get("helpers"),
                                 message["statement_timeout"])
        else:
            reply = {"results": learner.call(message["name"], message["cases"], message["timeout"])}
        send(replies, reply)


if __name__ == "__main__":
    main()
