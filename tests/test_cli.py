"""The databook command: arguments reach the library; failures are clean messages."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from databook import cli

UNPINNED = '[[asset]]\nkey = "allen"\ndandiset = "000021"\npath = "sub-1/sub-1_ses-2.nwb"\n'


def _project(tmp_path, script: str, lock: str = UNPINNED):
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "myst.yml").write_text("version: 1\n")
    (tmp_path / "figures_src").mkdir()
    (tmp_path / "figures_src" / "fig_x.py").write_text(script)
    (tmp_path / "environment.lock").write_text("")
    (tmp_path / "assets.lock").write_text(lock)
    return tmp_path


WRITES = (
    "import os, pathlib\nOUTPUTS = ['x.txt']\n"
    "out = pathlib.Path(os.environ['DATABOOK_FIGURE_DIR'], 'x.txt')\n"
    "out.write_text(os.environ['DATABOOK_DATA'])\n"
)


def test_figures_then_verify(tmp_path):
    root = _project(tmp_path, 'DATA = "dandi"\n' + WRITES)
    runner = CliRunner()
    result = runner.invoke(cli.main, ["figures", "--root", str(root)])
    assert result.exit_code == 0, result.output
    assert "0 figure(s) built, 0 up to date" in result.output  # a real-data figure
    result = runner.invoke(cli.main, ["figures", "--root", str(root), "--data", "dandi"])
    assert result.exit_code == 0, result.output
    assert "1 figure(s) built, 0 up to date" in result.output
    assert (root / "figures" / "x.txt").read_text() == "dandi"
    verify = ["verify", "--root", str(root), "--data", "dandi"]
    assert runner.invoke(cli.main, verify).exit_code == 0
    # A demo build has no real-data figure to be stale; its outputs are still checked.
    result = runner.invoke(cli.main, ["verify", "--root", str(root), "--data", "demo"])
    assert result.exit_code == 0, result.output
    (root / "figures" / "x.txt").write_text("changed")
    result = runner.invoke(cli.main, verify)
    assert result.exit_code == 1
    assert "x.txt: sha256" in result.output


def test_failing_figure_is_a_clean_error(tmp_path):
    root = _project(tmp_path, "OUTPUTS = ['x.txt']\nraise SystemExit('no data for fig_x')\n")
    result = CliRunner().invoke(cli.main, ["figures", "--root", str(root)])
    assert result.exit_code == 1
    assert "Error: 1 figure script(s) failed" in result.output
    assert "no data for fig_x" in result.output
    assert "Traceback" not in result.output


def test_outside_a_project_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABOOK_ROOT", raising=False)
    result = CliRunner().invoke(cli.main, ["verify", "--root", str(tmp_path)])
    assert result.exit_code == 1
    assert f"no databook project (myst.yml + figures_src/) in {tmp_path}" in result.output


def test_root_option_wins_over_the_environment(tmp_path, monkeypatch):
    first = _project(tmp_path / "a", "OUTPUTS = ['x.txt']\nraise SystemExit('from a')\n")
    second = _project(tmp_path / "b", "OUTPUTS = ['x.txt']\nraise SystemExit('from b')\n")
    monkeypatch.setenv("DATABOOK_ROOT", str(first))
    result = CliRunner().invoke(cli.main, ["figures", "--root", str(second)])
    assert "from b" in result.output and "from a" not in result.output
    result = CliRunner().invoke(cli.main, ["figures"])  # no --root: the environment's
    assert "from a" in result.output


def test_console_script_and_fast_import():
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import databook"],
        capture_output=True,
        text=True,
        check=True,
    )
    heavy = [
        m
        for m in ("numpy", "matplotlib", "pynwb", "h5py", "dask", "distributed", "pyarrow")
        if f" {m}\n" in proc.stderr
    ]
    assert heavy == [], f"import databook pulled in {heavy}"
    total_us = int(proc.stderr.strip().splitlines()[-1].split("|")[1])
    assert total_us < 300_000, f"import databook took {total_us / 1e6:.2f} s"
    help_text = subprocess.run(
        [sys.executable, "-m", "databook.cli", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for command in ("build", "figures", "verify"):
        assert command in help_text


def test_build_in_dandi_mode_refuses_unpinned_inputs_before_running(tmp_path):
    script = "DATA = 'dandi'\nOUTPUTS = ['x.txt']\nINPUTS = ['allen']\nraise SystemExit(1)\n"
    root = _project(tmp_path, script)
    result = CliRunner().invoke(cli.main, ["build", "--root", str(root), "--data", "dandi"])
    assert result.exit_code == 1
    assert "allen (000021/?/sub-1/sub-1_ses-2.nwb): not pinned" in result.output
    assert "databook pin 000021/VERSION/sub-1/sub-1_ses-2.nwb --key allen" in result.output
    assert not (root / "figures").exists()


def test_dandi_build_without_any_real_data_figure_is_refused(tmp_path):
    """A build asked for real data must never come out as the simulated article alone."""
    root = _project(tmp_path, WRITES)
    result = CliRunner().invoke(cli.main, ["build", "--root", str(root), "--data", "dandi"])
    assert result.exit_code == 1
    assert 'no figure script draws from real data (DATA = "dandi")' in result.output
    assert not (root / "figures").exists()


def test_dandi_build_names_an_input_it_cannot_fetch_and_how_to_supply_it(tmp_path, monkeypatch):
    import socket

    monkeypatch.setenv("DATABOOK_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("DANDI_API_URL", raising=False)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/x"
    pinned = (
        '[[asset]]\nkey = "allen"\ndandiset = "000021"\nversion = "0.210913.1639"\n'
        'path = "sub-1/x.nwb"\nsize = 10\nsha256 = "' + "a" * 64 + '"\n'
        f'url = "{dead}"\n'
    )
    (tmp_path / "p").mkdir()
    script = "DATA = 'dandi'\nINPUTS = ['allen']\n" + WRITES
    root = _project(tmp_path / "p", script, lock=pinned)
    result = CliRunner().invoke(cli.main, ["build", "--root", str(root), "--data", "dandi"])
    assert result.exit_code == 1
    assert "--data dandi needs 1 real asset(s) it could not fetch (use --from DIR" in result.output
    assert f"cannot download allen (000021/0.210913.1639/sub-1/x.nwb) from {dead}" in result.output
    assert not (root / "figures" / "x.txt").exists()


def test_figures_command_passes_declared_inputs_like_build(tmp_path, monkeypatch):
    """`databook figures` used to call the runner without the lock's hashes."""
    import hashlib

    cache = tmp_path / "cache"
    monkeypatch.setenv("DATABOOK_CACHE", str(cache))
    sha = hashlib.sha256(b"abc").hexdigest()
    (cache / "000021" / "1.0").mkdir(parents=True)
    (cache / "000021" / "1.0" / "y.nwb").write_bytes(b"abc")  # a verified copy, already here
    lock = UNPINNED + (
        '\n[[asset]]\nkey = "allen2"\ndandiset = "000021"\nversion = "1.0"\npath = "y.nwb"\n'
        f'size = 3\nsha256 = "{sha}"\nurl = "https://example.org/y"\n'
    )
    script = "DATA = 'dandi'\n" + WRITES.replace("OUTPUTS", "INPUTS = ['allen2']\nOUTPUTS")
    root = _project(tmp_path, script, lock)
    result = CliRunner().invoke(cli.main, ["figures", "--root", str(root), "--data", "dandi"])
    assert result.exit_code == 0, result.output
    record = (root / "figures" / "fig_x.provenance.json").read_text()
    assert f'"sha256": "{sha}"' in record
    assert '"version": "1.0"' in record


