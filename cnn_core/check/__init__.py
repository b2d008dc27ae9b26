"""Grade a learner's own implementation of the notes against cnn_core, and name the mistake.

:func:`check_file` reads a ``.py`` file or a Jupyter notebook, keeps only its imports
and top-level function definitions, works out which chapter of the notes it implements
(or takes ``chapter=``), and calls every function of that chapter the file defines, in
a child process with a time limit per function, on the course's published test case
and on random cases with random shapes. Each output is compared with cnn_core's NumPy
reference (types, shapes, values, dict keys, arguments modified in place) and, for the
backward functions, with ``jax.grad`` of the reference cost. A failure is matched
against a catalogue of known mistakes (``MISTAKES``) and reported by name::

    >>> report = check_file("my_deep_network.py")            # doctest: +SKIP
    >>> print(report.format_table())                        # doctest: +SKIP
    >>> report.exit_code                                    # doctest: +SKIP

The command line is ``cnn-core check PATH [--chapter C] [--json] [--timeout S]``.
"""
from __future__ import annotations

import contextlib
import copy
import itertools
import json
import time
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np

from ._compare import Difference, compare, leaf, relation
from ._mistakes import IN_PLACE, MISTAKES, Course, combined
from ._runner import Worker, WorkerLost
from ._source import CheckError, read_source
from ._worker import HELPERS
from ._specs import CHAPTER_NAMES, CHAPTERS

__all__ = ["check_file", "CheckReport", "FunctionResult", "CheckError", "CHAPTER_NAMES",
           "MISTAKES", "DEFAULT_TIMEOUT", "infer_chapter"]

#: Seconds each function of the learner gets for all of its cases.
DEFAULT_TIMEOUT = 10.0
#: Largest normwise relative difference from ``jax.grad`` that passes.
AUTODIFF_TOLERANCE = 1e-6
#: What each function's single result is called in messages.
_RESULT_NAMES = {
    "backward_propagation": "grads", "L_model_backward": "grads", "update_parameters": "parameters",
    "initialize_parameters": "parameters", "initialize_parameters_deep": "parameters",
    "nn_model": "parameters", "two_layer_model": "parameters", "L_layer_model": "parameters",
    "model": "d", "predict": "predictions", "compute_cost": "cost", "relu_backward": "dZ",
    "sigmoid_backward": "dZ", "sigmoid": "s", "softmax": "s", "sigmoid_derivative": "ds",
    "normalizeRows": "x_normalized",
}


@dataclass
class FunctionResult:
    """The verdict on one of the learner's functions.

    ``status`` is ``"PASS"``, ``"FAIL"``, ``"ERROR"`` (it raised, or its process died)
    or ``"TIMEOUT"``; ``mistake`` the catalogue key that matched (or None);
    ``where`` the learner's line for an error; ``autodiff`` the largest normwise
    relative difference from ``jax.grad`` over the cases where it was compared.
    """

    name: str
    status: str
    diagnosis: str = ""
    mistake: str | None = None
    where: str | None = None
    cases: int = 0
    autodiff: float | None = None
    notes: list = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class CheckReport:
    """Everything :func:`check_file` found; :attr:`exit_code` is the command's status."""

    path: str
    chapter: str
    chapter_inferred: bool
    results: list
    other_functions: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    autodiff: str = ""
    seconds: float = 0.0

    @property
    def passed(self):
        """True when every function checked passed."""
        return all(r.status == "PASS" for r in self.results)

    @property
    def exit_code(self):
        """The exit status of the command, 0 when every function passed and 1 otherwise."""
        return 0 if self.passed else 1

    def counts(self):
        """``{status: number of functions}`` for PASS, FAIL, ERROR and TIMEOUT."""
        return {s: sum(r.status == s for r in self.results) for s in ("PASS", "FAIL", "ERROR", "TIMEOUT")}

    def to_dict(self):
        """The report as plain data (what ``--json`` prints)."""
        data = asdict(self)
        data["passed"] = self.passed
        data["exit_code"] = self.exit_code
        data["counts"] = self.counts()
        return data

    def to_json(self):
        """:meth:`to_dict` as indented JSON."""
        return json.dumps(self.to_dict(), indent=2)

    def format_table(self):
        """The text report: one row per function, then the counts and notes."""
        how = "inferred from the functions' names and parameters" if self.chapter_inferred else "as asked"
        lines = [f"cnn-core check {self.path}", f"chapter: {self.chapter} ({how})",
                 f"gradients also compared with: {self.autodiff}", ""]
        width = max([len("function")] + [len(r.name) for r in self.results]) + 2
        lines.append(f"{'function':<{width}}{'result':<9}diagnosis")
        for r in self.results:
            text = r.diagnosis
            if r.status == "PASS" and r.notes:
                text = "; ".join(r.notes)
            lines.append(f"{r.name:<{width}}{r.status:<9}{text}".rstrip())
        counts = ", ".join(f"{n} {s}" for s, n in self.counts().items() if n)
        noun = "function" if len(self.results) == 1 else "functions"
        lines += ["", f"{len(self.results)} {noun}: {counts} ({self.seconds:.1f} s)"]
        if self.other_functions:
            lines.append("not from this chapter, not checked: " + ", ".join(self.other_functions))
        lines += [f"note: {w}" for w in self.warnings]
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# Which chapter.
# ---------------------------------------------------------------------------------------

