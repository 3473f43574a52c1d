"""Planted bugs in figure provenance (records, verify, diff) that the tests must catch."""

F = "src/databook/figures.py"
P = "src/databook/provenance.py"
TF = "tests/test_figures.py::"
TP = "tests/test_provenance.py::"

TR = "tests/test_reliability.py::"
A = "src/databook/article.py"

MUTATIONS = [
    {
        "name": "reliability-no-build-lock",
        "file": A,
        "old": "fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)",
        "new": "handle.seek(0)",
        "tests": [TR + "test_a_second_build_is_refused_naming_the_first_ones_pid"],
    },
    {
        "name": "reliability-staging-left-behind",
        "file": F,
        "old": "        shutil.rmtree(stale, ignore_errors=True)",
        "new": "        pass",
        "tests": [
            TR + "test_sigkill_during_a_figure_leaves_no_output_or_record_and_next_run_recovers"
        ],
    },
    {
        "name": "provenance-verify-skips-key",
        "file": F,
        "old": 'if current["cache_key"] != record.get("cache_key"):',
        "new": "if False:",
        "tests": [TF + "test_verify_names_every_reason_a_figure_is_stale"],
    },
    {
        "name": "provenance-peak-of-parent",
        "file": F,
        "old": "peak_mib = round(int(peak_file.read_text()) / 1024, 1)",
        "new": "peak_mib = 0.0",
        "tests": [TF + "test_record_has_versions_peak_memory_modules_and_dirty_flag"],
    },
    {
        "name": "provenance-peak-inherited-from-runner",
        "file": F,
        "old": 'kib = next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))',
        "new": "kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss",
        "tests": [TF + "test_record_has_versions_peak_memory_modules_and_dirty_flag"],
    },
    {
        "name": "provenance-dirty-ignored",
        "file": F,
        "old": "return head, bool(dirty)",
        "new": "return head, False",
        "tests": [TF + "test_dirty_flag_follows_tracked_changes"],
    },
    {
        "name": "provenance-module-change-unnamed",
        "file": P,
        "old": "elif before[name] != after[name]:",
        "new": "elif False:",
        "tests": [TP + "test_diff_names_the_changed_library_module"],
    },
    {
        "name": "provenance-nondeterminism-as-change",
        "file": P,
        "old": 'result.append(FigureChange(name, "non-deterministic", [], differing))',
        "new": 'result.append(FigureChange(name, "changed", [], differing))',
        "tests": [TP + "test_output_bytes_alone_are_flagged_as_non_determinism"],
    },
    {
        "name": "provenance-input-version-dropped",
        "file": P,
        "old": "@{entry.get('version') or '?'}/",
        "new": "/",
        "tests": [TP + "test_diff_names_the_input_asset_old_and_new_version"],
    },
]
