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
    {  # the "untagged" example is the untagged unit with the largest SALT I, not I near 0
        "name": "opto-figure-untagged-example-largest-i",
        "file": "figures_src/fig_opto_rasters.py",
        "old": '        examples["untagged"] = int(rest[np.nanargmin(np.abs(salt_i[rest]))])\n',
        "new": '        examples["untagged"] = int(rest[np.nanargmax(np.abs(salt_i[rest]))])\n',
        "tests": [T6 + "test_run_06_on_the_demo_as_a_path_draws_its_figures"],
    },
]
