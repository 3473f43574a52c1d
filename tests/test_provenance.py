"""Provenance a reviewer sees: `databook verify` names stale figures, `databook diff` why."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from databook import cli, modulehash
from databook.figures import run_figures
from databook.provenance import ProvenanceError, diff, to_markdown


@pytest.fixture(autouse=True)
def _no_root_from_the_environment(monkeypatch):
    """``--root`` must win: tests/mutations.py runs us with DATABOOK_ROOT set to its copy."""
    monkeypatch.delenv("DATABOOK_ROOT", raising=False)


SCRIPT = """
import os, pathlib
from databook import _hashing
OUTPUTS = ["fig_a.txt"]
INPUTS = {inputs}
out = pathlib.Path(os.environ["DATABOOK_FIGURE_DIR"], "fig_a.txt")
out.write_text({content})
"""


def test_verify_fails_naming_the_script_after_a_parameter_edit(root, tmp_path):
    """The issue's case: evoked_hz 40 -> 80 in fig_psth_primer used to verify as fine."""
    project = tmp_path / "p"
    (project / "figures_src").mkdir(parents=True)
    for name in ("myst.yml", "environment.lock", "assets.lock"):
        shutil.copy2(root / name, project / name)
    script = project / "figures_src" / "fig_psth_primer.py"
    shutil.copy2(root / "figures_src" / "fig_psth_primer.py", script)
    runner = CliRunner()
    result = runner.invoke(cli.main, ["figures", "--root", str(project)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli.main, ["verify", "--root", str(project)])
    assert result.exit_code == 0, result.output
    source = script.read_text()
    assert "evoked_hz=40.0" in source
    script.write_text(source.replace("evoked_hz=40.0", "evoked_hz=80.0"))
    result = runner.invoke(cli.main, ["verify", "--root", str(project)])
    assert result.exit_code == 1
    assert "fig_psth_primer: stale: script figures_src/fig_psth_primer.py changed" in (
        result.output
    )


class Builds:
    """Real runs of a one-script project, each into its own figures folder."""

    def __init__(self, tmp_path: Path, monkeypatch):
        self.tmp = tmp_path
        self.src = tmp_path / "figures_src"
        self.src.mkdir()
        self.lock = tmp_path / "environment.lock"
        self.lock.write_text("numpy==2.0\n")
        # The script imports databook._hashing; its recorded sha256 comes from this copy.
        self.package = tmp_path / "pkg"
        self.package.mkdir()
        (self.package / "__init__.py").write_text("")
        (self.package / "_hashing.py").write_text("x = 1\n")
        monkeypatch.setattr(modulehash, "package_dir", lambda: self.package)
        self.count = 0
        self.script(content="'one'")

    def script(self, content: str, inputs: str = "['ecephys']") -> None:
        text = SCRIPT.format(inputs=inputs, content=content)
        (self.src / "fig_a.py").write_text(text)

    def build(self, sha: str = "cd" * 32, version: str = "1.0") -> Path:
        self.count += 1
        out = self.tmp / f"build{self.count}"
        run_figures(
            self.src,
            out,
            environment_lock=self.lock,
            asset_hashes={"ecephys": sha},
            asset_records={"ecephys": {"dandiset": "000021", "version": version, "path": "a"}},
        )
        return out


@pytest.fixture
def builds(tmp_path, monkeypatch):
    return Builds(tmp_path, monkeypatch)


def _one(old: Path, new: Path):
    (change,) = diff(old, new)
    assert change.name == "fig_a"
    return change


def test_diff_names_a_changed_script(builds):
    old = builds.build()
    builds.script(content="'two'")
    change = _one(old, builds.build())
    assert change.kind == "changed"
    assert len(change.reasons) == 1
    assert change.reasons[0].startswith("script figures_src/fig_a.py changed")
    assert change.outputs == ["fig_a.txt"]


def test_diff_names_the_changed_library_module(builds):
    old = builds.build()
    (builds.package / "_hashing.py").write_text("x = 2\n")
    change = _one(old, builds.build())
    assert change.kind == "inputs only"  # the script does not use x: same bytes
    assert change.reasons == ["module databook._hashing changed"]


def test_diff_names_the_input_asset_old_and_new_version(builds):
    old = builds.build()
    change = _one(old, builds.build(sha="ef" * 32, version="2.0"))
    assert change.reasons == [
        "input ecephys changed: 000021@1.0/a sha256 cdcdcdcdcdcd -> 000021@2.0/a sha256 "
        "efefefefefef"
    ]


def test_diff_names_the_environment_lock(builds):
    old = builds.build()
    builds.lock.write_text("numpy==2.1\n")
    change = _one(old, builds.build())
    assert len(change.reasons) == 1
    assert change.reasons[0].startswith("environment changed (environment.lock sha256")


def test_output_bytes_alone_are_flagged_as_non_determinism(builds):
    builds.script(content="os.urandom(8).hex()")
    old, new = builds.build(), builds.build()
    change = _one(old, new)
    assert change.kind == "non-deterministic" and change.outputs == ["fig_a.txt"]
    markdown = to_markdown([change], "old", "new")
    assert "**Bug: 1 figure(s) changed although" in markdown
    result = CliRunner().invoke(cli.main, ["diff", str(old), str(new)])
    assert result.exit_code == 1
    assert "| `fig_a` | non-deterministic | output bytes changed alone: fig_a.txt |" in (
        result.output
    )
    assert "Error: non-deterministic figure(s): fig_a" in result.output


def test_identical_builds_diff_to_nothing_and_exit_0(builds):
    old, new = builds.build(), builds.build()
    assert diff(old, new) == []
    result = CliRunner().invoke(cli.main, ["diff", str(old), str(new)])
    assert result.exit_code == 0, result.output
    assert "No figure changed." in result.output


def test_added_and_removed_figures(builds):
    old = builds.build()
    new = builds.tmp / "other"
    new.mkdir()
    record = json.loads((old / "fig_a.provenance.json").read_text())
    (new / "fig_b.provenance.json").write_text(json.dumps(record))
    kinds = {c.name: c.kind for c in diff(old, new)}
    assert kinds == {"fig_a": "removed", "fig_b": "added"}


def test_a_folder_without_records_is_a_clean_error(tmp_path):
    with pytest.raises(ProvenanceError, match=r"holds no \*\.provenance\.json records"):
        diff(tmp_path, tmp_path)
    result = CliRunner().invoke(cli.main, ["diff", str(tmp_path / "nope"), str(tmp_path)])
    assert result.exit_code == 1
    # Neither a folder nor a git ref: both readings are named.
    assert f"Error: '{tmp_path / 'nope'}' is neither a folder of provenance records nor" in (
        result.output
    )


def test_figure_table_and_versions_come_from_the_records(builds):
    from databook.provenance import figure_table, software_versions

    out = builds.build()
    record = json.loads((out / "fig_a.provenance.json").read_text())
    table = figure_table(out)
    assert list(table["figure"]) == ["fig_a"]
    row = table.iloc[0]
    assert row["script"] == "fig_a.py"
    assert row["inputs"] == "000021@1.0/a sha256 cdcdcdcdcdcd"
    assert row["output sha256"] == record["outputs"][0]["sha256"][:12]
    assert row["wall time (s)"] == record["wall_time_s"] > 0
    assert row["peak memory (MiB)"] == record["peak_memory_mib"] > 5
    versions = software_versions(out)
    assert versions["numpy"] == record["packages"]["numpy"]
    record["packages"]["numpy"] = "0.1"
    (out / "fig_b.provenance.json").write_text(json.dumps(record))
    assert software_versions(out)["numpy"] == f"0.1, {versions['numpy']}"


def test_latex_notes_name_script_and_commit_by_mystmd_stem(builds):
    from databook.provenance import latex_notes

    records = {"a": {"script": "figures_src/fig_cellmatch_overlay.py"}, "b": {}}
    records["a"]["outputs"] = [{"file": "fig_cellmatch_overlay.png"}]
    records["b"] = {"script": "figures_src/fig_cellmatch_overlap.py", "outputs": []}
    text = latex_notes(records, "0123456789abcdef", dirty=False)
    assert (
        "\\expandafter\\def\\csname databook@prov@fig_cellmatch_overla\\endcsname"
        "{figures\\_src/fig\\_cellmatch\\_overlay.py @ 0123456}"
    ) in text
    # Two scripts whose names share mystmd's 20-character stem: no note, not a wrong one.
    records["b"]["outputs"] = [{"file": "fig_cellmatch_overlap.png"}]
    assert "databook@prov@" not in latex_notes(records, "0123456789abcdef", dirty=True)


def test_figure_table_lists_demo_inputs_compactly(builds):
    from databook.provenance import figure_table

    out = builds.build()
    record = json.loads((out / "fig_a.provenance.json").read_text())
    record["inputs"] = [
        {"key": "demo-ecephys", "sha256": "ab" * 32, "dandiset": "demo", "path": "e.nwb"},
        {"key": "demo-ground-truth", "sha256": "cd" * 32, "dandiset": "demo", "path": "t"},
    ]
    (out / "fig_a.provenance.json").write_text(json.dumps(record))
    assert figure_table(out).iloc[0]["inputs"] == "simulated demo: ecephys, ground-truth"


def test_figure_table_names_a_whole_dandiset_by_version(builds):
    from databook.provenance import figure_table

    out = builds.build()
    record = json.loads((out / "fig_a.provenance.json").read_text())
    record["inputs"] = [
        {"key": f"s{i}", "sha256": "ab" * 32, "dandiset": "000006", "version": "0.1",
         "path": f"sub-{i}.nwb"}
        for i in range(30)
    ]  # fmt: skip
    (out / "fig_a.provenance.json").write_text(json.dumps(record))
    assert figure_table(out).iloc[0]["inputs"] == (
        "30 assets of 000006@0.1 (each in the figure's provenance record)"
    )


def _record_folder(folder: Path, scripts: dict[str, str]) -> Path:
    folder.mkdir()
    for name, sha in scripts.items():
        record = {"script": f"figures_src/{name}.py", "script_sha256": sha, "modules": {},
                  "outputs": [{"file": f"{name}.png", "sha256": sha}]}  # fmt: skip
        (folder / f"{name}.provenance.json").write_text(json.dumps(record))
    return folder


def test_diff_only_compares_the_named_figures(tmp_path):
    old = _record_folder(tmp_path / "old", {"fig_a": "1" * 64, "fig_b": "2" * 64})
    new = _record_folder(tmp_path / "new", {"fig_a": "1" * 64, "fig_b": "3" * 64, "fig_c": "4"})
    assert {c.name for c in diff(old, new)} == {"fig_b", "fig_c"}
    assert diff(old, new, only=["fig_a"]) == []
    assert [c.name for c in diff(old, new, only=["fig_b"])] == ["fig_b"]
    with pytest.raises(ProvenanceError, match="no record of fig_z in"):
        diff(old, new, only=["fig_z"])
