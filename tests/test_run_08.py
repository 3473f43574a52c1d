"""`databook run 08` on two sessions that are not the demo's lock keys.

First the demo's two days given as paths (another file for `databook run`: no planted
answers), then a lab-style pair written here (tests/labstyle_ophys.py: pixel masks in
``imaging/Segmentation/PlaneSegmentation_plane0``, the mean image named ``meanImg``, ROIs
dropped and reordered) that needs ``-p image_name meanImg``. The matched-cell count is
recomputed with ``cellmatch`` called directly on footprints read with h5py.
"""

from __future__ import annotations

import re
from pathlib import Path

import h5py
import labstyle_ophys as lab
import numpy as np
import pytest
from PIL import Image
from test_run import outputs, run

from databook import cellmatch

STEM = "08-cells-across-days"
ROWS1 = np.random.default_rng(8).permutation(100)[:90]  # day-1 ROIs kept, in this order


@pytest.fixture(scope="module")
def lab_pair(tmp_path_factory, demo) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("lab")
    day1 = lab.write(folder / "m12_d1.nwb", demo.paths["demo-ophys-day1"], ROWS1, stimulus=False)
    day2 = lab.write(folder / "m12_d2.nwb", demo.paths["demo-ophys-day2"], stimulus=False)
    return day1, day2


