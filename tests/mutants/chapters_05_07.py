"""Planted bugs in what lets chapters 05-07 run on other files (issue 19): the LFP input
check of chapter 07 and the example units of the optotagging figure on a reader's file."""

T7 = "tests/test_run_07.py::"
T6 = "tests/test_run_06.py::"
INPUTS = "src/databook/chapterinputs.py"

MUTATIONS = [
    {  # the LFP check ignores the chapter's lfp_name: a named series is never found
        "name": "chapterinputs-lfp-name-ignored",
        "file": INPUTS,
        "old": "    name = params.get(need.series) if need.series else None\n",
        "new": "    name = None\n",
        "tests": [T7 + "test_lfp_need_reads_the_series_parameter"],
    },
    {  # no -p suggestion when the reader finds no LFP among the ElectricalSeries
        "name": "chapterinputs-lfp-fix-dropped",
        "file": INPUTS,
        "old": '        fix = " or ".join(f"-p {need.series} {_quote(s)}" for s in series[:4])\n',
        "new": '        fix = ""\n',
        "tests": [T7 + "test_lfp_need_reads_the_series_parameter"],
    },
    {  # chapter 07's LFP need without its parameter: the message cannot name -p lfp_name
        "name": "chapterinputs-07-lfp-without-parameter",
        "file": INPUTS,
        "old": '        Need("lfp", series="lfp_name"),\n',
        "new": '        Need("lfp"),\n',
        "tests": [T7 + "test_run_07_without_mapping_names_the_series_and_the_option"],
    },
    {  # chapter 07 keeps the demo's edge depth on a probe that does not reach it
        "name": "chapter07-edge-not-adapted",
        "file": "chapters/07-current-source-density.md",
        "old": "if not 3 <= top.sum() < depths.size:  # edge_um is not inside this probe\n",
        "new": "if False:  # edge_um is not inside this probe\n",
        "tests": [T7 + "test_chapter_07_adapts_its_pitfalls_to_a_probe_elsewhere"],
    },
    {  # chapter 07 keeps the demo's missing-channel depth on a probe without that channel
        "name": "chapter07-dropped-not-adapted",
        "file": "chapters/07-current-source-density.md",
        "old": "if not np.isin(depths, dropped_um).any():  # dropped_um are not channels",
        "new": "if False:  # dropped_um are not channels",
        "tests": [T7 + "test_chapter_07_adapts_its_pitfalls_to_a_probe_elsewhere"],
    },
    {  # the "untagged" example is the untagged unit with the largest SALT I, not I near 0
        "name": "opto-figure-untagged-example-largest-i",
        "file": "figures_src/fig_opto_rasters.py",
        "old": '        examples["untagged"] = int(rest[np.nanargmin(np.abs(salt_i[rest]))])\n',
        "new": '        examples["untagged"] = int(rest[np.nanargmax(np.abs(salt_i[rest]))])\n',
        "tests": [T6 + "test_run_06_on_the_demo_as_a_path_draws_its_figures"],
    },
]
