"""Planted bugs in databook.run / databook.chapterinputs that the fast run tests must catch."""

MUTATIONS = [
    {
        "name": "run-output-written-in-place-not-atomically",
        "file": "src/databook/run.py",
        "old": "    with atomic_path(final) as tmp:",
        "new": "    with contextlib.nullcontext(final) as tmp:",
        "tests": ["tests/test_run.py::test_interrupted_run_leaves_no_output"],
    },
    {
        "name": "chapterinputs-missing-column-not-noticed",
        "file": "src/databook/chapterinputs.py",
        "old": "absent = {p: cs for p, cs in absent.items() if cs}",
        "new": "absent = {}",
        "tests": ["tests/test_run.py::test_missing_column_is_named_with_the_option"],
    },
    {
        "name": "chapterinputs-no-mapping-offered-for-a-missing-table",
        "file": "src/databook/chapterinputs.py",
        "old": "        for _, n, m in fits[:4]:",
        "new": "        for _, n, m in fits[:0]:",
        "tests": ["tests/test_run.py::test_missing_table_is_named_with_the_tables_to_map_to"],
    },
    {
        "name": "unit-count-off-by-one",
        "file": "src/databook/nwb.py",
        "old": 'return path, len(table["id"]) if "id" in table',
        "new": 'return path, len(table["id"]) - 1 if "id" in table',
        "tests": ["tests/test_nwb.py::test_unit_count_is_the_units_rows_without_reading_spikes"],
    },
]
