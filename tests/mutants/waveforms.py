"""Planted bugs in databook.waveforms and opto.split_by_light, caught by tests/test_waveforms.py."""

T = "tests/test_waveforms.py::"

MUTATIONS = [
    {  # the one-sided test counted in the wrong tail
        "name": "waveforms-shuffles-counted-above",
        "file": "src/databook/waveforms.py",
        "old": "    k = int((shuffled <= observed).sum())\n",
        "new": "    k = int((shuffled >= observed).sum())\n",
        "tests": [T + "test_a_few_foreign_events_are_rejected_though_r_stays_high"],
    },
    {  # the shuffled spontaneous mean taken over all spikes
        "name": "waveforms-shuffled-rest-is-everything",
        "file": "src/databook/waveforms.py",
        "old": "            sums / n_evoked, (total - sums) / (n_total - n_evoked)\n",
        "new": "            sums / n_evoked, total / n_total\n",
        "tests": [T + "test_one_neuron_is_flagged_at_the_nominal_rate"],
    },
    {  # the test window closed at its end
        "name": "opto-split-window-closed",
        "file": "src/databook/opto.py",
        "old": "    return (since >= artifact) & (since < window), since >= guard\n",
        "new": "    return (since >= artifact) & (since <= window), since >= guard\n",
        "tests": [T + "test_split_by_light_uses_the_half_open_test_window_and_the_guard"],
    },
]
