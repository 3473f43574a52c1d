"""Planted bugs in databook.demo.spiking.superposed_poisson, each caught by fast tests."""

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
]
