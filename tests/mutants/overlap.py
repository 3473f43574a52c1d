"""Planted bugs in databook.overlap and databook.matfiles, each caught by fast tests."""

T = "tests/test_overlap.py::"
MUTATIONS = [
    {
        "name": "overlap-union-without-intersection",
        "file": "src/databook/overlap.py",
        "old": "union = size_a[ia] + size_b[ib] - inter",
        "new": "union = size_a[ia] + size_b[ib]",
        "tests": [T + "test_shifted_square_has_the_iou_and_distance_computed_by_hand"],
    },
    {
        "name": "overlap-warp-forward-not-inverse",
        "file": "src/databook/overlap.py",
        "old": "source = np.rint(transform.inverse.apply_to_points(",
        "new": "source = np.rint(transform.apply_to_points(",
        "tests": [T + "test_the_right_transform_makes_the_same_cells_coincide"],
    },
    {
        "name": "overlap-absolute-threshold",
        "file": "src/databook/overlap.py",
        "old": "keep = (weights > 0) & (weights >= threshold * peak[rows])",
        "new": "keep = (weights > 0) & (weights >= threshold)",
        "tests": [T + "test_footprint_is_a_fraction_of_each_masks_own_peak"],
    },
    {
        "name": "overlap-zero-distance-dropped",
        "file": "src/databook/overlap.py",
        "old": "near = cKDTree(cen_a).query_ball_tree(cKDTree(cen_b), radius)",
        "new": (
            "near = [[j for j in v if np.hypot(*(cen_a[i] - cen_b[j])) > 0] for i, v in "
            "enumerate(cKDTree(cen_a).query_ball_tree(cKDTree(cen_b), radius))]"
        ),
        "tests": [T + "test_the_right_transform_makes_the_same_cells_coincide"],
    },
    {
        "name": "matfiles-axes-swapped",
        "file": "src/databook/matfiles.py",
        "old": "(cell, y * width + x)), shape=(n, height * width)",
        "new": "(cell, x * height + y)), shape=(n, height * width)",
        "tests": [T + "test_read_footprints_keeps_rows_columns_and_values"],
    },
]
