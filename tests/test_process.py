"""No process outlives the command that started it: success, failure, timeout, Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
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


def _mine(mark: str) -> list[int]:
    """Live processes started by this test (they inherit its marker variable)."""
    return processes_with_token("DATABOOK_TEST_MARK", mark)


@pytest.fixture
def marked():
    mark = uuid.uuid4().hex
    return mark, {**os.environ, "DATABOOK_TEST_MARK": mark}


def test_the_tree_is_ended_on_timeout(tmp_path, marked):
    mark, env = marked
    code = ESCAPING_CHILD.format(after="import time; time.sleep(120)")
    start = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        run_tree([sys.executable, "-c", code], cwd=tmp_path, env=env, capture=True, timeout=2.0)
    assert time.monotonic() - start < 15
    assert _mine(mark) == []


def test_ctrl_c_ends_the_tree(tmp_path, marked):
    """KeyboardInterrupt while waiting (what Ctrl-C raises in the build) ends everything."""
    mark, env = marked
    code = ESCAPING_CHILD.format(after="import time; time.sleep(120)")
    seen: list[int] = []

    def interrupt_when_started():
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(_mine(mark)) < 2:  # child and grandchild
            time.sleep(0.05)
        seen.extend(_mine(mark))
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

    # A process started in the background by a non-interactive shell (as CI may be)
    # inherits SIGINT ignored; Ctrl-C in a terminal raises KeyboardInterrupt.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        threading.Thread(target=interrupt_when_started, daemon=True).start()
        with pytest.raises(KeyboardInterrupt):
            run_tree([sys.executable, "-c", code], cwd=tmp_path, env=env, show=lambda _: True)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert len(seen) == 2, "the child and its grandchild should have been running"
    assert [p for p in seen if _alive(p)] == []


def test_processes_with_token_finds_only_its_own_tree(tmp_path):
    env = {**os.environ, TOKEN_VARIABLE: "abc123"}
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], env=env) as p:
        try:
            assert processes_with_token(TOKEN_VARIABLE, "abc123") == [p.pid]
            assert processes_with_token(TOKEN_VARIABLE, "other") == []
        finally:
            p.kill()


# Runs `sleep` through run_tree, with or without die_with_parent, and writes its pid.
PARENT = textwrap.dedent(
    """
    import pathlib, sys
    from databook._process import run_tree
    pidfile = pathlib.Path(sys.argv[1])
    code = f"import os, time; open({str(pidfile)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    run_tree([sys.executable, "-c", code], cwd=".", die_with_parent=sys.argv[2] == "yes")
    """
)


@pytest.mark.parametrize("die", [True, False])
def test_child_dies_with_a_sigkilled_parent_only_when_asked(tmp_path, die):
    """A SIGKILLed build runs no `finally`: mystmd must not write on (die_with_parent)."""
    pidfile = tmp_path / "child.pid"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(pidfile), "yes" if die else "no"], env=env
    )
    deadline = time.monotonic() + 30
    while not (pidfile.exists() and pidfile.read_text()):
        assert time.monotonic() < deadline and parent.poll() is None
        time.sleep(0.02)
    child = int(pidfile.read_text())
    parent.kill()
    parent.wait()
    time.sleep(0.5)
    try:
        assert _alive(child) is not die
    finally:
        if _alive(child):
            os.kill(child, signal.SIGKILL)
