"""Run a child process so that nothing it starts outlives it.

mystmd starts a Jupyter server, which starts kernels in sessions of their own; when
mystmd exits, those stay behind with parent 1. Every child we start gets a token in
its environment (inherited by all its descendants, whatever session or process group
they move to) and runs in a new session; when it returns, fails, times out or we are
interrupted (Ctrl-C), every process still carrying the token is terminated, then
killed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

__all__ = ["TOKEN_VARIABLE", "end_processes_with_token", "processes_with_token", "run_tree"]

TOKEN_VARIABLE = "DATABOOK_PROCESS_TREE"
#: Seconds a process tree gets between SIGTERM and SIGKILL.
GRACE_S = 5.0


def processes_with_token(variable: str, value: str) -> list[int]:
    """PIDs of live processes whose environment has ``variable=value`` (Linux /proc)."""
    needle = f"{variable}={value}".encode()
    found = []
    for entry in Path("/proc").iterdir() if Path("/proc/self/environ").exists() else ():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and needle in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def _signal_all(pids: Sequence[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def end_processes_with_token(variable: str, value: str, grace: float = GRACE_S) -> list[int]:
    """SIGTERM every live process with ``variable=value``, SIGKILL those left after ``grace``.

    Returns the PIDs found. For processes whose parent is gone (a killed build's mystmd,
    Jupyter kernels, LaTeX), which :func:`run_tree` could not end.
    """
    found = processes_with_token(variable, value)
    _signal_all(found, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and processes_with_token(variable, value):
        time.sleep(0.05)
    _signal_all(processes_with_token(variable, value), signal.SIGKILL)
    return found


#: Starts a command that gets SIGKILL when the process that started it dies (Linux).
_DIE_WITH_PARENT = """\
import ctypes, os, signal, sys
parent = int(sys.argv[1])
try:
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
except (AttributeError, OSError):
    pass
if os.getppid() != parent:  # the parent died before prctl took effect
    sys.exit(137)
os.execvp(sys.argv[2], sys.argv[2:])
"""


def _end_tree(proc: subprocess.Popen, token: str) -> None:
    """Terminate the child's whole tree: SIGTERM, a grace period, then SIGKILL."""
    with_group = proc.poll() is None
    if with_group:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass
    _signal_all(processes_with_token(TOKEN_VARIABLE, token), signal.SIGTERM)
    deadline = time.monotonic() + GRACE_S
    while time.monotonic() < deadline:
        if proc.poll() is not None and not processes_with_token(TOKEN_VARIABLE, token):
            return
        time.sleep(0.05)
    if proc.poll() is None:
        proc.kill()
    _signal_all(processes_with_token(TOKEN_VARIABLE, token), signal.SIGKILL)
    proc.wait()


def run_tree(
    command: Sequence[str],
    *,
    cwd: str | os.PathLike[str],
    env: dict[str, str] | None = None,
    timeout: float | None = None,
    capture: bool = False,
    show: Callable[[str], bool] | None = None,
    die_with_parent: bool = False,
) -> subprocess.CompletedProcess:
    """Run ``command`` to completion and end every process it started, however we leave.

    ``die_with_parent``: the child is killed if this process dies, even by SIGKILL,
    which leaves no ``finally`` to run (Linux; call from the main thread: the kernel
    sends the signal when the *thread* that started the child ends).

    ``capture`` collects stdout and stderr (text) in the result. ``show``, if given,
    receives each line of the merged output and returns whether to print it to our
    stdout (to hide lines that mean nothing to the user). Raises
    :class:`subprocess.TimeoutExpired` after ``timeout`` seconds, with the tree ended.
    """
    token = uuid.uuid4().hex
    if die_with_parent:
        command = [sys.executable, "-c", _DIE_WITH_PARENT, str(os.getpid()), *command]
    child_env = {**(os.environ if env is None else env), TOKEN_VARIABLE: token}
    # Output goes to files or a reader thread, never waited on directly: a process that
    # escaped the tree may hold the pipe open long after the child has returned.
    with contextlib.ExitStack() as stack:
        out = err = None
        if capture:
            out = stack.enter_context(tempfile.TemporaryFile("w+", encoding="utf-8"))
            err = stack.enter_context(tempfile.TemporaryFile("w+", encoding="utf-8"))
        elif show is not None:
            out, err = subprocess.PIPE, subprocess.STDOUT
        proc = stack.enter_context(
            subprocess.Popen(
                list(command),
                cwd=cwd,
                env=child_env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                text=True,
                start_new_session=True,
            )
        )
        reader = None
        if show is not None and not capture:
            reader = threading.Thread(target=_echo, args=(proc.stdout, show), daemon=True)
            reader.start()
        try:
            proc.wait(timeout=timeout)
        finally:
            _end_tree(proc, token)
            if reader is not None:
                reader.join(timeout=GRACE_S)
        if not capture:
            return subprocess.CompletedProcess(proc.args, proc.returncode)
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(proc.args, proc.returncode, out.read(), err.read())


def _echo(stream, show: Callable[[str], bool]) -> None:
    for line in stream:
        if show(line):
            sys.stdout.write(line)
            sys.stdout.flush()
