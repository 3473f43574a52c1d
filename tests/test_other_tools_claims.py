"""Sentences about other tools match the code they name (issue 26).

Each claim names a file and a commit of the other project; these tests hold the prose to
what that code does, so a revert to the old, wrong description fails here.
"""

from __future__ import annotations

import re

from tests.conftest import ROOT


def _paragraph(chapter: str, start: str) -> str:
    text = (ROOT / "chapters" / chapter).read_text()
    begin = text.index(start)
    return " ".join(text[begin : text.index("\n\n", begin)].split())


def test_ch1_osd_streaming_paragraph_matches_dandi_utils():
    """OSD's dandi_utils.py at cb144fed streams with remfile.File; its get_dandiset takes no
    version there (a later revision: version=None -> most recent); downloads are reused by
    file name with no size or checksum check."""
    para = _paragraph("01-nwb-basics.md", "**What the OpenScope Databook (OSD) does differently.**")
    assert (
        "`remfile.File`" in para and "cb144fed" in para and "databook_utils/dandi_utils.py" in para
    )
    assert re.search(r"`version=` argument.*default is `None`", para)
    assert "without checking its size or checksum" in para
    # the old claim: OSD streams through fsspec with its default options
    assert not re.search(r"streams through fsspec", para)


def test_ch1_quality_metric_sentences_name_allens_code():
    """Chapter 1's one sentence per quality metric describes ecephys_spike_sorting at the
    commits it names: metrics.py at 44621738 (isi_violations with isi_threshold 1.5 ms and
    Hill et al.'s quadratic, capped at 1; presence_ratio from np.linspace(min, max, 100) =
    99 bins over num_bins = 100; amplitude_cutoff capped at 0.5; firing_rate over the first
    to last spike of all units) and waveform_metrics.py at d06e23a7 (snr = peak-to-trough
    of the mean waveform / (2 x SD of the residuals))."""
    para = _paragraph("01-nwb-basics.md", "**What the quality columns measure.**")
    text = (ROOT / "chapters" / "01-nwb-basics.md").read_text()
    block = " ".join(text[text.index("**What the quality columns measure.**") :].split())
    block = block[: block.index("Chapter 4 applies")]
    assert "modules/quality_metrics/metrics.py` at 44621738" in para
    assert "modules/mean_waveforms/waveform_metrics.py` at d06e23a7" in para
    for metric in ("isi_violations", "amplitude_cutoff", "presence_ratio", "snr", "firing_rate"):
        assert f"- `{metric}`" in text, metric
    assert "1.5 ms" in block and "99 equal bins" in block and "0.99" in block
    assert "stops at 0.5" in block and "twice the standard deviation" in block
    assert "first to the last spike of all units" in block