def _learner_function(functions, spec):
    for name in (spec.name,) + spec.aliases:
        if name in functions:
            return functions[name]
    return None


def _fits(function, n_args):
    return function.required <= n_args and (function.varargs or n_args <= len(function.params))


def infer_chapter(functions):
    """The chapter whose functions ``functions`` (name -> LearnerFunction) best match.

    A function scores 2 when its name and parameter names are the notes', 1 when its
    name is and it takes the notes' number of arguments; a required argument count
    equal to the notes' breaks ties (``update_parameters`` has a default rate in the
    one-hidden-layer chapter only). Returns ``(chapter, matched count)`` or
    ``(None, 0)``.
    """
    best = (None, 0, 0.0)
    for chapter in CHAPTER_NAMES:
        score, matched = 0.0, 0
        for spec in CHAPTERS[chapter]:
            function = _learner_function(functions, spec)
            if function is None or not _fits(function, len(spec.params)):
                continue
            matched += 1
            score += 2 if function.params[:len(spec.params)] == spec.params else 1
            if spec.required is not None and function.required == spec.required:
                score += 0.5
        if score > best[2]:
            best = (chapter, matched, score)
    return best[0], best[1]


# ---------------------------------------------------------------------------------------
# Running the reference and the mistakes in this process.
# ---------------------------------------------------------------------------------------

@contextlib.contextmanager
def _quiet_rng(seed):
    """Seed np.random for one call and put the caller's state back afterwards."""
    state = np.random.get_state()
    if seed is not None:
        np.random.seed(seed)
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        np.random.set_state(state)


def _run_here(function, case, seed=None):
    with _quiet_rng(case.seed if seed is None else seed):
        return function(*copy.deepcopy(case.args))


def _run_mistake(spec, knobs, case):
    try:
        return _run_here(getattr(Course(knobs), spec.mirror), case)
    except Exception:  # noqa: BLE001 - a mistake that cannot run on this case is no match
        return None


# ---------------------------------------------------------------------------------------
# Comparing one function's outputs.
# ---------------------------------------------------------------------------------------

def _renumber_dA(output, due):
    """Accept the later course's ``dA{l}`` numbering (gradient of A^[l], from dA0)."""
    if (isinstance(output, dict) and "dA0" in output and isinstance(due, dict)
            and any(k.startswith("dA") for k in due)):
        L = max(int(k[2:]) for k in due if k.startswith("dA"))
        if f"dA{L}" not in output:
            renumbered = {k: v for k, v in output.items() if not k.startswith("dA")}
            renumbered.update({f"dA{int(k[2:]) + 1}": v for k, v in output.items()
                               if k.startswith("dA") and k[2:].isdigit()})
            return renumbered, ("keys dA0..dA{L-1} (the later course's numbering) read as the "
                                "notes' dA1..dAL")
    return output, None


def _normalise(spec, output, due):
    """The learner's output in the notes' form, and a note when it had to be adapted."""
    if spec.bare_ok and isinstance(output, np.ndarray) and isinstance(due, tuple):
        return output, due[0], "returns A alone (the notes return (A, cache))"
    if spec.name == "L_model_backward":
        output, note = _renumber_dA(output, due)
        return output, due, note
    return output, due, None


def _differences(spec, output, due):
    if len(spec.returns) > 1 and isinstance(due, tuple):
        names = ", ".join(spec.returns)
        if not isinstance(output, (tuple, list)) or len(output) != len(due):
            shape = f"a tuple of {len(output)}" if isinstance(output, (tuple, list)) else "one value"
            return [Difference("", "type", f"returns {shape} where ({names}) is due")]
        found = []
        for name, got, expected in zip(spec.returns, output, due):
            found += compare(got, expected, name)
        return found
    name = spec.returns[0] if spec.returns else _RESULT_NAMES.get(spec.name, "the result")
    return compare(output, due, name)


