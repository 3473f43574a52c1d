"""Planted bugs in databook.responses that the fast tests must catch (tests/mutations.py)."""

T = "tests/test_responses.py::"
FILE = "src/databook/responses.py"

MUTATIONS = [
    {
        # Named in issue 12: it used to leave the whole suite green.
        "name": "responses-peak-latency-half-bin",
        "file": FILE,
        "old": "latency = edges[:-1][in_resp][resp.argmax(axis=1)] + bin_size / 2",
        "new": "latency = edges[:-1][in_resp][resp.argmax(axis=1)]",
        "tests": [T + "test_peak_latency_is_the_centre_of_the_peak_bin"],
    },
    {
        "name": "responses-baseline-window-includes-response",
        "file": FILE,
        "old": "in_base = (centers > base_start) & (centers < base_stop)",
        "new": "in_base = (centers > base_start) & (centers < resp_stop)",
        "tests": [T + "test_density_is_the_causal_kernel_of_align_psth"],
    },
    {
        "name": "responses-count-test-dropped",
        "file": FILE,
        "old": "& (peak >= min_peak_rate) & (p < alpha)",
        "new": "& (peak >= min_peak_rate)",
        "tests": [T + "test_a_lone_spike_is_not_a_response"],
    },
    {
        "name": "responses-count-test-share-of-baseline-time",
        "file": FILE,
        "old": "share = width / (width + (base_stop - base_start))",
        "new": "share = width / (base_stop - base_start)",
        "tests": [T + "test_count_test_is_the_exact_conditional_poisson_test"],
    },
    {
        "name": "responses-mean-rate-floor-dropped",
        "file": FILE,
        "old": "(peak > mean + k_sd * sd) & (mean_rate > min_rate)",
        "new": "(peak > mean + k_sd * sd)",
        "tests": [T + "test_mean_rate_floor_of_siegle_et_al"],
    },
    {
        "name": "responses-kernel-time-constant-inverted",
        "file": FILE,
        "old": "decay = np.exp(-bin_size / smooth_tau)",
        "new": "decay = np.exp(-bin_size * smooth_tau)",
        "tests": [T + "test_density_is_the_causal_kernel_of_align_psth"],
    },
    {
        "name": "responses-dff-float-residue-kept",
        "file": FILE,
        "old": "    difference[residue] = 0.0\n",
        "new": "",
        "tests": [T + "test_constant_and_one_dimensional_dff"],
    },
    {
        "name": "responses-summed-counts-inclusive-upper-edge",
        "file": FILE,
        "old": 'position = np.searchsorted(flat, times, side="right") - 1',
        "new": 'position = np.searchsorted(flat, times, side="left") - 1',
        "tests": [T + "test_summed_counts_equal_event_counts_summed_over_events"],
    },
]
