"""The command line: ``cnn-core demo`` and ``python -m cnn_core``."""
import io
import os
import subprocess
import sys


from cnn_core import cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_demo_prints_both_accuracies_and_writes_the_figures(tmp_path, capsys):
    out = tmp_path / "figures"
    assert cli.main(["demo", "--out", str(out), "--iterations", "3000"]) == 0
    text = capsys.readouterr().out
    assert "Accuracy of logistic regression: 47 %" in text
    assert "Accuracy of the 4-unit tanh network:" in text
    for name in cli.DEMO_FIGURES:
        path = out / name
        assert path.stat().st_size > 5000
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"wrote {path}" in text


def test_run_demo_reports_the_course_accuracies(tmp_path):
    result = cli.run_demo(str(tmp_path), num_iterations=10000, stream=io.StringIO())
    assert 45 <= result["logistic_accuracy"] <= 49  # the course: 47%
    assert 88 <= result["nn_accuracy"] <= 92  # the course: 90%


def test_no_command_prints_the_help_and_exits_2(capsys):
    assert cli.main([]) == 2
    assert "train" in capsys.readouterr().out


def test_python_dash_m_matches_the_console_script():
    result = subprocess.run([sys.executable, "-m", "cnn_core", "--version"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("cnn_core ")
