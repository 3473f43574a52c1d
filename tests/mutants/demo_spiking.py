"""Planted bugs in databook.demo.spiking (and chapter 4's use of alpha_poisson), each caught
by fast tests."""

T = "tests/test_demo_spiking.py::"
MUTATIONS = [
    {
        "name": "superposed-latency-dropped",
        "file": "src/databook/demo/spiking.py",
        "old": "evoked = np.repeat(events + latency_s, n)",
        "new": "evoked = np.repeat(events, n)",
        "tests": [T + "test_responses_to_close_events_add_up"],
    },
    {
        "name": "superposed-latest-event-only",
        "file": "src/databook/demo/spiking.py",
        "old": "n = rng.poisson(evoked_hz * duration_s, events.size)",
        "new": (
            "n = rng.poisson(evoked_hz * duration_s, events.size)"
            " * (np.diff(events, append=np.inf) > latency_s + duration_s)"
        ),
        "tests": [T + "test_responses_to_close_events_add_up"],
    },
    {
        "name": "superposed-no-baseline",
        "file": "src/databook/demo/spiking.py",
        "old": "rng.poisson(baseline_hz * t_stop)",
        "new": "rng.poisson(0.0 * t_stop)",
        "tests": [T + "test_responses_to_close_events_add_up"],
    },
    {
        "name": "alpha-latency-dropped",
        "file": "src/databook/demo/spiking.py",
        "old": "    x = (since - lat[owner]) / tau[owner]\n",
        "new": "    x = since / tau[owner]\n",
        "tests": [T + "test_alpha_responses_have_the_stated_shape"],
    },
    {  # the chapter's spill share without the (1 + a) term of the alpha integral
        "name": "ch4-alpha-spill-without-linear-term",
        "file": "chapters/04-neuropixels-responses.md",
        "old": '"spikes after the window (%)": 100 * np.exp(-a) * (1 + a),',
        "new": '"spikes after the window (%)": 100 * np.exp(-a),',
        "tests": [
            "tests/test_chapter_04.py::test_step_fit_on_alpha_responses_is_late_by_more_as_the_rise_slows"
        ],
    },
    {
        "name": "grid-rf-latency-ignored",
        "file": "src/databook/demo/spiking.py",
        "old": "np.sort(np.repeat(onsets + latency_s, row)",
        "new": "np.sort(np.repeat(onsets, row)",
        "tests": [T + "test_grid_rf_latency_shifts_every_spike_and_spills_past_the_presentation"],
    },
]