@pytest.mark.parametrize(
    ("lock", "message"),
    [
        ("[[asset]\nkey = 1", "assets.lock: not valid TOML: "),
        ("", "assets.lock: no [[asset]] entries (an empty lock pins nothing)"),
        ("version = 2\n" + UNPINNED, "assets.lock: lock format version 2 is not the one"),
        ('[[asset]]\nkey = "a"\ndandiset = "000021"\n', "[[asset]] #1 (a) lacks path"),
        (UNPINNED + 'size = "big"\n', "(allen): size must be a whole number of bytes, got 'big'"),
        (UNPINNED + 'sha256 = "abc"\n', "(allen): sha256 must be 64 lowercase hex digits, got 'ab"),
        (UNPINNED + 'colour = "red"\n', "[[asset]] #1 (allen): unknown field(s) ['colour']"),
        (UNPINNED + 'url = "ftp://x"\n', "[[asset]] #1 (allen): url must start with https://"),
        (UNPINNED + UNPINNED, "[[asset]] #2: duplicate key 'allen'"),
    ],
)  # fmt: skip
def test_malformed_lock_names_file_entry_and_field(tmp_path, lock, message):
    root = _project(tmp_path, WRITES, lock=lock)
    result = CliRunner().invoke(cli.main, ["fetch", "--root", str(root)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert f"Error: {root / 'assets.lock'}" in result.output
    assert message in result.output


def test_missing_lock_is_a_message(tmp_path):
    root = _project(tmp_path, WRITES)
    (root / "assets.lock").unlink()
    result = CliRunner().invoke(cli.main, ["fetch", "--root", str(root)])
    assert result.exit_code == 1
    assert f"Error: {root / 'assets.lock'}: no such file" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["figures", "-j", "-3"], "Invalid value for '--jobs' / '-j': -3 is not in the range x>=1"),
        (["build", "-j", "0"], "Invalid value for '--jobs' / '-j': 0 is not in the range x>=1"),
        (["demo", "--seed", "-1"], "Invalid value for '--seed': -1 is not in the range"),
    ],
)
def test_bad_option_values_are_refused_with_the_value(tmp_path, args, message):
    root = _project(tmp_path, WRITES)
    result = CliRunner().invoke(cli.main, [*args, "--root", str(root)])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_the_error_mapper_is_the_only_one():
    """One place turns library errors into messages; commands do not catch them again."""
    import inspect

    source = inspect.getsource(cli)
    assert source.count("except DatabookError") == 1
    assert "ClickException(str(err))" in source and source.count("ClickException(str(") == 1