def _autodiff_difference(spec, case, output):
    """The largest normwise relative difference from jax.grad, and the path where it is."""
    from ._autodiff import GRADIENTS

    worst, where = 0.0, None
    for path, expected in GRADIENTS[spec.autodiff](*copy.deepcopy(case.args)):
        got = leaf(output, path)
        try:
            got = np.asarray(got, dtype=np.float64)
        except (TypeError, ValueError):
            continue
        if got.shape != np.shape(expected):
            continue
        scale = float(np.max(np.abs(expected))) if np.size(expected) else 0.0
        diff = float(np.max(np.abs(got - expected))) if np.size(expected) else 0.0
        rel = diff / scale if scale > 0 else diff
        if not np.isfinite(rel):
            rel = float("inf")
        if rel >= worst:
            worst, where = rel, path
    return worst, where


def _path_text(spec, path):
    if len(spec.returns) > 1 and path and isinstance(path[0], int):
        head, rest = spec.returns[path[0]], path[1:]
    else:
        head, rest = spec.returns[0] if spec.returns else _RESULT_NAMES.get(spec.name, "the result"), path
    return head + "".join(f"[{p!r}]" for p in rest)


def _affected(spec, mistake_output, due):
    """The names of the outputs a mistake changes (``"dW and db"``) and their number."""
    paths = []
    for difference in _differences(spec, mistake_output, due):
        if difference.path and difference.path not in paths:
            paths.append(difference.path)
    if not paths:
        return "", 0
    text = paths[0] if len(paths) == 1 else ", ".join(paths[:-1]) + " and " + paths[-1]
    return text, len(paths)


def _candidates(spec):
    """Each listed mistake alone, then every pair of them (two slips in one function)."""
    yield from ((key,) for key in spec.mistakes)
    yield from itertools.combinations(spec.mistakes, 2)


def _matches(spec, knobs, outputs):
    """Whether the mistaken code gives the learner's output on every case (and differs
    from the reference on one at least)."""
    visible = False
    for case, output, due, _, _ in outputs:
        mistaken = _run_mistake(spec, knobs, case)
        if mistaken is None:
            return False
        mistaken, due_m, _ = _normalise(spec, mistaken, due)
        if _differences(spec, output, mistaken):
            return False
        visible = visible or bool(_differences(spec, mistaken, due_m))
    return visible


def _describe_mistake(spec, key, outputs):
    """The sentence for one mistake, naming the outputs it changes on the first case
    where it shows."""
    mistake = MISTAKES[key]
    names, count = "", 0
    for case, _, due, _, _ in outputs:
        mistaken = _run_mistake(spec, MISTAKES[key].knobs, case)
        if mistaken is not None:
            mistaken, due_m, _ = _normalise(spec, mistaken, due)
            names, count = _affected(spec, mistaken, due_m)
            if count:
                break
    if mistake.relation and names:
        verb = "is" if count == 1 else "are"
        return f"{names} {verb} {mistake.relation}: {mistake.explanation}"
    return mistake.explanation


# ---------------------------------------------------------------------------------------
# One function.
# ---------------------------------------------------------------------------------------

def _where(source, found):
    if not found:
        return None
    filename, line = found["filename"], found["line"]
    cell = None
    if filename != source.path and filename.endswith("]") and "[cell " in filename:
        cell = filename.rsplit("[cell ", 1)[1].rstrip("]")
    return f"line {line}" if cell is None else f"cell {cell}, line {line}"


def _error_text(source, result, case):
    where = _where(source, result.get("where"))
    code = (result.get("where") or {}).get("code")
    text = f"raises {result['error']}"
    if where:
        text += f" at {where}"
        if code:
            text += f": {code}"
    return f"{text} ({case.label})", where


