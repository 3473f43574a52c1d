"""Planted bugs in databook.cellmatch and its demo generator, each caught by fast tests."""

T = "tests/test_cellmatch.py::"
P = "tests/test_cellmatch_planted.py::"
MUTATIONS = [
    {
        "name": "cellmatch-rotation-sign",
        "file": "src/databook/cellmatch.py",
        "old": "return np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])",
        "new": "return np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])",
        "tests": [T + "test_transform_matrix_is_the_planted_convention_and_round_trips"],
    },
    {
        "name": "cellmatch-scale-not-applied",
        "file": "src/databook/cellmatch.py",
        "old": "return self.rotation @ shear @ np.diag(self.scale)",
        "new": "return self.rotation @ shear",
        "tests": [T + "test_warped_mask_lands_where_the_transform_says"],
    },
    {
        "name": "cellmatch-shear-dropped",
        "file": "src/databook/cellmatch.py",
        "old": "shear = np.array([[1.0, self.shear], [0.0, 1.0]])",
        "new": "shear = np.eye(2)",
        "tests": [T + "test_warped_mask_lands_where_the_transform_says"],
    },
    {
        "name": "cellmatch-iou-threshold-ignored",
        "file": "src/databook/cellmatch.py",
        "old": "keep = iou >= min_iou",
        "new": "keep = iou >= 0.0",
        "tests": [T + "test_iou_threshold_separates_a_lost_cell_from_its_new_neighbour"],
    },
    {
        "name": "demo-cells-turn-the-wrong-way",
        "file": "src/databook/demo/ophys.py",
        "old": "angle=tissue.angle - np.deg2rad(angle_deg),",
        "new": "angle=tissue.angle + np.deg2rad(angle_deg),",
        "tests": [T + "test_demo_cells_turn_with_the_field_of_view"],
    },
    {
        "name": "cellmatch-low-quality-silent",
        "file": "src/databook/cellmatch.py",
        "old": 'if quality is None or quality.ok or on_low_quality == "ignore":',
        "new": 'if quality is None or quality.ok or on_low_quality == "ignore" or True:',
        "tests": [T + "test_unrelated_sessions_are_flagged_not_matched_silently"],
    },
    {
        "name": "cellmatch-edge-of-search-not-flagged",
        "file": "src/databook/cellmatch.py",
        "old": "if n_steps and abs(a0) >= max_angle - 1e-9:",
        "new": "if False:",
        "tests": [T + "test_rotation_beyond_the_search_range_warns_with_numbers"],
    },
    {
        "name": "cellmatch-stray-match-joins-tracks",
        "file": "src/databook/cellmatch.py",
        "old": "if pick is None or best < min_agreement:",
        "new": "if pick is None:",
        "tests": [T + "test_a_stray_match_does_not_join_two_cells"],
    },
    {
        "name": "cellmatch-no-chaining",
        "file": "src/databook/cellmatch.py",
        "old": "if settled[k]:",
        "new": "if True:",
        "tests": [
            T + "test_six_sessions_do_not_hang_on_one_session",
            P + "test_a_track_survives_a_session_the_reference_cannot_reach",
        ],
    },
    {
        "name": "cellmatch-images-only",
        "file": "src/databook/cellmatch.py",
        "old": 'for source, pair in (("footprints", prints), ("image", images)):',
        "new": 'for source, pair in (("image", images),):',
        "tests": [
            P + "test_pairs_are_matched_and_registered_within_a_pixel",
            P + "test_six_sessions_with_weak_images",
            P + "test_six_sessions_one_of_which_cannot_be_registered_by_its_image",
            "tests/test_chapter_08.py::"
            "test_weak_mean_images_fail_alone_and_the_footprints_recover_them",
        ],
    },
    {
        "name": "cellmatch-flagged-candidate-preferred",
        "file": "src/databook/cellmatch.py",
        "old": "pick = clean[0] if clean else int(np.argmax(counts))",
        "new": "pick = int(np.argmax(counts))",
        "tests": [T + "test_six_sessions_full_length_tracks"],
    },
]
