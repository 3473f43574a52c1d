"""Planted bugs in databook.csd that the fast CSD tests must catch (tests/mutations.py)."""

MUTATIONS = [
    {
        "name": "csd-vaknin-edge-coefficient-doubled",
        "file": "src/databook/csd.py",
        "old": "second[i, j], second[i, i] = 1 / h**2, -1 / h**2",
        "new": "second[i, j], second[i, i] = 2 / h**2, -2 / h**2",
        "tests": ["tests/test_csd.py::test_vaknin_edges_equal_the_padded_second_difference"],
    },
    {
        "name": "csd-smoothing-sd-tripled",
        "file": "src/databook/csd.py",
        "old": "weights = np.exp(-(distance**2) / (2 * smooth_um**2))",
        "new": "weights = np.exp(-(distance**2) / (2 * (3 * smooth_um) ** 2))",
        "tests": ["tests/test_csd.py::test_smoothing_widens_a_gaussian_sheet_by_its_sd"],
    },
    {
        "name": "csd-irregular-spacings-swapped",
        "file": "src/databook/csd.py",
        "old": "second[i, i - 1] = 2 / (h1 * (h1 + h2))",
        "new": "second[i, i - 1] = 2 / (h2 * (h1 + h2))",
        "tests": [
            "tests/test_csd.py::test_cubic_potential_gives_the_known_first_order_error_on_irregular_depths"
        ],
    },
    {
        "name": "csd-bad-channel-weights-reversed",
        "file": "src/databook/csd.py",
        "old": "fill[i, a], fill[i, b] = 1.0 - w, w",
        "new": "fill[i, a], fill[i, b] = w, 1.0 - w",
        "tests": [
            "tests/test_csd.py::test_adjacent_bad_channels_restore_a_linear_potential_exactly"
        ],
    },
    {
        "name": "csd-chunk-drops-last-sample",
        "file": "src/databook/csd.py",
        "old": "stop = min(start + chunk_samples, n_samples)",
        "new": "stop = min(start + chunk_samples - 1, n_samples)",
        "tests": ["tests/test_csd.py::test_chunked_into_memmap_equals_in_memory"],
    },
]
