"""The figure runner: cache keys, atomic outputs, failures, provenance and verify."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from databook import figures, modulehash
from databook.figures import FigureError, FigureScript, run_figures, verify

GOOD = """
from pathlib import Path
import os
OUTPUTS = ["fig_a.txt"]
INPUTS = {inputs}
out = Path(os.environ.get("DATABOOK_FIGURE_DIR", Path(__file__).parent))
(out / "fig_a.txt").write_text("value {value} " + os.environ["DATABOOK_DATA"])
"""


def _project(tmp_path: Path, value: int = 1, inputs: str = "[]") -> tuple[Path, Path, Path]:
    src = tmp_path / "figures_src"
    src.mkdir(exist_ok=True)
    (src / "fig_a.py").write_text(GOOD.format(value=value, inputs=inputs))
    lock = tmp_path / "environment.lock"
    if not lock.exists():
        lock.write_text("numpy==2.0 --hash=sha256:00\n")
    return src, tmp_path / "figures", lock


def _run(src, out, lock, **kwargs):
    return {r.name: r.status for r in run_figures(src, out, environment_lock=lock, **kwargs)}


def test_runs_once_then_cached_until_an_input_changes(tmp_path):
    src, out, lock = _project(tmp_path)
    assert _run(src, out, lock) == {"fig_a": "built"}
    assert (out / "fig_a.txt").read_text() == "value 1 demo"
    assert _run(src, out, lock) == {"fig_a": "cached"}
    # A demo figure draws from the demo in a dandi build too: nothing to redraw.
    assert _run(src, out, lock, data_mode="dandi") == {"fig_a": "cached"}
    # Environment lock, script and input asset hashes each invalidate.
    lock.write_text("numpy==2.1 --hash=sha256:11\n")
    assert _run(src, out, lock, data_mode="dandi") == {"fig_a": "built"}
    _project(tmp_path, value=2, inputs="['ecephys']")
    hashes = {"ecephys": "aa" * 32}
    assert _run(src, out, lock, asset_hashes=hashes) == {"fig_a": "built"}
    assert _run(src, out, lock, asset_hashes=hashes) == {"fig_a": "cached"}
    assert _run(src, out, lock, asset_hashes={"ecephys": "bb" * 32}) == {"fig_a": "built"}


def test_altered_or_deleted_output_is_rebuilt(tmp_path):
    src, out, lock = _project(tmp_path)
    _run(src, out, lock)
    (out / "fig_a.txt").write_text("edited by hand")
    assert _run(src, out, lock) == {"fig_a": "built"}
    (out / "fig_a.txt").unlink()
    assert _run(src, out, lock) == {"fig_a": "built"}


def test_library_module_change_changes_key(tmp_path):
    pkg = tmp_path / "databook"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "helpers.py").write_text("from .core import x\n")
    (pkg / "core.py").write_text("x = 1\n")
    script = tmp_path / "fig_b.py"
    script.write_text("OUTPUTS = ['b.png']\nfrom databook import helpers\n")
    fig = FigureScript.read(script)
    assert set(modulehash.local_modules(script, pkg)) == {
        "databook",
        "databook.helpers",
        "databook.core",
    }
    lock = tmp_path / "environment.lock"
    lock.write_text("x")
    key = figures.cache_key(
        fig, environment_lock=lock, data_mode="demo", asset_hashes={}, package_dir=pkg
    )
    (pkg / "core.py").write_text("x = 2\n")  # a transitive import changed
    assert key != figures.cache_key(
        fig, environment_lock=lock, data_mode="demo", asset_hashes={}, package_dir=pkg
    )


def test_failed_script_leaves_previous_output_and_no_partial_file(tmp_path):
    src, out, lock = _project(tmp_path)
    _run(src, out, lock)
    (src / "fig_a.py").write_text(
        textwrap.dedent(
            """
            import os, pathlib
            OUTPUTS = ["fig_a.txt"]
            out = pathlib.Path(os.environ["DATABOOK_FIGURE_DIR"])
            (out / "fig_a.txt").write_text("half a fig")
            raise RuntimeError("boom while drawing")
            """
        )
    )
    with pytest.raises(FigureError, match=r"fig_a: exit code 1[\s\S]*boom while drawing"):
        run_figures(src, out, environment_lock=lock)
    assert (out / "fig_a.txt").read_text() == "value 1 demo"
    assert not list(out.glob(".staging-*"))
    assert verify(out) == []


def test_missing_declared_output_is_an_error(tmp_path):
    src, out, lock = _project(tmp_path)
    (src / "fig_a.py").write_text("OUTPUTS = ['fig_a.png', 'fig_a.pdf']\n")
    with pytest.raises(
        FigureError, match=r"did not write declared output\(s\) fig_a.png, fig_a.pdf"
    ):
        run_figures(src, out, environment_lock=lock)


def test_timeout_is_reported(tmp_path):
    src, out, lock = _project(tmp_path)
    (src / "fig_a.py").write_text("import time\nOUTPUTS = ['x.png']\ntime.sleep(30)\n")
    with pytest.raises(FigureError, match=r"timed out after 0\.5 s"):
        run_figures(src, out, environment_lock=lock, timeout=0.5)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("x = 1\n", "declares no OUTPUTS"),
        ("OUTPUTS = 'a.png'\n", "list of strings"),
        ("OUTPUTS = [name]\n", "literal list"),
        ("OUTPUTS = ['../a.png']\n", "bare file name"),
        ("OUTPUTS = [\n", "cannot parse"),
    ],
)
def test_malformed_declarations_name_the_script(tmp_path, source, message):
    script = tmp_path / "fig_bad.py"
    script.write_text(source)
    with pytest.raises(FigureError, match=message) as err:
        FigureScript.read(script)
    assert "fig_bad.py" in str(err.value)


def test_unknown_input_asset_is_refused_before_running(tmp_path):
    src, out, lock = _project(tmp_path, inputs="['ophys-day9']")
    with pytest.raises(FigureError, match=r"ophys-day9 not in assets\.lock"):
        run_figures(src, out, environment_lock=lock)
    assert not out.exists() or not (out / "fig_a.txt").exists()


def test_provenance_record_and_verify(tmp_path):
    src, out, lock = _project(tmp_path, inputs="['ecephys']")
    run_figures(
        src,
        out,
        environment_lock=lock,
        asset_hashes={"ecephys": "cd" * 32},
        asset_records={"ecephys": {"dandiset": "000021", "version": "0.210913.1639"}},
    )
    record = json.loads((out / "fig_a.provenance.json").read_text())
    assert record["script"] == "figures_src/fig_a.py"
    assert record["inputs"] == [
        {"key": "ecephys", "sha256": "cd" * 32, "dandiset": "000021", "version": "0.210913.1639"}
    ]
    assert record["data_mode"] == "demo"
    assert record["outputs"][0]["file"] == "fig_a.txt"
    assert len(record["environment_lock_sha256"]) == 64
    assert verify(out, src) == []
    (out / "fig_a.txt").write_text("tampered")
    problems = verify(out, src)
    assert len(problems) == 1 and problems[0].startswith("fig_a.txt: sha256")


def test_real_figure_rebuilds_byte_identical(root, tmp_path):
    """The intro figure, rebuilt from scratch twice, gives the same bytes."""
    env_lock = root / "environment.lock"
    shas = []
    for attempt in range(2):
        out = tmp_path / f"run{attempt}"
        run_figures(root / "figures_src", out, environment_lock=env_lock, only=["fig_psth_primer"])
        shas.append(figures.sha256_file(out / "fig_psth_primer.png"))
    assert shas[0] == shas[1]


def test_record_has_versions_peak_memory_modules_and_dirty_flag(tmp_path):
    src = tmp_path / "figures_src"
    src.mkdir()
    big = (
        "import os, pathlib\nfrom databook import _hashing\nOUTPUTS = ['big.txt']\n"
        "block = b'x' * (300 << 20)\n"
        "pathlib.Path(os.environ['DATABOOK_FIGURE_DIR'], 'big.txt').write_text('ok')\n"
    )
    (src / "fig_big.py").write_text(big)
    (src / "fig_small.py").write_text(big.replace("300 << 20", "1").replace("big.txt", "s.txt"))
    lock = tmp_path / "environment.lock"
    lock.write_text("x\n")
    out = tmp_path / "figures"
    # A large runner must not lend its size to its scripts (ru_maxrss survives fork+exec).
    ballast = b"y" * (300 << 20)
    run_figures(src, out, environment_lock=lock, jobs=2)
    del ballast
    big_rec = json.loads((out / "fig_big.provenance.json").read_text())
    small_rec = json.loads((out / "fig_small.provenance.json").read_text())
    assert set(big_rec["packages"]) == {"python", *figures.KEY_PACKAGES}
    assert big_rec["packages"]["numpy"][0].isdigit()
    # The 300 MiB block is in one script's peak and not in the other's.
    assert big_rec["peak_memory_mib"] >= 300
    assert small_rec["peak_memory_mib"] < 250
    assert set(big_rec["modules"]) == {"databook", "databook._hashing"}
    assert big_rec["modules"]["databook._hashing"] == figures.sha256_file(
        Path(figures.__file__).parent / "_hashing.py"
    )
    assert big_rec["git_dirty"] is None and big_rec["git_commit"] == "unknown"


def test_dirty_flag_follows_tracked_changes(tmp_path):
    import subprocess

    src, out, lock = _project(tmp_path)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(tmp_path)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "x"], check=True)
    run_figures(src, out, environment_lock=lock)
    record = json.loads((out / "fig_a.provenance.json").read_text())
    assert record["git_dirty"] is False and len(record["git_commit"]) == 40
    _project(tmp_path, value=2)
    run_figures(src, out, environment_lock=lock)
    assert json.loads((out / "fig_a.provenance.json").read_text())["git_dirty"] is True


def test_verify_names_every_reason_a_figure_is_stale(tmp_path):
    src, out, lock = _project(tmp_path, inputs="['ecephys']")
    hashes = {"ecephys": "cd" * 32}
    records = {"ecephys": {"dandiset": "000021", "version": "1.0", "path": "a.nwb"}}
    run_figures(src, out, environment_lock=lock, asset_hashes=hashes, asset_records=records)

    def check(**kwargs):
        args = {"asset_hashes": hashes, "asset_records": records, "data_mode": "demo", **kwargs}
        return verify(out, src, environment_lock=lock, **args)

    assert check() == []
    assert check(data_mode="dandi") == []  # a demo figure is the same in both builds
    new = {"ecephys": {**records["ecephys"], "version": "2.0"}}
    (problem,) = check(asset_hashes={"ecephys": "ef" * 32}, asset_records=new)
    assert problem == (
        "fig_a: stale: input ecephys changed: 000021@1.0/a.nwb sha256 cdcdcdcdcdcd -> "
        "000021@2.0/a.nwb sha256 efefefefefef"
    )
    lock.write_text("numpy==9\n")
    _project(tmp_path, value=5, inputs="['ecephys']")
    (problem,) = check()
    assert problem.startswith("fig_a: stale: script figures_src/fig_a.py changed")
    assert "; environment changed (environment.lock sha256" in problem
    (src / "fig_b.py").write_text("OUTPUTS = ['b.txt']\n")
    (out / "fig_gone.provenance.json").write_text("{}")
    problems = check()
    assert "fig_b: no provenance record (figure never built)" in problems
    assert any(p.startswith("fig_gone: record without a script") for p in problems)


REAL = """
from pathlib import Path
import json, os
DATA = "dandi"
OUTPUTS = ["fig_real.json"]
INPUTS = ["human"]
OPTIONAL_INPUTS = ["alm-*"]
out = Path(os.environ.get("DATABOOK_FIGURE_DIR", Path(__file__).parent))
(out / "fig_real.json").write_text(json.dumps(os.environ["DATABOOK_DATA"]))
"""


def _real_project(tmp_path: Path) -> tuple[Path, Path, Path, dict[str, str]]:
    src, out, lock = _project(tmp_path)
    (src / "fig_real.py").write_text(REAL)
    hashes = {"human": "aa" * 32, "alm-1": "bb" * 32, "alm-2": "cc" * 32, "other": "dd" * 32}
    return src, out, lock, hashes


def test_a_real_data_script_runs_in_dandi_builds_only(tmp_path):
    src, out, lock, hashes = _real_project(tmp_path)
    assert _run(src, out, lock, asset_hashes=hashes) == {"fig_a": "built"}
    assert not (out / "fig_real.json").exists()
    assert _run(src, out, lock, asset_hashes=hashes, data_mode="dandi") == {
        "fig_a": "cached",
        "fig_real": "built",
    }
    assert json.loads((out / "fig_real.json").read_text()) == "dandi"
    refused = r"fig_real draw.* real DANDI data: build with --data dandi"
    with pytest.raises(FigureError, match=refused):
        run_figures(src, out, environment_lock=lock, asset_hashes=hashes, only=["fig_real"])
    # verify: a demo build does not miss the real figure; a dandi build checks it.
    assert verify(out, src, environment_lock=lock, asset_hashes=hashes) == []
    (out / "fig_real.json").unlink()
    (out / "fig_real.provenance.json").unlink()
    assert verify(out, src, environment_lock=lock, asset_hashes=hashes) == []
    assert verify(out, src, environment_lock=lock, asset_hashes=hashes, data_mode="dandi") == [
        "fig_real: no provenance record (figure never built)"
    ]


def test_optional_inputs_are_the_available_ones_and_their_set_is_in_the_key(tmp_path):
    src, out, lock, hashes = _real_project(tmp_path)

    def run(available):
        return _run(src, out, lock, asset_hashes=hashes, data_mode="dandi", available=available)

    assert run({"human", "alm-1"})["fig_real"] == "built"
    record = json.loads((out / "fig_real.provenance.json").read_text())
    assert [i["key"] for i in record["inputs"]] == ["human", "alm-1"]
    assert record["missing_inputs"] == ["alm-2"]
    assert run({"human", "alm-1"})["fig_real"] == "cached"
    assert run({"human", "alm-1", "alm-2"})["fig_real"] == "built"  # a session arrived
    record = json.loads((out / "fig_real.provenance.json").read_text())
    assert "missing_inputs" not in record and len(record["inputs"]) == 3
    stale = verify(
        out, src, environment_lock=lock, asset_hashes=hashes, data_mode="dandi",
        available={"human", "alm-2"},
    )  # fmt: skip
    assert len(stale) == 1 and stale[0].startswith("fig_real: stale: input alm-1 removed")


def test_data_must_name_a_mode(tmp_path):
    script = tmp_path / "fig_x.py"
    script.write_text("DATA = 'real'\nOUTPUTS = ['x.png']\n")
    with pytest.raises(FigureError, match="DATA must be one of"):
        FigureScript.read(script)
