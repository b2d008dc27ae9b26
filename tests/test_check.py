"""cnn-core check: learners' files graded against the reference, mistakes named.

The fixture files in tests/learners/ are learners' code: a correct file per chapter
(one of them a notebook), one file per catalogued mistake (``mistakes/<key>.py``) and
files that raise, loop, crash, return the wrong shape or cannot be read (``errors/``).
"""
import json
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from cnn_core import cli, deep
from cnn_core.check import (CHAPTER_NAMES, MISTAKES, CheckError, check_file, infer_chapter)
from cnn_core.check import _worker
from cnn_core.check._compare import compare
from cnn_core.check._mistakes import IN_PLACE, Course
from cnn_core.check._source import read_source
from cnn_core.check._specs import CHAPTERS

LEARNERS = Path(__file__).parent / "learners"
MISTAKE_FILES = sorted((LEARNERS / "mistakes").glob("*.py"))

#: The correct fixture files, by chapter.
CORRECT = {
    "basics": ("correct_basics.py",),
    "logistic": ("correct_logistic.py",),
    "shallow": ("correct_shallow.py",),
    "deep": ("correct_deep.py", "correct_deep.ipynb"),
}


def _write(tmp_path, code, name="learner.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(code))
    return path


def _by_name(report):
    return {r.name: r for r in report.results}


# ---------------------------------------------------------------------------------------
# Correct files pass; nothing but imports and definitions runs.
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("chapter,name", [(c, n) for c, names in CORRECT.items() for n in names])
def test_a_correct_file_passes_every_function_of_its_chapter(chapter, name):
    report = check_file(LEARNERS / name)
    assert report.chapter == chapter and report.chapter_inferred
    assert [r.status for r in report.results] == ["PASS"] * len(report.results), report.format_table()
    defined = set(read_source(LEARNERS / name).functions)
    expected = {spec.name for spec in CHAPTERS[chapter]
                if spec.name in defined or set(spec.aliases) & defined}
    assert {r.name for r in report.results} == expected
    assert report.exit_code == 0


def test_the_backward_functions_agree_with_autodiff_to_rounding():
    report = check_file(LEARNERS / "correct_deep.py")
    compared = {r.name: r.autodiff for r in report.results if r.autodiff is not None}
    assert set(compared) == {"linear_backward", "relu_backward", "sigmoid_backward",
                             "linear_activation_backward", "L_model_backward"}
    assert max(compared.values()) < 1e-12


def test_autodiff_fails_a_gradient_even_where_the_reference_would_pass_it(monkeypatch):
    """The jax.grad comparison is independent: with a reference that shares the
    learner's missing 1/m, autodiff alone catches it."""
    import dataclasses

    deep_specs = CHAPTERS["deep"]
    index = next(i for i, s in enumerate(deep_specs) if s.name == "linear_backward")
    wrong = Course(MISTAKES["missing_1_over_m"].knobs).linear_backward
    patched = list(deep_specs)
    patched[index] = dataclasses.replace(deep_specs[index], reference=wrong)
    monkeypatch.setitem(CHAPTERS, "deep", patched)
    (result,) = check_file(LEARNERS / "mistakes" / "missing_1_over_m.py").results
    assert result.status == "FAIL" and "differs from jax.grad" in result.diagnosis
    assert result.autodiff > 0.5


def test_top_level_code_input_and_loops_never_run(tmp_path, monkeypatch):
    sentinel = tmp_path / "ran"
    monkeypatch.setenv("CNN_CORE_SENTINEL", str(sentinel))
    start = time.perf_counter()
    report = check_file(LEARNERS / "top_level_code.py", timeout=5)
    assert time.perf_counter() - start < 20
    assert [(r.name, r.status) for r in report.results] == [("sigmoid", "PASS"), ("softmax", "PASS")]
    assert not sentinel.exists()
    kept = read_source(LEARNERS / "top_level_code.py").segments[0]
    assert [name for _, _, name in kept.functions] == ["sigmoid", "softmax"]
    assert not any("input(" in text or "while True" in text or "CNN_CORE_SENTINEL" in text
                   for _, text, _ in kept.imports + kept.functions)
    assert "other top-level statements were not run" in " ".join(report.warnings)


def test_the_course_helpers_are_supplied_when_their_module_is_missing(tmp_path):
    path = _write(tmp_path, """
        import numpy as np
        from dnn_utils import sigmoid, relu, sigmoid_backward, relu_backward

        def linear_activation_forward(A_prev, W, b, activation):
            Z = W @ A_prev + b
            A, activation_cache = sigmoid(Z) if activation == "sigmoid" else relu(Z)
            return A, ((A_prev, W, b), activation_cache)
        """)
    report = check_file(path)
    assert _by_name(report)["linear_activation_forward"].status == "PASS"
    assert any("dnn_utils" in w and "supplies" in w for w in report.warnings)


def test_the_supplied_helpers_are_cnn_core_s():
    Z = np.array([[-2.0, 0.0, 1.5], [0.3, -0.1, 0.0]])
    dA = np.array([[1.0, -2.0, 0.5], [0.7, 0.2, -1.0]])
    helpers = _worker.HELPERS["deep"]
    for name in ("sigmoid", "relu"):
        for got, due in zip(helpers[name](Z), getattr(deep, name)(Z)):
            np.testing.assert_allclose(got, due, rtol=1e-15)
    for name in ("sigmoid_backward", "relu_backward"):
        np.testing.assert_allclose(helpers[name](dA, Z), getattr(deep, name)(dA, Z), rtol=1e-15)
    np.testing.assert_allclose(_worker.HELPERS["shallow"]["sigmoid"](Z), deep.sigmoid(Z)[0], rtol=1e-15)


# ---------------------------------------------------------------------------------------
# Every catalogued mistake has a fixture, and each fixture is named.
# ---------------------------------------------------------------------------------------

def test_every_catalogued_mistake_has_a_fixture_and_back():
    keys = {p.stem for p in MISTAKE_FILES}
    assert keys == set(MISTAKES) | {IN_PLACE}


@pytest.mark.parametrize("path", MISTAKE_FILES, ids=lambda p: p.stem)
def test_each_mistake_is_diagnosed_by_name(path):
    report = check_file(path)
    failed = [r for r in report.results if r.status != "PASS"]
    assert len(failed) == 1, report.format_table()
    (result,) = failed
    assert result.status == "FAIL" and result.mistake == path.stem, report.format_table()
    if path.stem != IN_PLACE:
        assert MISTAKES[path.stem].explanation in result.diagnosis
    assert report.exit_code == 1


def test_the_diagnosis_reads_like_the_issue_asks():
    (result,) = check_file(LEARNERS / "mistakes" / "missing_1_over_m.py").results
    assert result.diagnosis == "dW and db are the reference times m: the 1/m is missing"


@pytest.mark.parametrize("chapter", CHAPTER_NAMES)
def test_the_catalogue_without_mistakes_is_cnn_core_s_reference(chapter):
    """Course() is the reference on every case drawn, so each mistake is one formula off."""
    from cnn_core.check import _differences, _run_here, draw_cases

    for spec in CHAPTERS[chapter]:
        for case in draw_cases(chapter, spec):
            due = _run_here(spec.reference, case)
            mirrored = _run_here(getattr(Course(), spec.mirror), case)
            assert _differences(spec, mirrored, due) == [], (spec.name, case.label)


@pytest.mark.parametrize("chapter", CHAPTER_NAMES)
def test_every_mistake_a_function_lists_is_named_when_made(chapter):
    """Each listed mistake, made alone, is named (among those that give the same output):
    it shows on the function's cases and another mistake does not take its place."""
    from cnn_core.check import _differences, _named_mistake, _run_here, draw_cases

    for spec in CHAPTERS[chapter]:
        cases = draw_cases(chapter, spec)
        dues = [_run_here(spec.reference, case) for case in cases]
        for key in spec.mistakes:
            outputs = []
            for case, due in zip(cases, dues):
                wrong = _run_here(getattr(Course(MISTAKES[key].knobs), spec.mirror), case)
                outputs.append((case, wrong, due, _differences(spec, wrong, due), []))
            named, _ = _named_mistake(spec, outputs)
            assert named is not None and key in named.split(" | "), (spec.name, key, named)


# ---------------------------------------------------------------------------------------
# Failures that match no mistake, dependencies, seeds, shapes, types.
# ---------------------------------------------------------------------------------------

_DEEP_HELPERS = """
    import numpy as np

    def linear_backward(dZ, cache):
        A_prev, W, b = cache
        m = A_prev.shape[1]
        return W.T @ dZ, 2 * (dZ @ A_prev.T) / m, np.sum(dZ, axis=1, keepdims=True) / m

    def relu_backward(dA, cache):
        return dA * (cache > 0)

    def linear_activation_backward(dA, cache, activation):
        linear_cache, Z = cache
        if activation == "relu":
            dZ = relu_backward(dA, Z)
        else:
            s = 1 / (1 + np.exp(-Z))
            dZ = dA * s * (1 - s)
        return linear_backward(dZ, linear_cache)
    """


def test_an_unknown_mistake_gets_the_first_differing_entry_and_its_callers_are_told(tmp_path):
    report = check_file(_write(tmp_path, _DEEP_HELPERS))
    results = _by_name(report)
    assert results["relu_backward"].status == "PASS"
    wrong = results["linear_backward"]
    assert wrong.status == "FAIL" and wrong.mistake is None
    assert wrong.diagnosis.startswith("dW[0, 0] is ")
    assert "where" in wrong.diagnosis and "is due" in wrong.diagnosis
    assert "dW is the reference times 2" in wrong.diagnosis
    assert "it calls linear_backward, which fails" in results["linear_activation_backward"].diagnosis


def test_an_initializer_that_seeds_itself_is_told_so(tmp_path):
    path = _write(tmp_path, """
        import numpy as np

        def initialize_parameters_deep(layer_dims):
            np.random.seed(3)
            parameters = {}
            for l in range(1, len(layer_dims)):
                parameters["W" + str(l)] = np.random.randn(layer_dims[l], layer_dims[l - 1]) / np.sqrt(layer_dims[l - 1])
                parameters["b" + str(l)] = np.zeros((layer_dims[l], 1))
            return parameters
        """)
    (result,) = check_file(path).results
    assert result.status == "FAIL" and result.mistake == "reseeds"
    assert "np.random.seed(3)" in result.diagnosis


def test_shapes_types_and_keys_are_named(tmp_path):
    path = _write(tmp_path, """
        import numpy as np

        def compute_cost(AL, Y):
            m = Y.shape[1]
            return -(Y @ np.log(AL).T + (1 - Y) @ np.log(1 - AL).T) / m

        def linear_forward(A, W, b):
            return (W @ A + b).tolist(), (A, W, b)

        def initialize_parameters_deep(layer_dims):
            parameters = {}
            for l in range(1, len(layer_dims)):
                parameters["W" + str(l)] = np.random.randn(layer_dims[l], layer_dims[l - 1]) / np.sqrt(layer_dims[l - 1])
            return parameters
        """)
    results = _by_name(check_file(path))
    assert "cost is an array of shape (1, 1) where a scalar is due (np.squeeze it)" in results["compute_cost"].diagnosis
    assert results["linear_forward"].diagnosis.startswith("Z is a list where an array of shape")
    assert "parameters lacks the keys 'b1', 'b2'" in results["initialize_parameters_deep"].diagnosis


def test_a_column_returned_flat_is_a_failure_with_that_reason():
    (result,) = [r for r in check_file(LEARNERS / "errors" / "wrong_shape.py").results
                 if r.name == "linear_backward"]
    assert result.status == "FAIL" and result.mistake == "bias_keepdims"
    due = np.zeros((3, 1))
    assert "keepdims=True keeps the column" in compare(np.zeros(3), due, "db")[0].message


def test_the_notes_in_place_update_is_allowed_and_other_modifications_are_not(tmp_path):
    path = _write(tmp_path, """
        import numpy as np

        def update_parameters(parameters, grads, learning_rate):
            L = len(parameters) // 2
            for l in range(L):
                parameters["W" + str(l + 1)] -= learning_rate * grads["dW" + str(l + 1)]
                parameters["b" + str(l + 1)] -= learning_rate * grads["db" + str(l + 1)]
            return parameters

        def sigmoid_backward(dA, cache):
            s = 1 / (1 + np.exp(-cache))
            dA *= s * (1 - s)
            return dA
        """)
    results = _by_name(check_file(path))
    assert results["update_parameters"].status == "PASS"
    assert results["sigmoid_backward"].mistake == IN_PLACE
    assert "modifies its argument dA in place" in results["sigmoid_backward"].diagnosis


def test_the_later_course_numbering_of_dA_and_bare_activations_pass_with_a_note(tmp_path):
    path = _write(tmp_path, _DEEP_HELPERS.replace("2 * (dZ", "(dZ") + """
    def sigmoid(Z):
        return 1 / (1 + np.exp(-Z))

    def L_model_backward(AL, Y, caches):
        grads = {}
        L = len(caches)
        dAL = -(Y / AL - (1 - Y) / (1 - AL))
        grads["dA" + str(L - 1)], grads["dW" + str(L)], grads["db" + str(L)] = \\
            linear_activation_backward(dAL, caches[L - 1], "sigmoid")
        for l in reversed(range(L - 1)):
            grads["dA" + str(l)], grads["dW" + str(l + 1)], grads["db" + str(l + 1)] = \\
                linear_activation_backward(grads["dA" + str(l + 1)], caches[l], "relu")
        return grads
    """)
    results = _by_name(check_file(path))
    assert results["L_model_backward"].status == "PASS"
    assert any("later course's numbering" in n for n in results["L_model_backward"].notes)
    assert results["sigmoid"].status == "PASS"
    assert any("returns A alone" in n for n in results["sigmoid"].notes)


# ---------------------------------------------------------------------------------------
# Errors, loops and crashes in the learner's code.
# ---------------------------------------------------------------------------------------

def test_a_function_that_raises_is_reported_with_its_line_and_the_check_goes_on():
    results = _by_name(check_file(LEARNERS / "errors" / "raises.py"))
    assert results["linear_backward"].status == "ERROR"
    assert results["linear_backward"].where == "line 14"
    assert "IndexError" in results["linear_backward"].diagnosis
    assert results["linear_forward"].status == results["relu_backward"].status == "PASS"


def test_an_infinite_loop_is_stopped_at_its_line():
    start = time.perf_counter()
    results = _by_name(check_file(LEARNERS / "errors" / "loops_forever.py", timeout=1.5))
    assert time.perf_counter() - start < 15
    assert results["sigmoid_backward"].status == "TIMEOUT"
    assert results["sigmoid_backward"].where == "line 15"
    assert results["linear_forward"].status == "PASS"


def test_a_loop_that_swallows_the_stop_is_killed_and_the_next_function_still_checked(tmp_path):
    path = _write(tmp_path, """
        import time
        import numpy as np

        def relu_backward(dA, cache):
            while True:
                try:
                    time.sleep(0.05)
                except BaseException:
                    pass

        def sigmoid_backward(dA, cache):
            s = 1 / (1 + np.exp(-cache))
            return dA * s * (1 - s)
        """)
    start = time.perf_counter()
    results = _by_name(check_file(path, timeout=1.0))
    assert time.perf_counter() - start < 20
    assert results["relu_backward"].status == "TIMEOUT"
    assert "was stopped" in results["relu_backward"].diagnosis
    assert results["sigmoid_backward"].status == "PASS"


def test_a_crash_is_reported_for_that_function_and_the_check_goes_on(tmp_path):
    path = _write(tmp_path, (LEARNERS / "errors" / "crashes.py").read_text() + textwrap.dedent("""

        def sigmoid_backward(dA, cache):
            s = 1 / (1 + np.exp(-cache))
            return dA * s * (1 - s)
        """))
    results = _by_name(check_file(path))
    assert results["relu_backward"].status == "ERROR"
    assert "died (exit code 3)" in results["relu_backward"].diagnosis
    assert results["linear_forward"].status == results["sigmoid_backward"].status == "PASS"


def test_a_global_name_from_skipped_top_level_code_is_explained(tmp_path):
    path = _write(tmp_path, """
        import numpy as np
        HIDDEN = 4

        def layer_sizes(X, Y):
            return X.shape[0], HIDDEN, Y.shape[0]
        """)
    (result,) = check_file(path, chapter="shallow").results
    assert result.status == "ERROR" and "NameError" in result.diagnosis
    assert "only the file's imports and function definitions are run" in result.diagnosis


def test_a_notebook_error_names_its_cell(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# my network"),
        nbformat.v4.new_code_cell("%matplotlib inline\nimport numpy as np"),
        nbformat.v4.new_code_cell("def relu_backward(dA, cache):\n    dZ = np.array(dA)\n"
                                  "    dZ[cache <= 0] = 0\n    return dZ[5]"),
        nbformat.v4.new_code_cell("!pip list\nprint(relu_backward(np.ones(3), np.ones(3)))"),
    ])
    path = tmp_path / "mine.ipynb"
    nbformat.write(notebook, path)
    (result,) = check_file(path).results
    assert result.status == "ERROR" and result.where == "cell 3, line 4"


