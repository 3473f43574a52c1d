"""Bad files and bad parameters, tried on every command that takes them: a non-zero exit,
one message naming the input, no traceback, nothing written to ``--out`` and no process
left behind; all before a kernel or a session starts.

The table is the issue's: empty, text and truncated files, an HDF5 file that is not NWB,
a directory, a missing path, an unreachable URL on 127.0.0.1; every chapter parameter with
a value of the wrong type, a reversed window and a negative duration; an unknown name.
"""

from __future__ import annotations

import socket
import uuid
from pathlib import Path

import h5py
import pytest
from click.testing import CliRunner

from databook import cli
from databook._process import processes_with_token
from databook.nwb import SourceNotFoundError
from databook.run import chapter_defaults
from tests.conftest import ROOT

CHAPTERS = sorted(p for p in (ROOT / "chapters").glob("0[1-8]-*.md"))
#: Numbers that are durations in seconds although their names do not end in ``_s``.
DURATIONS = {"smooth_tau", "dt", "max_gap", "max_latency", "ks_window"}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed on exit: connections are refused


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory, demo) -> dict[str, str]:
    """``{case: path or URL}`` of every kind of bad file."""
    folder = tmp_path_factory.mktemp("bad")
    (folder / "empty.nwb").write_bytes(b"")
    (folder / "text.nwb").write_text("session,unit\n1,2\n")
    head = demo.paths["demo-ecephys"].read_bytes()[:100_000]
    (folder / "truncated.nwb").write_bytes(head)
    with h5py.File(folder / "plain.h5", "w") as f:
        f["data"] = [1.0, 2.0]
    (folder / "folder.nwb").mkdir()
    return {
        "empty": str(folder / "empty.nwb"),
        "text": str(folder / "text.nwb"),
        "truncated": str(folder / "truncated.nwb"),
        "hdf5 not NWB": str(folder / "plain.h5"),
        "directory": str(folder / "folder.nwb"),
        "missing": str(folder / "missing.nwb"),
        "unreachable URL": f"http://127.0.0.1:{_closed_port()}/sub-1/sub-1.nwb",
    }


def _refused(args: list[str], *, names: str, out: Path | None = None, env=None) -> str:
    """Run ``databook ARGS`` in-process and assert the issue's five points; the message."""
    token = uuid.uuid4().hex  # inherited by any process the command starts
    result = CliRunner().invoke(cli.main, args, env={**(env or {}), "DATABOOK_BAD_INPUT": token})
    where = f"databook {' '.join(args)}:\n{result.output}"
    assert result.exit_code != 0, where
    assert isinstance(result.exception, SystemExit), f"{where}\n{result.exception!r}"
    assert "Traceback" not in result.output, where
    assert result.output.count("Error:") == 1, where
    assert names in result.output, f"the message does not name {names!r}: {where}"
    if out is not None:
        assert not out.exists() or not any(out.iterdir()), f"{where}\nwrote {list(out.iterdir())}"
    left = processes_with_token("DATABOOK_BAD_INPUT", token)
    assert left == [], f"{where}\nleft processes {left}"
    return result.output


CASES = ["empty", "text", "truncated", "hdf5 not NWB", "directory", "missing", "unreachable URL"]


@pytest.mark.parametrize("case", CASES)
def test_inspect_refuses_a_bad_file_in_one_message(bad_files, case):
    _refused(["inspect", bad_files[case]], names=Path(bad_files[case]).name)


@pytest.mark.parametrize("case", CASES)
def test_run_refuses_a_bad_file_before_any_cell_runs(bad_files, case, tmp_path):
    out = tmp_path / "out"
    args = ["run", "04", "--nwb", bad_files[case], "--out", str(out)]
    _refused(args, names=Path(bad_files[case]).name, out=out)


def test_a_bad_file_says_what_it_is(bad_files):
    """Each kind gets its own reason, not one catch-all."""
    said = {case: _refused(["inspect", bad_files[case]], names="") for case in CASES}
    assert "not a readable HDF5" in said["text"] and "truncated" in said["truncated"]
    assert "not an NWB file" in said["hdf5 not NWB"] and "data" in said["hdf5 not NWB"]
    assert "is a directory" in said["directory"]
    assert "neither an existing file" in said["missing"]
    assert "cannot stream" in said["unreachable URL"]


