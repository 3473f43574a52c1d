"""No process outlives the command that started it: success, failure, timeout, Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from databook._process import TOKEN_VARIABLE, processes_with_token, run_tree

# A child that starts a grandchild in a session of its own (as Jupyter starts kernels),
# prints its pid and returns while the grandchild sleeps on with parent 1.
ESCAPING_CHILD = textwrap.dedent(
    """
    import subprocess, sys
    g = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"],
                         start_new_session=True)
    print(g.pid, flush=True)
    {after}
    """
)


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _grandchild(out: str) -> int:
    return int(out.split()[0])


def test_a_detached_grandchild_is_ended_when_the_child_returns(tmp_path):
    proc = run_tree(
        [sys.executable, "-c", ESCAPING_CHILD.format(after="")], cwd=tmp_path, capture=True
    )
    assert proc.returncode == 0
    assert not _alive(_grandchild(proc.stdout))


def test_the_tree_is_ended_when_the_child_fails(tmp_path):
    code = ESCAPING_CHILD.format(after="sys.exit(3)")
    proc = run_tree([sys.executable, "-c", code], cwd=tmp_path, capture=True)
    assert proc.returncode == 3
    assert not _alive(_grandchild(proc.stdout))


def test_the_tree_is_ended_on_timeout(tmp_path):
    code = ESCAPING_CHILD.format(after="import time; time.sleep(120)")
    start = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        run_tree([sys.executable, "-c", code], cwd=tmp_path, capture=True, timeout=1.0)
    assert time.monotonic() - start < 15
    # the grandchild's pid was printed before the timeout; find it by the token instead
    assert [p for p in _all_tokened() if p != os.getpid()] == []


def _all_tokened() -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                env = Path(f"/proc/{entry}/environ").read_bytes()
            except OSError:
                continue
            if f"{TOKEN_VARIABLE}=".encode() in env and _alive(int(entry)):
                found.append(int(entry))
    return found


def test_ctrl_c_ends_the_tree(tmp_path):
    """KeyboardInterrupt while waiting (what Ctrl-C raises in the build) ends everything."""
    code = ESCAPING_CHILD.format(after="import time; time.sleep(120)")
    pids: list[int] = []

    def interrupt_when_started():
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(pids) < 1:
            pids.extend(p for p in _all_tokened() if p != os.getpid())
            time.sleep(0.05)
        time.sleep(0.5)  # let the grandchild start too
        pids[:] = _all_tokened()
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

    threading.Thread(target=interrupt_when_started, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        run_tree([sys.executable, "-c", code], cwd=tmp_path, show=lambda line: True)
    assert len(pids) >= 2, "the child and its grandchild should have been running"
    assert [p for p in pids if _alive(p)] == []


def test_processes_with_token_finds_only_its_own_tree(tmp_path):
    env = {**os.environ, TOKEN_VARIABLE: "abc123"}
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], env=env) as p:
        try:
            assert processes_with_token(TOKEN_VARIABLE, "abc123") == [p.pid]
            assert processes_with_token(TOKEN_VARIABLE, "other") == []
        finally:
            p.kill()
