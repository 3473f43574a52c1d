"""`databook run` and `databook inspect`: chapters executed on demo, real and streamed files.

Each run executes the chapter in a fresh kernel (about 10 s each), so only chapters 04 and
06 run here; the numbers checked are read from the executed notebook's outputs.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from PIL import Image

from databook import chapterinputs, nwb, quality
from databook.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _real_dir() -> Path | None:
    if os.environ.get("DATABOOK_REAL_DATA"):
        return Path(os.environ["DATABOOK_REAL_DATA"])
    candidates = [ROOT.parent / "shared" / "data" / "real"]
    candidates += [p / "shared" / "data" / "real" for p in ROOT.parents]
    return next((c for c in candidates if c.is_dir()), None)


# Real 000006 files store spike times out of order: the reader sorts them and warns once.
pytestmark = pytest.mark.filterwarnings("ignore::databook.nwb.SpikeTimesRepairedWarning")
REAL = _real_dir()
RUTISHAUSER = "rutishauser-human-mtl_sub-4_ses-4_ecephys+image.nwb"
SVOBODA = "svoboda-alm_sub-anm00239123_ecephys+ogen.nwb"
SVOBODA_20 = (
    "svoboda-alm_sub-anm369963_ses-20170228.nwb",
    "svoboda-alm_sub-anm372793_ses-20170508.nwb",
)


def real_file(name: str) -> Path:
    if REAL is None or not (REAL / name).is_file():
        pytest.skip(f"real file {name} not found; set DATABOOK_REAL_DATA to its folder")
    return REAL / name


def run(tmp_path: Path, *args: str):
    result = CliRunner().invoke(main, ["run", *args, "--out", str(tmp_path)])
    return result


def outputs(path: Path) -> list[str]:
    """The text/plain outputs of the executed notebook, in order."""
    nb = nbformat.read(str(path), as_version=4)
    texts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            texts.append(str(out.get("data", {}).get("text/plain", out.get("text", ""))))
    return texts


def _fraction(texts: list[str], label: str) -> tuple[int, int]:
    match = re.search(re.escape(label) + r"\s+(\d+)\s*/\s*(\d+)", "\n".join(texts))
    assert match, f"{label!r} not in the outputs"
    return int(match[1]), int(match[2])


# Demo: the article's headline numbers --------------------------------------------------
def test_run_04_on_demo_reproduces_the_planted_responders(tmp_path, demo):
    result = run(tmp_path, "04")
    assert result.exit_code == 0, result.output
    stem = "04-neuropixels-responses"
    texts = outputs(tmp_path / f"{stem}.ipynb")
    # Units the curator labelled noise are dropped before any count, planted or not.
    units = quality.drop_noise(nwb.units(demo.paths["demo-ecephys"]))
    planted = {p["unit"] for p in demo.truth["ecephys"]["flash_responders"]}
    kept = planted & set(units.index)
    assert 0 < len(kept) < len(planted)  # the demo labels some planted responders noise
    assert _fraction(texts, "planted responders called excited") == (len(kept), len(kept))
    # Two-sided tests at a false-discovery rate of 0.05: a false call or two is the
    # design, not a failure; more than twice the rate among the calls is.
    false_alarms, n_other = _fraction(texts, "other units called responsive")
    assert n_other == len(units) - len(kept)
    assert false_alarms <= 2 * 0.05 * (len(kept) + false_alarms)
    html = (tmp_path / f"{stem}.html").read_text()
    assert "planted responders called excited" in html
    assert not list(tmp_path.glob(".*part*"))  # no temporary file left behind


def test_run_06_on_demo_finds_every_tagged_unit(tmp_path, demo):
    result = run(tmp_path, "6", "--asset", "demo-ecephys")
    assert result.exit_code == 0, result.output
    texts = outputs(tmp_path / "06-optotagging.ipynb")
    kept = set(quality.drop_noise(nwb.units(demo.paths["demo-ecephys"])).index)
    n_tagged = len({u["unit"] for u in demo.truth["ecephys"]["tagged_units"]} & kept)
    n_late = len({u["unit"] for u in demo.truth["ecephys"]["late_excited"]} & kept)
    assert n_tagged > 0 and n_late > 0
    assert _fraction(texts, "planted tagged found") == (n_tagged, n_tagged)
    assert _fraction(texts, "late-excited called tagged") == (0, n_late)
    # The same file given as a path is "another file": the validation is skipped, the
    # tagging table is the same.
    other = tmp_path / "other"
    result = run(other, "06", "--nwb", str(demo.paths["demo-ecephys"]))
    assert result.exit_code == 0, result.output
    again = outputs(other / "06-optotagging.ipynb")
    assert again[:3] == texts[:3]
    assert "skipped: no planted answers" in "\n".join(again)


# Real files of other labs ------------------------------------------------------------------
def _area_counts(texts: list[str], column: str = "n_units") -> dict[str, int]:
    """``{area: count}`` from the chapter's per-area table, for one of its columns.

    pandas prints a wide table in blocks of columns (a long area name wraps it); each
    block repeats the area names, so the column is read from the block that holds it.
    """
    table = next(t for t in texts if "n_responsive" in t)
    for block in table.split("\n\n"):
        header, _, *rows = block.splitlines()  # column names, then the "area" line
        names = header.rstrip(" \\").split()
        if column in names:
            cells = [row.rstrip(" \\").rsplit(None, len(names)) for row in rows]
            return {c[0]: int(c[1 + names.index(column)]) for c in cells}
    raise AssertionError(f"no column {column!r} in the per-area table:\n{table}")


def test_run_04_on_rutishauser_with_mapping(tmp_path):
    path = real_file(RUTISHAUSER)
    result = run(
        tmp_path, "04", "--nwb", str(path), "-p", "stimulus_name", "encoding_table",
        "-p", "onset_column", "start_time", "-p", "response_window", "(0.0, 1.0)",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    texts = outputs(tmp_path / "04-neuropixels-responses.ipynb")
    units = nwb.units(path)
    expected = units["electrode_location"].value_counts().to_dict()
    assert _area_counts(texts) == expected
    assert sum(expected.values()) == 35
    assert re.search(r"encoding_table\s+90\b", texts[0])  # 90 image onsets
    # The figures are of this file, drawn with the same mapping, without the demo's
    # watermark; the validation figure (planted answers) is skipped and says why.
    figures = {f.name: f for f in (tmp_path / "figures").iterdir()}
    assert {"fig_ecephys_rasters.png", "fig_ecephys_quality.png", "fig_ecephys_areas.png"} <= set(
        figures
    )
    assert "fig_ecephys_validation.png" not in figures
    assert "fig_ecephys_validation: skipped (compares with the demo's planted answers)" in (
        result.output
    )
    for name in ("fig_ecephys_rasters.png", "fig_ecephys_areas.png"):
        comment = Image.open(figures[name]).text["Comment"]
        assert str(path) in comment and "'encoding_table'" in comment
        assert "(0.0, 1.0)" in comment


def test_run_04_on_svoboda_aligned_to_trials(tmp_path):
    path = real_file(SVOBODA)
    result = run(
        tmp_path, "04", "--nwb", str(path), "-p", "stimulus_name", "trials",
        "-p", "onset_column", "cue_start_time",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    texts = outputs(tmp_path / "04-neuropixels-responses.ipynb")
    assert sum(_area_counts(texts).values()) == len(nwb.units(path)) == 4
    assert re.search(r"trials\s+412\b", texts[0])


@pytest.mark.parametrize("name", [RUTISHAUSER, SVOBODA])
def test_run_04_without_mapping_names_the_table_and_the_option(tmp_path, name):
    path = real_file(name)
    table = "encoding_table" if name == RUTISHAUSER else "trials"
    result = run(tmp_path, "04", "--nwb", str(path))
    assert result.exit_code == 1
    message = result.output
    assert message.startswith("Error: chapter 04-neuropixels-responses cannot run")
    assert "'flashes_presentations'" in message and "missing" in message
    assert "looked in /intervals" in message and table in message
    if name == SVOBODA:
        assert "map it with -p stimulus_name trials" in message
    else:  # three task tables: each is offered
        assert "-p stimulus_name encoding_table" in message
    assert not list(tmp_path.iterdir())  # nothing executed, nothing written


def test_missing_column_is_named_with_the_option(tmp_path, demo):
    result = run(tmp_path, "04", "--asset", "demo-ecephys", "-p", "onset_column", "onset")
    assert result.exit_code == 1
    assert "has no column onset" in result.output
    assert "-p onset_column start_time" in result.output


def test_unknown_parameter_is_refused(tmp_path, demo):
    result = run(tmp_path, "04", "-p", "stimulus", "x")
    assert result.exit_code == 1
    assert "has no parameter stimulus" in result.output and "stimulus_name" in result.output


# inspect ------------------------------------------------------------------------------------
def _runnable(output: str) -> dict[str, str]:
    rows = re.findall(r"^  (\d\d)-[\w-]+: (.*)$", output, re.MULTILINE)
    return dict(rows)


@pytest.mark.parametrize(
    ("key", "runs"),
    [
        ("demo-ecephys", {"01", "02", "04", "05", "06", "07"}),
        ("demo-ophys-day1", {"03", "08"}),
        ("demo-ophys-day2", {"03", "08"}),
    ],
)
def test_inspect_demo_lists_the_runnable_chapters(key, runs, demo):
    result = CliRunner().invoke(main, ["inspect", key])
    assert result.exit_code == 0, result.output
    verdicts = _runnable(result.output)
    assert set(verdicts) == set(chapterinputs.NEEDS)
    assert {n for n, v in verdicts.items() if v == "runs"} == runs


@pytest.mark.parametrize("name", [RUTISHAUSER, SVOBODA, *SVOBODA_20])
def test_inspect_real_file_offers_chapter_04_with_its_mapping(name):
    path = real_file(name)
    result = CliRunner().invoke(main, ["inspect", str(path)])
    assert result.exit_code == 0, result.output
    verdicts = _runnable(result.output)
    table = "encoding_table" if name == RUTISHAUSER else "trials"
    # The DANDI:000006 sessions store the go cue relative to each trial's start: inspect
    # puts it on the session clock (000009's SVOBODA file stores session times).
    onset = " -p onset_column 'start_time + cue_start_time'" if name in SVOBODA_20 else ""
    assert verdicts.pop("04") == f"runs with -p stimulus_name {table}{onset}"
    # Chapter 1 needs a stimulus table and reads LFP only if there is some (none here).
    assert verdicts.pop("01") == f"runs with -p stimulus {table}"
    assert all(v.startswith("cannot run") for v in verdicts.values()), verdicts
    assert f"{len(nwb.units(path))} units" in result.output
    assert "optogenetics: none" in result.output


# Streaming -----------------------------------------------------------------------------------
def test_run_streams_a_url_and_reads_less_than_the_file(tmp_path, demo):
    from databook.localarchive import serve

    path = demo.paths["demo-ecephys"]
    with serve({"sub-1/sub-1_ecephys.nwb": path}) as server:
        url = server.blob_url("sub-1/sub-1_ecephys.nwb")
        with server.traffic() as cost:
            result = run(tmp_path, "04", "--nwb", url)
    assert result.exit_code == 0, result.output
    size = path.stat().st_size
    assert cost.whole_gets == 0
    assert cost.range_requests > 0
    print(f"streamed {cost.bytes_ranged} of {size} bytes")
    assert cost.bytes_ranged < 0.8 * size, (cost.bytes_ranged, size)  # figures included
    assert (tmp_path / "figures" / "fig_ecephys_areas.png").is_file()
    # A URL is another file (no planted answers), but the per-area counts are the demo's.
    texts = outputs(tmp_path / "04-neuropixels-responses.ipynb")
    kept = set(quality.drop_noise(nwb.units(path)).index)
    planted = {p["unit"] for p in demo.truth["ecephys"]["flash_responders"]} & kept
    assert sum(_area_counts(texts, "n_excited").values()) == len(planted)
    assert "no planted answers" in "\n".join(texts)


def test_interrupted_run_leaves_no_output(tmp_path, demo, monkeypatch):
    import papermill

    def interrupted(notebook, output_path, **kwargs):
        Path(output_path).write_text("{half a notebook")
        raise KeyboardInterrupt

    monkeypatch.setattr(papermill, "execute_notebook", interrupted)
    from databook.run import run_chapter

    with pytest.raises(KeyboardInterrupt):
        run_chapter(ROOT / "chapters", "04", out=tmp_path, progress=False)
    assert list(tmp_path.rglob("*")) == []


def test_demo_only_chapter_on_another_file_names_what_is_missing_first(tmp_path, demo):
    path = real_file(SVOBODA)
    result = run(tmp_path, "06", "--nwb", str(path))
    assert result.exit_code == 1
    assert "optogenetic pulses: missing; optogenetic_pulses: no optogenetic" in result.output
    # With its inputs present, a chapter whose validation needs the demo's answers says so.
    from databook.run import OTHER_FILES

    demo_only = sorted({"01", "02"} - OTHER_FILES)  # chapters the demo file has inputs for
    if demo_only:
        result = run(tmp_path, demo_only[0], "--nwb", str(demo.paths["demo-ecephys"]))
        assert result.exit_code == 1
        assert "runs on the demo data only so far" in result.output
    assert not list(tmp_path.iterdir())


def test_dandi_path_is_pinned_and_streamed(tmp_path, demo, monkeypatch):
    from databook.localarchive import serve

    path = demo.paths["demo-ecephys"]
    with serve({"sub-1/sub-1_ecephys.nwb": path}) as server:
        monkeypatch.setenv("DANDI_API_URL", server.api_url)
        with server.traffic() as cost:
            result = run(tmp_path, "04", "--dandi", server.spec("sub-1/sub-1_ecephys.nwb"))
    assert result.exit_code == 0, result.output
    assert cost.whole_gets == 0 and cost.api_requests > 0
    assert cost.bytes_ranged < 0.8 * path.stat().st_size


def test_missing_table_is_named_with_the_tables_to_map_to(tmp_path, demo):
    result = run(tmp_path, "04", "--asset", "demo-ecephys", "-p", "stimulus_name", "flashes")
    assert result.exit_code == 1
    message = result.output
    assert "intervals table 'flashes' (-p stimulus_name" in message
    assert "flashes_presentations (60 rows: start_time, stop_time" in message
    assert "map it with -p stimulus_name flashes_presentations or -p stimulus_name" in message


def test_download_flag_fetches_the_whole_file_once(tmp_path, demo):
    from databook.localarchive import serve

    path = demo.paths["demo-ecephys"]
    with serve({"sub-1/sub-1_ecephys.nwb": path}) as server:
        url = server.blob_url("sub-1/sub-1_ecephys.nwb")
        with server.traffic() as cost:
            result = run(tmp_path, "04", "--nwb", url, "--download")
    assert result.exit_code == 0, result.output
    assert cost.whole_gets == 1 and cost.range_requests == 0
    assert cost.bytes_whole == path.stat().st_size


def test_run_with_root_resolves_lock_keys_from_any_folder(tmp_path, monkeypatch, demo):
    """`databook run --root PROJECT` from outside the project finds the chapter's default
    asset through that project's lock (and reaches the check of the file's tables)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABOOK_ROOT", raising=False)
    args = ["run", "04", "--root", str(ROOT), "-p", "stimulus_name", "no_such_table"]
    result = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "intervals table 'no_such_table'" in result.output, result.output
    assert "DATABOOK_ROOT" not in os.environ  # the command's setting does not outlive it
