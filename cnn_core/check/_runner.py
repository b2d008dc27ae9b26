"""The parent's side of the child process that runs a learner's code.

One child per checked file, started with the learner's imports and definitions loaded.
Each request has a deadline: the child's own soft limit stops a Python loop with its
line; past the deadline plus :data:`GRACE` seconds (code stuck in C, a learner's
``except BaseException``) the child is killed, and a new one is started for the next
function. A child that dies (``os._exit``, a segfault) is reported the same way.
"""
from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading

import cnn_core

from ._worker import receive, send

__all__ = ["Worker", "WorkerLost", "GRACE"]

#: Seconds past a request's time limit before the child is killed.
GRACE = 2.0
#: Seconds a new child gets to import NumPy and load the learner's definitions.
STARTUP_TIMEOUT = 60.0


class WorkerLost(RuntimeError):
    """The child stopped answering: ``reason`` is ``"timeout"`` or ``"crash"``;
    ``loading`` says whether it was loading the file rather than running a function."""

    def __init__(self, reason, detail, loading=False):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.loading = loading


def _describe_exit(code):
    if code is None:
        return "did not exit"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


class Worker:
    """A child process holding the learner's functions, started on the first call."""

    def __init__(self, segments, helpers, statement_timeout):
        self._segments = segments
        self._helpers = helpers
        self._statement_timeout = statement_timeout
        self._process = None
        self._replies = None
        self._workdir = tempfile.TemporaryDirectory(prefix="cnn-core-check-")
        self.load_problems = []

    # -- lifecycle ----------------------------------------------------------------------

    def _environment(self):
        env = dict(os.environ)
        # The child imports this very copy of cnn_core (a source tree or an install).
        root = os.path.dirname(os.path.dirname(os.path.abspath(cnn_core.__file__)))
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        env["MPLBACKEND"] = "Agg"  # a learner's plt.show() opens no window
        env.setdefault("OPENBLAS_NUM_THREADS", "1")  # small arrays: no thread pool to spin
        return env

    def _start(self):
        """Start the child and load the file's definitions; WorkerLost if that fails."""
        self._process = subprocess.Popen(
            [sys.executable, "-m", "cnn_core.check._worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            cwd=self._workdir.name, env=self._environment(),
            # Its own process group, so that whatever the learner's code starts dies with it.
            start_new_session=hasattr(os, "killpg"),
        )
        self._replies = queue.Queue()
        threading.Thread(target=self._read_replies, args=(self._process, self._replies),
                         daemon=True).start()
        statements = sum(len(s["imports"]) + len(s["functions"]) for s in self._segments)
        reply = self._request({"op": "load", "segments": self._segments, "helpers": self._helpers,
                               "statement_timeout": self._statement_timeout},
                              STARTUP_TIMEOUT + statements * (self._statement_timeout + GRACE))
        self.load_problems = reply.get("problems", [])

    @staticmethod
    def _read_replies(process, replies):
        try:
            while True:
                message = receive(process.stdout)
                replies.put(message)
                if message is None:
                    return
        except Exception:  # noqa: BLE001 - a broken pipe or a bad pickle ends the child
            replies.put(None)

    def close(self):
        if self._process is not None:
            self._kill()
        self._workdir.cleanup()

    def _kill(self):
        process, self._process = self._process, None
        if process.poll() is None:
            try:
                if hasattr(os, "killpg"):
                    os.killpg(process.pid, signal.SIGKILL)
                else:  # pragma: no cover - Windows
                    process.kill()
            except ProcessLookupError:
                pass
        process.wait()
        for stream in (process.stdin, process.stdout):
            try:
                stream.close()
            except OSError:
                pass
        return process.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- requests -----------------------------------------------------------------------

    def _request(self, message, deadline):
        try:
            send(self._process.stdin, message)
        except (BrokenPipeError, OSError):
            pass  # the child is gone; the reader thread reports it
        try:
            reply = self._replies.get(timeout=deadline)
        except queue.Empty:
            self._kill()
            raise WorkerLost("timeout", f"no answer within {deadline:g} s; the process was killed")
        if reply is None:
            code = self._kill()
            raise WorkerLost("crash", f"the process running it died ({_describe_exit(code)})")
        return reply

    def call(self, name, cases, timeout):
        """The per-case results of ``name`` on ``cases``; (re)starts the child if needed.

        Raises WorkerLost when the child dies or stops answering, while loading the
        file's definitions or while running ``name``.
        """
        if self._process is None:
            try:
                self._start()
            except WorkerLost as lost:
                raise WorkerLost(lost.reason, "loading the file's imports and definitions "
                                 f"failed: {lost.detail}", loading=True) from None
        message = {"op": "call", "name": name, "cases": cases, "timeout": timeout}
        return self._request(message, timeout + GRACE)["results"]