def _check_function(spec, function, worker, source, timeout, use_autodiff, finished):
    start = time.perf_counter()
    rng = np.random.default_rng(_SEEDS[spec.name])
    cases = spec.cases(rng)
    result = FunctionResult(spec.name, "PASS", cases=len(cases))
    if not _fits(function, max(len(c.args) for c in cases)) or not _fits(function, min(len(c.args) for c in cases)):
        result.status = "FAIL"
        result.diagnosis = (f"takes ({', '.join(function.params)}) where the notes' signature is "
                            f"({', '.join(spec.params)})")
        return _done(result, start)
    requests = [{"args": c.args, "kwargs": {}, "seed": c.seed, "names": spec.case_names(c)} for c in cases]
    try:
        replies = worker.call(function.name, requests, timeout)
    except WorkerLost as lost:
        result.status = "TIMEOUT" if lost.reason == "timeout" else "ERROR"
        result.diagnosis = (f"did not return within {timeout:g} s and was stopped (stuck outside "
                            f"Python code, or the stop was caught)" if lost.reason == "timeout"
                            else lost.detail)
        return _done(result, start)

    outputs, worst_autodiff = [], None
    for case, reply in zip(cases, replies):
        if reply["status"] == "timeout":
            where = _where(source, reply.get("where"))
            code = (reply.get("where") or {}).get("code")
            result.status, result.where = "TIMEOUT", where
            result.diagnosis = (f"did not return within {timeout:g} s ({case.label})"
                                + (f"; it was at {where}: {code}" if where else ""))
            return _done(result, start)
        if reply["status"] == "error":
            result.status = "ERROR"
            result.diagnosis, result.where = _error_text(source, reply, case)
            if reply["error"].startswith("NameError"):
                result.diagnosis += ("; only the file's imports and function definitions are "
                                     "run, not its other top-level statements")
            return _done(result, start)
        due = _run_here(spec.reference, case)
        output, due, note = _normalise(spec, reply["output"], due)
        if note and note not in result.notes:
            result.notes.append(note)
        for warning in reply.get("warnings", []):
            if warning not in result.notes:
                result.notes.append(warning)
        found = _differences(spec, output, due)
        modified = [n for n in reply.get("modified", []) if n not in spec.may_modify]
        if use_autodiff and spec.autodiff and case.consistent and not found:
            rel, path = _autodiff_difference(spec, case, output)
            worst_autodiff = rel if worst_autodiff is None else max(worst_autodiff, rel)
            if rel > AUTODIFF_TOLERANCE:
                found.append(Difference(_path_text(spec, path), "autodiff",
                                        f"{_path_text(spec, path)} differs from jax.grad by "
                                        f"{rel:.3g} (relative)"))
        outputs.append((case, output, due, found, modified))
    result.autodiff = worst_autodiff
    if not any(found or modified for _, _, _, found, modified in outputs):
        return _done(result, start)
    result.status = "FAIL"
    result.mistake, result.diagnosis = _diagnose(spec, function, outputs, finished)
    return _done(result, start)


def _done(result, start):
    result.seconds = round(time.perf_counter() - start, 3)
    return result


def _diagnose(spec, function, outputs, finished):
    """(mistake key or None, sentence) for a function whose outputs differ."""
    value_problems = [(case, output, due, found) for case, output, due, found, _ in outputs if found]
    if not value_problems:
        case, _, _, _, modified = next(o for o in outputs if o[4])
        return IN_PLACE, (f"modifies its argument {modified[0]} in place ({case.label}); the notes "
                          f"leave it as it was (copy it first, e.g. np.array({modified[0]}, copy=True))")
    for keys in _candidates(spec):
        knobs = combined(*keys)
        if knobs is None:
            continue
        if _matches(spec, knobs, outputs):
            return " + ".join(keys), "; and ".join(
                _describe_mistake(spec, key, outputs) for key in keys)
    reseeded = _reseeded(spec, outputs)
    if reseeded is not None:
        return "reseeds", (f"calls np.random.seed({reseeded}) itself, so the caller's seed has no "
                           "effect (the notes seed before calling it)")
    case, output, due, found = value_problems[0]
    first = found[0]
    text = first.message
    if first.kind == "value":
        got = _leaf_by_name(spec, output, first.path)
        expected = _leaf_by_name(spec, due, first.path)
        related = relation(got, expected) if got is not None else None
        if related:
            text += f"; {first.path} is {related}"
    text += f" ({case.label})"
    failing = sorted(n for n in function.calls if finished.get(n) in ("FAIL", "ERROR", "TIMEOUT"))
    if failing:
        text += "; it calls " + ", ".join(failing) + (", which fails" if len(failing) == 1 else ", which fail")
    return None, text


def _leaf_by_name(spec, output, path):
    """The output item a difference's path names (the top-level name, or a dict key)."""
    if len(spec.returns) > 1 and isinstance(output, (tuple, list)):
        head = path.split("[")[0]
        if head in spec.returns:
            item = output[spec.returns.index(head)]
            rest = path[len(head):]
        else:
            return None
    else:
        item, rest = output, path[path.find("["):] if "[" in path else ""
    while rest.startswith("["):
        end = rest.index("]")
        key = rest[1:end]
        rest = rest[end + 1:]
        try:
            item = item[int(key)] if key.lstrip("-").isdigit() else item[key.strip("'")]
        except (KeyError, IndexError, TypeError, ValueError):
            return None
    return item


