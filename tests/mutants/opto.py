"""Planted bugs in databook.opto that the fast tests of tests/test_opto.py must catch."""

T = "tests/test_opto.py::"
SRC = "src/databook/opto.py"

MUTATIONS = [
    {  # issue 12's planted bug
        "name": "opto-reliability-scaled-0.75",
        "file": SRC,
        "old": "    reliability = n_hit / n_pulses\n",
        "new": "    reliability = 0.75 * n_hit / n_pulses\n",
        "tests": [T + "test_latency_jitter_reliability_and_rate_ratio_are_exact_on_a_known_unit"],
    },
    {  # SALT: baseline windows start one latency bin early
        "name": "opto-salt-baseline-off-by-one-bin",
        "file": SRC,
        "old": "    base_starts = base_onsets - n_windows * nmbn * dt\n",
        "new": "    base_starts = base_onsets - (n_windows * nmbn + 1) * dt\n",
        "tests": [T + "test_salt_equals_the_literal_algorithm"],
    },
    {  # SALT: ties decided by rounding again
        "name": "opto-salt-ties-by-rounding",
        "file": SRC,
        "old": "(null >= test[:, None] - _TIE)",
        "new": "(null >= test[:, None])",
        "tests": [T + "test_salt_ties_at_low_rates_are_those_of_salt_m"],
    },
    {  # latency from the last spike of each pulse's test window, not the first
        "name": "opto-latency-last-spike",
        "file": SRC,
        "old": "    first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if key.size else key\n"
        "    unit_first",
        "new": "    first = np.flatnonzero(np.r_[key[1:] != key[:-1], True]) if key.size else key\n"
        "    unit_first",
        "tests": [T + "test_latency_jitter_reliability_and_rate_ratio_are_exact_on_a_known_unit"],
    },
    {  # jitter as the sample SD (n - 1), not the SD over pulses
        "name": "opto-jitter-ddof",
        "file": SRC,
        "old": "np.sqrt(var / np.maximum(n_hit, 1))",
        "new": "np.sqrt(var / np.maximum(n_hit - 1, 1))",
        "tests": [T + "test_latency_jitter_reliability_and_rate_ratio_are_exact_on_a_known_unit"],
    },
    {  # pulse trains: a spike counts in one pulse's baseline only (the old assignment)
        "name": "opto-train-spike-in-one-baseline",
        "file": SRC,
        "old": "    base_starts = base_onsets - n_windows * nmbn * dt\n",
        "new": "    base_starts = np.maximum(\n"
        "        base_onsets - n_windows * nmbn * dt, np.r_[-np.inf, base_onsets[:-1]]\n"
        "    )\n",
        "tests": [T + "test_salt_on_pulse_trains_equals_the_literal_algorithm[10]"],
    },
    {  # pulse trains: every pulse taken for the first of a train
        "name": "opto-train-grouping",
        "file": SRC,
        "old": "first = np.r_[True, np.diff(onsets) >= span]",
        "new": "first = np.r_[True, np.diff(onsets) >= 0]",
        "tests": [T + "test_salt_on_pulse_trains_equals_the_literal_algorithm[10]"],
    },
    {
        # The policy: SALT's count as a permutation p, BH over the session's units.
        "name": "opto-salt-uncorrected",
        "file": "src/databook/opto.py",
        "old": "salt_q = fdr(permutation_p(np.rint(p * n_pairs).astype(np.int64), n_pairs))",
        "new": "salt_q = p",
        "tests": [
            "tests/test_opto.py::test_tagged_unit_on_10hz_trains_is_found_and_poisson_units_are_not",
            "tests/test_chapter_06.py::test_salt_is_corrected_by_bh_over_the_session_units",
        ],
    },
]