# ---------------------------------------------------------------------------------------
# Files that cannot be checked, chapters, the command line.
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,message", [
    ("syntax_error.py", "syntax error at line 5"),
    ("empty.ipynb", "defines none of the notes' functions"),
    ("no_course_functions.py", "defines none of the notes' functions (found: load_my_data, plot_it)"),
])
def test_files_that_cannot_be_checked(name, message):
    with pytest.raises(CheckError, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_file(LEARNERS / "errors" / name)


@pytest.mark.parametrize("error, match, call", [
    pytest.param(CheckError, "no such file",
                 lambda tmp_path: check_file(tmp_path / "missing.py"), id="missing-file"),
    pytest.param(CheckError, "expected a .py file or a Jupyter notebook",
                 lambda tmp_path: check_file(_write(tmp_path, "x = 1", "notes.txt")),
                 id="txt-file"),
    pytest.param(CheckError, "is not a Jupyter notebook",
                 lambda tmp_path: check_file(_write(tmp_path, "{not json", "broken.ipynb")),
                 id="broken-notebook"),
    pytest.param(ValueError, "chapter must be one of",
                 lambda tmp_path: check_file(LEARNERS / "correct_basics.py", chapter="convolution"),
                 id="chapter-unknown"),
    pytest.param(ValueError, "timeout must be a positive number",
                 lambda tmp_path: check_file(LEARNERS / "correct_basics.py", timeout=0),
                 id="timeout-0"),
])
def test_unreadable_paths(tmp_path, error, match, call):
    with pytest.raises(error, match=match):
        call(tmp_path)


@pytest.mark.parametrize("code,chapter", [
    ("def update_parameters(parameters, grads, learning_rate=1.2): pass", "shallow"),
    ("def update_parameters(parameters, grads, learning_rate): pass", "deep"),
    ("def predict(w, b, X): pass", "logistic"),
    ("def predict(X, y, parameters): pass", "deep"),
    ("def predict(parameters, X): pass", "shallow"),
    ("def compute_cost(AL, Y): pass", "deep"),
    ("def compute_cost(A2, Y, parameters): pass", "shallow"),
    ("def sigmoid(x): pass", "basics"),
    ("def sigmoid(z): pass\ndef propagate(w, b, X, Y): pass", "logistic"),
    ("def my_helper(a): pass", None),
])
def test_the_chapter_is_inferred_from_names_and_parameters(tmp_path, code, chapter):
    functions = read_source(_write(tmp_path, code)).functions
    assert infer_chapter(functions) == chapter


def test_a_forced_chapter_checks_only_its_functions():
    report = check_file(LEARNERS / "correct_shallow.py", chapter="deep")
    assert not report.chapter_inferred
    results = _by_name(report)
    assert set(results) == {"sigmoid", "initialize_parameters", "compute_cost", "update_parameters",
                            "predict"}
    # The notes' shallow update handles 2 layers; the deep chapter's case has 3.
    assert "parameters lacks the keys 'W3', 'b3'" in results["update_parameters"].diagnosis
    assert results["compute_cost"].diagnosis == (
        "takes (A2, Y, parameters) where the notes' signature is (AL, Y)")


def test_a_wrong_signature_fails_without_running(tmp_path):
    (result,) = check_file(_write(tmp_path, "def linear_backward(dZ): return dZ"), chapter="deep").results
    assert result.status == "FAIL"
    assert result.diagnosis == "takes (dZ) where the notes' signature is (dZ, cache)"


def test_the_command_prints_a_table_and_exits_0_1_or_2(capsys):
    assert cli.main(["check", str(LEARNERS / "correct_basics.py")]) == 0
    out = capsys.readouterr().out
    assert "softmax" in out and "4 functions: 4 PASS" in out
    assert cli.main(["check", str(LEARNERS / "mistakes" / "cost_sign.py")]) == 1
    assert "FAIL" in capsys.readouterr().out
    assert cli.main(["check", str(LEARNERS / "errors" / "syntax_error.py")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "syntax error at line 5" in err
    assert cli.main(["check", str(LEARNERS / "correct_basics.py"), "--timeout", "-1"]) == 2


def test_the_command_s_json(capsys):
    assert cli.main(["check", str(LEARNERS / "mistakes" / "update_sign.py"), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["chapter"] == "deep" and data["exit_code"] == 1 and not data["passed"]
    (result,) = data["results"]
    assert result["name"] == "update_parameters" and result["mistake"] == "update_sign"
    assert cli.main(["check", str(LEARNERS / "errors" / "empty.ipynb"), "--json"]) == 2
    data = json.loads(capsys.readouterr().out)
    assert data["exit_code"] == 2 and "defines none" in data["error"]


# ---------------------------------------------------------------------------------------
# Loading the file: failing definitions, decorators, form feeds, a crash while loading.
# ---------------------------------------------------------------------------------------

def test_a_definition_that_fails_is_an_error_not_the_course_helper(tmp_path):
    path = _write(tmp_path, """
        import numpy as np

        def relu_backward(dA, cache, threshold=THRESHOLD):
            return dA
        """)
    report = check_file(path, chapter="deep")
    (result,) = report.results
    assert result.status == "ERROR"
    assert result.diagnosis.startswith("its definition at line 4 failed (NameError")
    assert any("the definition of relu_backward failed" in w for w in report.warnings)
    assert report.exit_code == 1


def test_a_crash_while_loading_is_an_error_per_function_and_no_traceback(tmp_path, capsys):
    path = _write(tmp_path, """
        import os

        def sigmoid(x, _=os._exit(4)):
            return x
        """)
    assert cli.main(["check", str(path), "--chapter", "basics"]) == 1
    out = capsys.readouterr().out
    assert "ERROR" in out and "loading the file's imports and definitions failed" in out
    assert "died (exit code 4)" in out


def test_decorators_are_not_applied_and_form_feeds_do_not_shift_lines(tmp_path):
    path = _write(tmp_path, "import numpy as np\n\x0c\n"
                  "def _twice(f):\n    return lambda x: 2 * f(x)\n\n"
                  "@_twice\ndef sigmoid(x):\n    return 1 / (1 + np.exp(-x))\n\x0c\n"
                  "def softmax(x):\n    e = np.exp(x)\n    return e / e.sum(axis=1, keepdims=True)\n")
    report = check_file(path)
    assert [r.status for r in report.results] == ["PASS", "PASS"]
    assert any("the decorators of sigmoid are not applied" in w for w in report.warnings)


def test_a_run_that_blows_up_is_not_given_a_mistake_s_name(tmp_path):
    path = _write(tmp_path, """
        import numpy as np

        def L_layer_model(X, Y, layers_dims, learning_rate=0.0075, num_iterations=3000, print_cost=False):
            return {f"{p}{l}": np.full((layers_dims[l], layers_dims[l - 1] if p == "W" else 1), np.nan)
                    for l in range(1, len(layers_dims)) for p in "Wb"}
        """)
    (result,) = check_file(path).results
    assert result.status == "FAIL" and result.mistake is None
    assert " is nan where " in result.diagnosis


def test_a_relation_is_stated_only_where_it_holds():
    """In a training loop a missing 1/m does not make the parameters m times anything."""
    (result,) = [r for r in check_file(LEARNERS / "mistakes" / "missing_1_over_m.py").results]
    assert "the reference times m" in result.diagnosis
    from cnn_core.check import _describe_mistake, _differences, _run_here, draw_cases

    spec = next(s for s in CHAPTERS["deep"] if s.name == "L_layer_model")
    outputs = []
    for case in draw_cases("deep", spec):
        due = _run_here(spec.reference, case)
        wrong = _run_here(Course(MISTAKES["missing_1_over_m"].knobs).L_layer_model, case)
        outputs.append((case, wrong, due, _differences(spec, wrong, due), []))
    assert _describe_mistake(spec, "missing_1_over_m", outputs) == "the 1/m is missing"


def test_later_course_variants_pass(tmp_path):
    path = _write(tmp_path, _DEEP_HELPERS.replace("2 * (dZ", "(dZ") + """
    def compute_cost(A2, Y):
        m = Y.shape[1]
        return float(-np.sum(Y * np.log(A2) + (1 - Y) * np.log(1 - A2)) / m)

    def L_model_backward(AL, Y, caches):
        grads = {}
        L = len(caches)
        dA, grads["dW" + str(L)], grads["db" + str(L)] = linear_backward(AL - Y, caches[L - 1][0])
        grads["dA" + str(L)] = dA
        for l in reversed(range(L - 1)):
            dA, grads["dW" + str(l + 1)], grads["db" + str(l + 1)] = \\
                linear_activation_backward(dA, caches[l], "relu")
            grads["dA" + str(l + 1)] = dA
        return grads
    """)
    shallow_cost = check_file(path, chapter="shallow")
    assert _by_name(shallow_cost)["compute_cost"].status == "PASS"
    results = _by_name(check_file(path, chapter="deep"))
    assert results["L_model_backward"].status == "PASS"
    assert any("dZL = AL - Y" in n for n in results["L_model_backward"].notes)
    assert results["L_model_backward"].autodiff < 1e-12


def test_a_huge_timeout_is_a_usage_error(capsys):
    assert cli.main(["check", str(LEARNERS / "correct_basics.py"), "--timeout", "1e10"]) == 2
    assert "timeout must be a positive number of seconds up to 3600" in capsys.readouterr().err