def _reseeded(spec, outputs):
    """The seed the learner's initializer sets itself, when that explains its outputs."""
    if not spec.random:
        return None
    for seed in sorted({c.seed for c, *_ in outputs if c.seed is not None} | {0, 1, 2, 3}):
        if all(not _differences(spec, output, _run_here(spec.reference, case, seed))
               for case, output, *_ in outputs):
            return seed
    return None


# Fixed seeds for the random cases, so that a report is reproducible.
_SEEDS = {spec.name: 1000 + i for i, spec in enumerate(
    s for chapter in CHAPTER_NAMES for s in CHAPTERS[chapter])}


# ---------------------------------------------------------------------------------------
# A file.
# ---------------------------------------------------------------------------------------

def check_file(path, chapter=None, *, timeout=DEFAULT_TIMEOUT, autodiff=True):
    """Check the notes' functions that the file at ``path`` defines.

    Arguments:
        path: a ``.py`` file or a Jupyter notebook (``.ipynb``).
        chapter: ``"basics"``, ``"logistic"``, ``"shallow"`` or ``"deep"``; inferred
            from the functions' names and parameter lists when None.
        timeout: seconds each function gets for all of its cases.
        autodiff: also compare the backward functions with ``jax.grad`` (skipped, with a
            note, when JAX is not installed).

    Returns:
        A :class:`CheckReport`.

    Raises:
        CheckError: the file cannot be read, is not Python, or defines none of the
            chapter's functions.
        ValueError: ``chapter`` or ``timeout`` is invalid.
    """
    if chapter is not None and chapter not in CHAPTER_NAMES:
        raise ValueError(f"chapter must be one of {', '.join(CHAPTER_NAMES)}; got {chapter!r}")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0 \
            or not np.isfinite(timeout):
        raise ValueError(f"timeout must be a positive number of seconds; got {timeout!r}")
    start = time.perf_counter()
    source = read_source(path)
    inferred = chapter is None
    if inferred:
        chapter, _ = infer_chapter(source.functions)
        if chapter is None:
            raise CheckError(f"{source.path}: defines none of the notes' functions "
                             f"(found: {', '.join(source.functions) or 'no functions'})")
    pairs = [(spec, _learner_function(source.functions, spec)) for spec in CHAPTERS[chapter]]
    pairs = [(spec, function) for spec, function in pairs if function is not None]
    if not pairs:
        raise CheckError(f"{source.path}: defines none of the {chapter} chapter's functions "
                         f"({', '.join(s.name for s in CHAPTERS[chapter])})")
    checked = {function.name for _, function in pairs}
    report = CheckReport(source.path, chapter, inferred, [],
                         other_functions=[n for n in source.functions if n not in checked],
                         warnings=list(source.warnings))
    use_autodiff = False
    if autodiff and any(spec.autodiff for spec, _ in pairs):
        from ._autodiff import available
        use_autodiff = available() is not None
        report.autodiff = ("jax.grad of the reference cost" if use_autodiff else
                           "nothing: JAX is not installed (pip install 'cnn_core[check]')")
    else:
        report.autodiff = "nothing (no backward function in the file)" if autodiff else "nothing (autodiff=False)"
    segments = [{"filename": s.filename, "cell": s.cell, "imports": list(s.imports),
                 "functions": list(s.functions), "source": s.source} for s in source.segments]
    finished = {}
    with Worker(segments, chapter, timeout) as worker:
        report.warnings += [_load_problem(p, chapter) for p in worker.load_problems]
        for spec, function in pairs:
            result = _check_function(spec, function, worker, source, timeout, use_autodiff,
                                     finished)
            finished[function.name] = result.status
            report.results.append(result)
    report.seconds = round(time.perf_counter() - start, 2)
    return report


def _load_problem(problem, chapter):
    where = (f"line {problem['line']}" if problem.get("cell") is None
             else f"cell {problem['cell']}, line {problem['line']}")
    if problem["kind"] == "import":
        supplied = ", ".join(HELPERS.get(chapter, ()))
        return (f"{where}: {problem['text'].strip()} failed ({problem['error']}); "
                + (f"the checker supplies the course's helpers ({supplied})" if supplied
                   else "the names it imports are undefined"))
    return f"{where}: {problem['text'].strip()} failed ({problem['error']})"