def demo_day(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(masks (n, H, W), mean image) of a demo day, read with h5py."""
    with h5py.File(path, "r") as f:
        ophys = f["processing/ophys"]
        masks = ophys["ImageSegmentation/PlaneSegmentation/image_mask"][()]
        images = [ophys[k]["average_image"][()] for k in ophys if "average_image" in ophys[k]]
    return masks.astype(float), images[0]


def lab_day(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(masks (n, H, W), meanImg) of a lab-style day, read with h5py from its pixel masks."""
    with h5py.File(path, "r") as f:
        module = f[f"processing/{lab.MODULE}"]
        image = module[f"Backgrounds_0/{lab.IMAGE}"][()]
        seg = module[f"Segmentation/{lab.SEGMENTATION}"]
        pixels, ends = seg["pixel_mask"][()], seg["pixel_mask_index"][()]
    masks = np.zeros((len(ends), *image.shape))
    roi = np.repeat(np.arange(len(ends)), np.diff(np.r_[0, ends]))
    masks[roi, pixels["x"], pixels["y"]] = pixels["weight"]
    return masks, image


def matched(texts: list[str]) -> tuple[int, int, int]:
    """(pairs, lost, new) as the chapter prints them."""
    summary = r"(\d+) pairs, median IoU \S+; (\d+) day-1 ROIs unmatched \(lost\), (\d+)"
    m = re.search(summary, "\n".join(texts))
    assert m, "the matching summary is not in the outputs"
    return int(m[1]), int(m[2]), int(m[3])


def test_run_08_on_the_demo_days_given_as_paths(tmp_path, demo):
    day1, day2 = demo.paths["demo-ophys-day1"], demo.paths["demo-ophys-day2"]
    result = run(tmp_path, "08", "--nwb", str(day1), "-p", "day2_asset", str(day2))
    assert result.exit_code == 0, result.output
    texts = outputs(tmp_path / f"{STEM}.ipynb")
    (m1, im1), (m2, im2) = demo_day(day1), demo_day(day2)
    direct = cellmatch.match(m1, m2, im1, im2, model="affine", max_angle=15.0)
    assert matched(texts) == (len(direct.pairs), len(m1) - len(direct.pairs),
                              len(m2) - len(direct.pairs))  # fmt: skip
    # The files are the demo's: the count is the planted one, though the chapter does not
    # know it (no planted answers for a path).
    assert len(direct.pairs) == len(demo.truth["ophys"]["matches_day1_day2"])
    assert "no planted answers: real data" in "\n".join(texts)
    figures = {p.name: p for p in (tmp_path / "figures").iterdir()}
    assert {"fig_cellmatch_overlay.png", "fig_cellmatch_neighbours.png"} <= set(figures)
    assert "fig_cellmatch_tracks.png" not in figures  # planted sessions: demo only
    assert "fig_cellmatch_tracks: skipped" in result.output
    for name in ("fig_cellmatch_overlay.png", "fig_cellmatch_neighbours.png"):
        comment = Image.open(figures[name]).text["Comment"]
        assert str(day1) in comment and str(day2) in comment


def test_run_08_on_a_lab_style_pair(tmp_path, lab_pair):
    day1, day2 = lab_pair
    result = run(
        tmp_path, "08", "--nwb", str(day1), "-p", "day2_asset", str(day2),
        "-p", "image_name", lab.IMAGE,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    texts = outputs(tmp_path / f"{STEM}.ipynb")
    (m1, im1), (m2, im2) = lab_day(day1), lab_day(day2)
    assert len(m1) == len(ROWS1)
    direct = cellmatch.match(m1, m2, im1, im2, model="affine", max_angle=15.0)
    assert matched(texts) == (len(direct.pairs), len(m1) - len(direct.pairs),
                              len(m2) - len(direct.pairs))  # fmt: skip
    assert re.search(rf"{re.escape(day1.name)}\s+{len(ROWS1)}\s", texts[0])
    comment = Image.open(tmp_path / "figures" / "fig_cellmatch_overlay.png").text["Comment"]
    assert str(day2) in comment and f"'{lab.IMAGE}'" in comment
    # CellReg's sample is chapter 8's real-data section: drawn in a dandi build only.
    assert not (tmp_path / "figures" / "fig_cellmatch_real.png").exists()
    assert "fig_cellmatch_real: skipped (real-data section" in result.output


def test_run_08_names_what_either_session_lacks(tmp_path, lab_pair):
    day1, day2 = lab_pair
    result = run(tmp_path, "08", "--nwb", str(day1), "-p", "day2_asset", str(day2))
    assert result.exit_code == 1
    message = result.output
    assert "the file is missing 2 thing(s)" in message
    assert (
        "summary image 'average_image' (-p image_name): missing; images: the file has "
        f"max_proj, {lab.IMAGE}; map it with -p image_name {lab.IMAGE}"
    ) in message
    assert f"in {day2} (-p day2_asset): missing" in message
    result = run(tmp_path, "08", "--nwb", str(day1), "-p", "day2_asset", str(tmp_path / "x.nwb"),
                 "-p", "image_name", lab.IMAGE)  # fmt: skip
    assert result.exit_code == 1
    assert "x.nwb" in result.output and "(-p day2_asset)" in result.output
    assert not list(tmp_path.iterdir())  # nothing executed, nothing written
    # The first session alone would be matched against the demo's day 2: refused.
    result = run(tmp_path, "08", "--nwb", str(day1), "-p", "image_name", lab.IMAGE)
    assert result.exit_code == 1
    assert "also reads day2_asset, which would stay the demo's 'demo-ophys-day2'" in result.output
    assert "-p day2_asset PATH_OR_URL" in result.output
    assert not list(tmp_path.iterdir())


def test_without_an_image_chapter_8_registers_on_the_summed_footprints(lab_pair):
    """``-p image_name None``: the chapter's load and match cells on the lab-style pair
    give what ``cellmatch.match`` gives from the footprints alone."""
    from chapter_cells import code_cells

    from databook import chapterinputs

    day1, day2 = lab_pair
    chapter = Path(__file__).resolve().parents[1] / "chapters" / f"{STEM}.md"
    cells = code_cells(chapter)
    params, load, register, match = (
        next(c for c in cells if key in c)
        for key in ("day1_asset =", "def load_session", "cellmatch.register(", "result = cellmatch")
    )
    namespace: dict = {}
    for cell in (params, f"day1_asset, day2_asset, image_name = {str(day1)!r}, "
                 f"{str(day2)!r}, None", load, register, match):  # fmt: skip
        exec(compile(cell, "chapter-08", "exec"), namespace)
    (m1, im1), (m2, _) = lab_day(day1), lab_day(day2)
    direct = cellmatch.match(m1, m2, model="affine", max_angle=15.0)
    assert namespace["n_matched"] == len(direct.pairs) > 0.8 * len(m1)
    np.testing.assert_allclose(namespace["image1"], m1.sum(axis=0), atol=1e-5)
    assert not np.allclose(namespace["image1"], im1)  # not the mean image
    findings = chapterinputs.check("08", day1, {**namespace, "image_name": None}, others=True)
    assert all(f.ok for f in findings), [f.line() for f in findings]


@pytest.mark.parametrize("which", ["demo path", "lab-style"])
def test_inspect_lists_chapter_8_for_one_session(which, lab_pair, demo):
    """One session of either kind: chapter 8 runs (with the image mapped for the lab-style
    file); chapter 3 only where the file has dF/F traces."""
    from click.testing import CliRunner

    from databook.cli import main

    path = demo.paths["demo-ophys-day2"] if which == "demo path" else lab_pair[0]
    result = CliRunner().invoke(main, ["inspect", str(path)])
    assert result.exit_code == 0, result.output
    verdicts = dict(re.findall(r"^  (\d\d)-[\w-]+: (.*)$", result.output, re.MULTILINE))
    if which == "demo path":
        assert verdicts.pop("08") == verdicts.pop("03") == "runs"
    else:
        assert verdicts.pop("08") == f"runs with -p image_name {lab.IMAGE}"
        assert verdicts["03"].startswith("cannot run (no ROI masks and dF/F traces")
    assert all(v.startswith("cannot run") for v in verdicts.values()), verdicts