def _bad_values(default):
    """``[(what, value)]``: values of the wrong type for a parameter with ``default``, and
    a reversed window for a window."""
    if isinstance(default, bool):
        return [("wrong type", "yes")]
    if isinstance(default, int | float):
        return [("wrong type", "abc")]
    if isinstance(default, str):
        return [("wrong type", "3.5")]
    if isinstance(default, tuple) and len(default) == 2 and default[0] < default[1]:
        return [("wrong type", "abc"), ("reversed window", repr(default[::-1]))]
    if isinstance(default, dict | tuple | list):
        return [("wrong type", "7")]
    return []


PARAMETER_CASES = [
    pytest.param(chapter.name[:2], name, value, id=f"{chapter.name[:2]}-{name}-{what}")
    for chapter in CHAPTERS
    for name, default in chapter_defaults(chapter).items()
    for what, value in [
        *_bad_values(default),
        *(
            [("negative duration", "-0.5")]
            if isinstance(default, float) and (name.endswith("_s") or name in DURATIONS)
            else []
        ),
    ]
]


@pytest.mark.parametrize(("chapter", "name", "value"), PARAMETER_CASES)
def test_run_refuses_a_bad_parameter_before_a_kernel_starts(chapter, name, value, tmp_path):
    out = tmp_path / "out"
    args = ["run", chapter, "-p", name, value, "--out", str(out)]
    message = _refused(args, names=f"-p {name} ", out=out)
    assert "default:" in message  # says what the parameter was


def test_the_issue_case_names_parameter_value_and_reason(tmp_path):
    out = tmp_path / "out"
    args = ["run", "04", "-p", "response_window", "(0.5, 0.1)", "--out", str(out)]
    message = _refused(args, names="-p response_window (0.5, 0.1): stop must be after start")
    assert "(default: (0.0, 0.25))" in message


def test_every_chapters_own_defaults_pass_its_rules():
    """The rules refuse nothing the article itself runs with (else `databook run` would
    refuse the chapter's own values given back with -p)."""
    from databook import paramrules
    from databook.figures import discover

    for chapter in CHAPTERS:
        defaults = chapter_defaults(chapter)
        paramrules.check(defaults, defaults, owner=chapter.stem)
    for script in discover(ROOT / "figures_src"):
        paramrules.check(script.parameters, script.parameters, owner=script.path.name)


@pytest.mark.parametrize("chapter", [c.name[:2] for c in CHAPTERS])
def test_an_unknown_parameter_names_the_close_one(chapter, tmp_path):
    name = next(iter(chapter_defaults(ROOT / "chapters" / _stem(chapter))))
    misspelt = name[:-1] + ("x" if name[-1] != "x" else "y")
    message = _refused(
        ["run", chapter, "-p", misspelt, "1", "--out", str(tmp_path)], names=misspelt
    )
    assert f"did you mean {name}?" in message


def _stem(number: str) -> str:
    return next(c.name for c in CHAPTERS if c.name.startswith(number))


def test_across_checks_its_parameters_and_the_archive_before_any_session(tmp_path):
    base = ["across", "responsive_units", "--assets", "demo-ecephys"]
    message = _refused([*base, "--param", "q=abc"], names="--param q=abc")
    assert "must be a number > 0 and < 1" in message  # q: a false-discovery rate
    _refused([*base, "--param", "q=1.5"], names="must be a number > 0 and < 1")
    _refused([*base, "--param", "response_window=[0.3, 0.1]"], names="stop must be after start")
    _refused([*base, "--param", "quality_filtr=true"], names="did you mean quality_filter?")
    url = f"http://127.0.0.1:{_closed_port()}"
    args = ["across", "responsive_units", "--dandiset", "000006/0.220126.1855", "--api-url", url]
    _refused(args, names=f"cannot reach the DANDI API at {url}")
    _refused(["across", "responsive_units", "--assets", "no-such-key"], names="no-such-key")


@pytest.mark.parametrize("command", [["fetch"], ["build", "--data", "dandi", "--no-pdf"]])
def test_from_a_folder_that_is_not_one_is_refused_once(command, tmp_path, bad_files):
    for folder in (tmp_path / "nowhere", Path(bad_files["text"])):
        result = CliRunner().invoke(cli.main, [*command, "--from", str(folder)])
        assert result.exit_code == 2, result.output
        assert result.output.count(str(folder)) == 1, result.output
        assert "Traceback" not in result.output


def test_debug_keeps_the_traceback(bad_files):
    for args, env in ((["--debug"], None), ([], {"DATABOOK_DEBUG": "1"})):
        result = CliRunner().invoke(cli.main, [*args, "inspect", bad_files["missing"]], env=env)
        assert isinstance(result.exception, SourceNotFoundError), result.output
    result = CliRunner().invoke(cli.main, ["inspect", bad_files["missing"]])
    assert isinstance(result.exception, SystemExit)
