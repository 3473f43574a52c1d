"""Figure scripts take their chapter's parameters: `databook run` draws the reader's file.

The plumbing (a script's ``PARAMETERS`` overridden through the environment, unknown names
refused, outputs appearing whole) is tested on small scripts written here; that every
chapter's figure scripts default to the chapter's own values is checked on the real
chapters, so the article's figures and its text cannot drift apart.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from databook import figureparams
from databook.figures import FigureError, FigureScript, run_script
from databook.run import ChapterRunError, chapter_defaults, chapter_scripts, draw_figures

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
import json, os
from pathlib import Path
from databook import figureparams, plots

OUTPUTS = ["fig_t.json"]
PARAMETERS = {"asset": "demo-ecephys", "window": (0.0, 0.25), "name": "flashes"}
DEMO_ONLY = False
P = figureparams.load(PARAMETERS, script=__file__)
out = plots.figure_dir(".") / "fig_t.json"
out.write_text(json.dumps({"window": list(P.window), "tuple": isinstance(P.window, tuple),
                           "asset": P.asset, "name": P.name}))
"""


def _project(tmp_path: Path, script: str = SCRIPT, demo_only: bool = False) -> Path:
    (tmp_path / "chapters").mkdir(parents=True)
    (tmp_path / "figures_src").mkdir()
    chapter = tmp_path / "chapters" / "04-x.md"
    chapter.write_text("![t](../figures/fig_t.png)\n![u](../figures/fig_missing.png)\n")
    text = script.replace("DEMO_ONLY = False", f"DEMO_ONLY = {demo_only}")
    (tmp_path / "figures_src" / "fig_t.py").write_text(textwrap.dedent(text))
    return chapter


def test_load_overrides_defaults_and_keeps_tuples(monkeypatch):
    defaults = {"asset": "demo-ecephys", "window": (0.0, 0.25)}
    assert figureparams.load(defaults).window == (0.0, 0.25)
    monkeypatch.setenv(figureparams.VARIABLE, figureparams.encode({"window": (0.0, 1.0)}))
    p = figureparams.load(defaults)
    assert p.window == (0.0, 1.0) and p.asset == "demo-ecephys"


def test_load_names_the_unknown_parameter_and_the_script(monkeypatch):
    monkeypatch.setenv(figureparams.VARIABLE, "{'stimulus': 'x'}")
    with pytest.raises(figureparams.FigureParameterError, match=r"fig_a\.py has no parameter "
                       r"stimulus; its parameters: asset"):  # fmt: skip
        figureparams.load({"asset": "a"}, script="/x/fig_a.py")
    monkeypatch.setenv(figureparams.VARIABLE, "open('x')")
    with pytest.raises(figureparams.FigureParameterError, match="not a Python literal"):
        figureparams.load({"asset": "a"})


def test_simulated_is_true_for_demo_keys_only(tmp_path, demo):
    assert figureparams.simulated("demo-ecephys")
    assert not figureparams.simulated(str(demo.paths["demo-ecephys"]))  # a path: a user file
    assert not figureparams.simulated("https://example.org/demo-ecephys")
    assert not figureparams.simulated("no-such-key")


def test_script_declares_parameters_and_demo_only(tmp_path):
    chapter = _project(tmp_path, demo_only=True)
    (script,) = chapter_scripts(chapter)  # fig_missing has no script: left out
    assert script.parameters == {
        "asset": "demo-ecephys",
        "window": (0.0, 0.25),
        "name": "flashes",
    }
    assert script.demo_only is True
    bad = tmp_path / "figures_src" / "fig_bad.py"
    bad.write_text("OUTPUTS = ['a.png']\nPARAMETERS = dict(a=1)\n")
    with pytest.raises(FigureError, match="PARAMETERS must be a literal"):
        FigureScript.read(bad)


def test_run_script_passes_the_values_and_refuses_unknown_names(tmp_path):
    import json

    chapter = _project(tmp_path)
    (script,) = chapter_scripts(chapter)
    out = tmp_path / "out"
    result = run_script(script, out, parameters={"window": (0.0, 1.0), "asset": "/data/x.nwb"})
    assert result.status == "built", result.error
    written = json.loads((out / "fig_t.json").read_text())
    assert written == {
        "window": [0.0, 1.0],
        "tuple": True,
        "asset": "/data/x.nwb",
        "name": "flashes",
    }
    assert not [p for p in out.iterdir() if p.name.startswith(".staging")]
    with pytest.raises(FigureError, match=r"fig_t\.py has no parameter onset_column"):
        run_script(script, out, parameters={"onset_column": "t"})


def test_draw_figures_passes_only_the_scripts_names_and_skips_demo_only(tmp_path):
    import json

    chapter = _project(tmp_path)
    merged = {"asset": "/data/x.nwb", "window": (0.1, 0.2), "alpha": 0.01}  # alpha: not its
    written, skipped = draw_figures(chapter, tmp_path / "out", merged, is_demo=False)
    assert [p.name for p in written] == ["fig_t.json"]
    assert json.loads(written[0].read_text())["window"] == [0.1, 0.2]
    assert skipped == {}

    demo_only = _project(tmp_path / "d", demo_only=True)
    written, skipped = draw_figures(demo_only, tmp_path / "d" / "out", merged, is_demo=False)
    assert written == [] and "fig_t" in skipped
    written, skipped = draw_figures(demo_only, tmp_path / "d" / "out", merged, is_demo=True)
    assert [p.name for p in written] == ["fig_t.json"]


def test_a_failing_figure_script_is_named_with_its_error(tmp_path):
    chapter = _project(tmp_path, SCRIPT + "\nraise KeyError('stim_on_time')\n")
    with pytest.raises(ChapterRunError, match=r"fig_t\.py: exit code 1\n(.|\n)*KeyError"):
        draw_figures(chapter, tmp_path / "out", {}, is_demo=True, progress=False)
    assert not (tmp_path / "out" / "fig_t.json").exists()


def test_saved_figure_records_the_parameters_it_was_drawn_with(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    from databook import plots

    fig, ax = plt.subplots()
    ax.plot([0, 1])
    plots.save_figure(fig, tmp_path / "article.png")
    assert "Comment" not in Image.open(tmp_path / "article.png").text  # article: unchanged
    monkeypatch.setenv(figureparams.VARIABLE, "{'asset': '/data/mine.nwb'}")
    plots.save_figure(fig, tmp_path / "mine.png")
    assert "/data/mine.nwb" in Image.open(tmp_path / "mine.png").text["Comment"]
    plt.close(fig)


@pytest.mark.parametrize(
    "chapter", sorted(p.name for p in (ROOT / "chapters").glob("0[1-8]-*.md")), ids=str
)
def test_figure_scripts_default_to_their_chapters_values(chapter):
    """A demo figure script's ``PARAMETERS`` are its chapter's parameters of the same name,
    with the same defaults: the article's figures show what its text computes. Real-data
    scripts (``DATA = "dandi"``) draw from pinned assets with parameters of their own and
    never receive the chapter's (``databook run`` skips them)."""
    path = ROOT / "chapters" / chapter
    defaults = chapter_defaults(path)
    for script in chapter_scripts(path):
        if script.data == "dandi":
            continue
        for name, value in script.parameters.items():
            assert name in defaults, f"{script.path.name}: {name} is no parameter of {chapter}"
            assert value == defaults[name], (
                f"{script.path.name}: {name} = {value!r}, but {chapter} has {defaults[name]!r}"
            )
