"""Planted bugs in databook.sessions that its tests must catch."""

MUTATIONS = [
    {
        "name": "sessions-cache-never-read",
        "file": "src/databook/sessions.py",
        "old": "if target is not None and target.is_file():",
        "new": "if target is not None and target.is_file() and False:",
        "tests": ["tests/test_sessions.py::test_second_run_recomputes_nothing"],
    },
    {
        "name": "sessions-cache-key-ignores-parameters",
        "file": "src/databook/sessions.py",
        "old": '"\\0".join((name, code, modules, text))',
        "new": '"\\0".join((name, code, modules))',
        "tests": ["tests/test_sessions.py::test_cache_key_changes_with_parameters_and_code"],
    },
    {
        "name": "sessions-cache-key-ignores-library-modules",
        "file": "src/databook/sessions.py",
        "old": '"\\0".join((name, code, modules, text))',
        "new": '"\\0".join((name, code, text))',
        "tests": [
            "tests/test_sessions.py::test_cache_key_changes_with_the_library_modules_it_imports",
            "tests/test_sessions.py::test_a_fixed_library_function_is_recomputed_not_served",
        ],
    },
    {
        "name": "sessions-cell-function-without-modules",
        "file": "src/databook/sessions.py",
        "old": "    return scan.hashes(scan.modules_of(_names_used(func)))",
        "new": "    return {}",
        "tests": [
            "tests/test_sessions.py::test_cache_key_changes_with_the_library_modules_it_imports"
        ],
    },
    {
        "name": "sessions-failures-dropped",
        "file": "src/databook/sessions.py",
        "old": "                failures.append(\n",
        "new": "                (lambda row: None)(\n",
        "tests": ["tests/test_sessions.py::test_corrupt_session_fails_alone"],
    },
    {
        "name": "sessions-provenance-path-for-every-column",
        "file": "src/databook/sessions.py",
        "old": "result.insert(k, column, record[column])",
        "new": 'result.insert(k, column, record["path"])',
        "tests": ["tests/test_sessions.py::test_provenance_columns_name_each_rows_asset"],
    },
    {
        "name": "sessions-by-area-counts-failing-units",
        "file": "src/databook/sessions.py",
        "old": 'kept = table[table["passes_quality"].astype(bool)]',
        "new": "kept = table",
        "tests": ["tests/test_sessions.py::test_by_area_estimates_over_sessions_not_pooled_units"],
    },
    {
        # The policy: sessions, not pooled units, are the observations of a fraction.
        "name": "sessions-by-area-pools-units",
        "file": "src/databook/sessions.py",
        "old": "estimate = session_fraction(k, n)",
        "new": "estimate = session_fraction(k.sum(keepdims=True), n.sum(keepdims=True))",
        "tests": ["tests/test_sessions.py::test_by_area_estimates_over_sessions_not_pooled_units"],
    },
    {
        # The policy: BH over one session's units, never over all sessions at once.
        "name": "sessions-bh-family-over-all-sessions",
        "file": "src/databook/sessions.py",
        "old": 'kept = table[table["passes_quality"].astype(bool)]',
        "new": 'kept = table[table["passes_quality"].astype(bool)].assign(responsive=lambda t: '
        '__import__("databook.stats").stats.fdr(t["p_value"]) < 0.05)',
        "tests": ["tests/test_sessions.py::test_by_area_uses_each_sessions_own_family"],
    },
]