def test_cli_and_sessions_import_no_dask():
    """`databook across` and `databook.sessions` import dask, distributed and pyarrow only
    when a run starts: every other command stays as fast as before."""
    code = (
        "import sys, databook.cli, databook.sessions\n"
        "print(sorted(m for m in ('dask', 'distributed', 'pyarrow') if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_import_databook_gives_every_public_module_lazily():
    code = (
        "import sys, databook\n"
        "assert 'numpy' not in sys.modules\n"
        "for name in databook.__all__[1:]:\n"
        "    getattr(databook, name)\n"
        "print(databook.align.event_counts.__name__, databook.demo.generate.__name__)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["event_counts", "generate"]


def test_the_package_has_no_import_cycle():
    """Each module's `databook.*` imports, followed transitively, never come back to it."""
    import ast
    from pathlib import Path

    import databook

    package = Path(databook.__file__).parent
    graph: dict[str, set[str]] = {}
    for path in package.rglob("*.py"):
        rel = path.relative_to(package.parent).with_suffix("")
        name = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        deps = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("databook."):
                deps.add(node.module)
            elif isinstance(node, ast.Import):
                deps |= {a.name for a in node.names if a.name.startswith("databook.")}
        graph[name] = {d for d in deps if d != name and not name.startswith(d + ".")}

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for dep in graph.get(start, ()):
            if dep == goal or (dep not in seen and reaches(dep, goal, seen | {dep})):
                return True
        return False

    cycles = sorted(name for name in graph if reaches(name, name, {name}))
    assert cycles == [], f"modules in an import cycle: {cycles}"
