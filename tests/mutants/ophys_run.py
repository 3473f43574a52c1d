"""Planted bugs in chapters 3 and 8 running on other files (`databook run`), their figure
scripts and their input checks, that tests/test_run_03.py and test_run_08.py must catch."""

RUN03 = "tests/test_run_03.py::test_run_03_on_a_lab_style_file_with_mapping"

MUTATIONS = [
    {
        "name": "chapter03-onsets-from-start_time-not-onset_column",
        "file": "chapters/03-twophoton-responses.md",
        "old": "onsets = tables.onsets(gratings, onset_column).to_numpy()",
        "new": 'onsets = gratings["start_time"].to_numpy(dtype=float)',
        "tests": [RUN03],
    },
    {
        "name": "fig-ophys-tuning-reads-the-demo-table-name",
        "file": "figures_src/fig_ophys_tuning.py",
        "old": "table = nwb.stimulus_table(f, P.table_name)",
        "new": 'table = nwb.stimulus_table(f, "grating_presentations")',
        "tests": [RUN03],
    },
    {
        "name": "chapter08-validation-reads-planted-answers-for-other-files",
        "file": "chapters/08-cells-across-days.md",
        "old": "if truth_asset is not None:  # planted answers exist for the demo only",
        "new": "if True:",
        "tests": ["tests/test_run_08.py::test_run_08_on_the_demo_days_given_as_paths"],
    },
    {
        "name": "chapter08-image_name-None-not-honoured",
        "file": "chapters/08-cells-across-days.md",
        "old": "        if image_name is None:\n            return rois, rois.dense().sum(axis=0)",
        "new": "        if False:\n            return rois, rois.dense().sum(axis=0)",
        "tests": [
            "tests/test_run_08.py::"
            "test_without_an_image_chapter_8_registers_on_the_summed_footprints"
        ],
    },
    {
        "name": "chapterinputs-second-session-not-checked",
        "file": "src/databook/chapterinputs.py",
        "old": "        elif others:\n            findings.append(_probe_other(need, params))",
        "new": "        elif False:\n            findings.append(_probe_other(need, params))",
        "tests": ["tests/test_run_08.py::test_run_08_names_what_either_session_lacks"],
    },
    {
        "name": "chapterinputs-image-fix-offers-the-first-image-not-the-mean",
        "file": "src/databook/chapterinputs.py",
        "old": "found.sort(key=lambda n: not any(",
        "new": "found.sort(key=lambda n: any(",
        "tests": [
            "tests/test_run_03.py::test_inspect_lists_chapters_3_and_8_for_the_lab_style_file"
        ],
    },
]
