"""Planted bugs in how figure scripts take their chapter's parameters (issue 19)."""

MUTATIONS = [
    {
        "name": "figureparams-overrides-ignored",
        "file": "src/databook/figureparams.py",
        "old": "        values.update(given)",
        "new": "        pass",
        "tests": ["tests/test_figureparams.py::test_load_overrides_defaults_and_keeps_tuples"],
    },
    {
        "name": "figureparams-unknown-name-accepted",
        "file": "src/databook/figureparams.py",
        "old": "            paramrules.check(given, defaults, owner=Path(script).name)",
        "new": "            pass",
        "tests": [
            "tests/test_figureparams.py::test_load_names_the_unknown_parameter_and_the_script"
        ],
    },
    {
        "name": "paramrules-reversed-window-accepted",
        "file": "src/databook/paramrules.py",
        "old": "        if not stop > start:",
        "new": "        if False:",
        "tests": ["tests/test_bad_inputs.py::test_the_issue_case_names_parameter_value_and_reason"],
    },
    {
        "name": "run-parameters-unchecked-before-the-kernel",
        "file": "src/databook/run.py",
        "old": '    paramrules.check(given, defaults, owner=f"chapter {path.stem}")',
        "new": "    pass",
        "tests": ["tests/test_bad_inputs.py::test_an_unknown_parameter_names_the_close_one"],
    },
    {
        "name": "figureparams-every-file-simulated",
        "file": "src/databook/figureparams.py",
        "old": "        return assets.resolve(source).is_demo",
        "new": "        return True",
        "tests": ["tests/test_figureparams.py::test_simulated_is_true_for_demo_keys_only"],
    },
    {
        "name": "run-demo-only-figure-drawn-for-other-files",
        "file": "src/databook/run.py",
        "old": "        if script.demo_only and not is_demo:",
        "new": "        if False:",
        "tests": [
            "tests/test_figureparams.py::test_draw_figures_passes_only_the_scripts_names_and_skips_demo_only"
        ],
    },
    {
        "name": "run-figure-failure-swallowed",
        "file": "src/databook/run.py",
        "old": "    if failed:\n        raise ChapterRunError(",
        "new": "    if False:\n        raise ChapterRunError(",
        "tests": [
            "tests/test_figureparams.py::test_a_failing_figure_script_is_named_with_its_error"
        ],
    },
    {
        "name": "plots-figure-forgets-its-parameters",
        "file": "src/databook/plots.py",
        "old": '        metadata[field] = f"databook parameters: {given}"',
        "new": "        pass",
        "tests": [
            "tests/test_figureparams.py::test_saved_figure_records_the_parameters_it_was_drawn_with"
        ],
    },
    {
        "name": "nwb-stimulus-table-always-walks",
        "file": "src/databook/nwb.py",
        "old": '        if isinstance(direct, h5py.Group) and "id" in direct:',
        "new": "        if False:",
        "tests": [
            "tests/test_nwb.py::test_a_table_in_intervals_is_read_without_walking_the_streamed_file"
        ],
    },
    {
        "name": "chapterinputs-look-alike-any-shared-word",
        "file": "src/databook/chapterinputs.py",
        "old": "_tokens(want) == _tokens(c)]",
        "new": "_tokens(want) <= _tokens(c)]",
        "tests": ["tests/test_run_05.py::test_look_alike_columns_must_be_the_same_words"],
    },
    {
        "name": "chapterinputs-tables-in-file-order-only",
        "file": "src/databook/chapterinputs.py",
        "old": "        fits.sort(key=lambda fit: fit[0])",
        "new": "        pass",
        "tests": ["tests/test_run_07.py::test_inspect_offers_07_with_the_lfp_mapping"],
    },
]
