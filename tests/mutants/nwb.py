"""Planted bugs in databook.nwb that tests/test_nwb.py must catch (demo and mini files only,
so they are caught without the real files too)."""

F = "src/databook/nwb.py"
T = "tests/test_nwb.py::"

MUTATIONS = [
    {
        "name": "nwb-ragged-split-off-by-one",
        "file": F,
        "old": "out[:] = np.split(values, ends[:-1]) if len(ends) else []",
        "new": "out[:] = np.split(values, np.maximum(ends[:-1] - 1, 0)) if len(ends) else []",
        "tests": [T + "test_units_match_h5py_unit_by_unit[demo]"],
    },
    {
        "name": "nwb-spike-times-read-per-unit",
        "file": F,
        "old": 'spikes = table["spike_times"][()].astype(np.float64, copy=False)',
        "new": 'ends_ = table["spike_times_index"][()]; spikes = np.concatenate('
        '[table["spike_times"][a:b] for a, b in zip(np.r_[0, ends_[:-1]], ends_)])',
        "tests": [T + "test_units_read_spike_times_in_one_read_each_of_data_and_index"],
    },
    {
        "name": "nwb-spike-times-float32",
        "file": F,
        "old": 'spikes = table["spike_times"][()].astype(np.float64, copy=False)',
        "new": 'spikes = table["spike_times"][()].astype(np.float32)',
        "tests": [T + "test_units_match_h5py_unit_by_unit[demo]"],
    },
    {
        "name": "nwb-zero-positions-taken-as-depths",
        "file": F,
        "old": "if finite.size == 0 or not np.any(finite != 0):",
        "new": "if finite.size == 0:",
        "tests": [T + "test_depth_unit_is_read_from_the_column_and_never_guessed"],
    },
    {
        "name": "nwb-unstated-unit-guessed-as-microns",
        "file": F,
        "old": '            scale, source_ = _micrometres_per(doc), f"the NWB {version} schema"',
        "new": '            scale, source_ = _micrometres_per(doc) or 1.0, "guess"',
        "tests": [T + "test_depth_unit_is_read_from_the_column_and_never_guessed"],
    },
    {
        "name": "nwb-millimetres-scale",
        "file": F,
        "old": r'(re.compile(r"\b(mm|millimet(er|re)s?)\b", re.IGNORECASE), 1e3),',
        "new": r'(re.compile(r"\b(mm|millimet(er|re)s?)\b", re.IGNORECASE), 1e2),',
        "tests": [T + "test_depth_unit_is_read_from_the_column_and_never_guessed"],
    },
    {
        "name": "nwb-lfp-channel-conversion-ignored",
        "file": F,
        "old": "out *= self.channel_conversion[cols]",
        "new": "out *= 1.0",
        "tests": [T + "test_lfp_applies_channel_conversion_and_offset_on_timestamps"],
    },
    {
        "name": "nwb-lfp-offset-ignored",
        "file": F,
        "old": "return out + self.offset",
        "new": "return out",
        "tests": [T + "test_lfp_applies_channel_conversion_and_offset_on_timestamps"],
    },
    {
        "name": "nwb-lfp-rows-as-electrode-ids",
        "file": F,
        "old": "self.electrode_ids = chans.index.to_numpy()[rows]",
        "new": "self.electrode_ids = rows",
        "tests": [T + "test_lfp_applies_channel_conversion_and_offset_on_timestamps"],
    },
    {
        "name": "nwb-pixel-mask-axes-swapped",
        "file": F,
        "old": "(row, x * fov[1] + y)",
        "new": "(row, y * fov[0] + x)",
        "tests": [T + "test_pixel_masks_and_image_masks_of_one_footprint_agree"],
    },
    {
        "name": "nwb-starting-time-dropped",
        "file": F,
        "old": "return float(start[()]) + np.arange(n, dtype=np.float64) / rate",
        "new": "return np.arange(n, dtype=np.float64) / rate",
        "tests": [T + "test_dff_fluorescence_and_images_match_h5py"],
    },
    {
        "name": "nwb-conversion-ignored",
        "file": F,
        "old": "if conversion == 1.0 and offset == 0.0:",
        "new": "if True:",
        "tests": [T + "test_dff_fluorescence_and_images_match_h5py"],
    },
    {
        "name": "nwb-roi-rows-as-ids",
        "file": F,
        "old": 'ids = target["id"][()][rows] if target is not None and "id" in target else rows',
        "new": "ids = rows",
        "tests": [T + "test_dff_fluorescence_and_images_match_h5py"],
    },
    {
        "name": "nwb-intervals-only-under-intervals",
        "file": F,
        "old": '        if t == "TimeIntervals"\n        or (p.startswith',
        "new": '        if (t == "TimeIntervals" and p.startswith("/intervals/"))\n'
        "        or (p.startswith",
        "tests": [T + "test_allen_tables_including_optotagging_are_listed"],
    },
    {
        "name": "nwb-error-hides-what-exists",
        "file": F,
        "old": 'return "the file has: " + _listing(found)',
        "new": 'return "the file has other things"',
        "tests": [T + "test_missing_objects_name_reader_object_place_file_and_what_exists"],
    },
    {
        "name": "nwb-lfp-reads-everything",
        "file": F,
        "old": '        self.data: h5py.Dataset = group["data"]\n',
        "new": '        self.data: h5py.Dataset = group["data"]\n'
        "        self._all = self.data[()]\n",
        "tests": [T + "test_lfp_is_lazy_and_converts_to_volts_at_the_right_depths"],
    },
    {
        "name": "nwb-tree-one-level-too-deep",
        "file": F,
        "old": "                if depth < max_depth:",
        "new": "                if depth <= max_depth:",
        "tests": [
            T + "test_tree_shows_every_group_to_its_depth_with_h5py_row_counts[demo-ecephys]"
        ],
    },
    {
        "name": "nwb-stored-bytes-one-chunk-too-many",
        "file": F,
        "old": "first, last = start // obj.chunks[0], (stop - 1) // obj.chunks[0]",
        "new": "first, last = start // obj.chunks[0], stop // obj.chunks[0]",
        "tests": [T + "test_stored_bytes_are_the_datasets_and_chunks_a_read_must_fetch"],
    },
    {
        "name": "nwb-lfp-links-from-an-LFP-container-not-followed",
        "file": F,
        "old": "            elif isinstance(link, h5py.SoftLink):",
        "new": "            elif False:",
        "tests": [
            "tests/test_nwb_lfp_layouts.py::test_an_lfp_container_linking_its_series_is_found"
        ],
    },
    {
        "name": "nwb-pynwb-child-object-looked-up-without-its-file",
        "file": F,
        "old": 'else getattr(root, "read_io", None)',
        "new": 'else getattr(f, "read_io", None)',
        "tests": [
            "tests/test_nwb_lfp_layouts.py::test_pynwb_objects_read_from_a_file_are_accepted"
            "[LFP-container]"
        ],
    },
    {
        "name": "nwb-1x-root-dataset-version-not-read",
        "file": F,
        "old": 'old_layout = stated is None and isinstance(h5.get("nwb_version"), h5py.Dataset)',
        "new": "old_layout = False",
        "tests": [
            "tests/test_nwb_version.py::"
            "test_every_reader_refuses_an_nwb1_file_naming_it_and_its_version[1.x-root-dataset]"
        ],
    },
    {
        "name": "nwb-1x-not-checked-for-an-open-h5py-file",
        "file": F,
        "old": "        yield _checked(f.file, f.file.filename)",
        "new": "        yield Source(f.file, f.file.filename)",
        "tests": [
            "tests/test_nwb_version.py::"
            "test_every_reader_refuses_an_nwb1_file_naming_it_and_its_version[version-attribute]"
        ],
    },
    {
        "name": "nwb-unit-depth-unit-not-read-from-the-description",
        "file": F,
        "old": "scale = _micrometres_per(stated)\n        if scale is None:\n            notes",
        "new": "scale = 1.0\n        if scale is None:\n            notes",
        "tests": [
            "tests/test_nwb_unit_depth.py::"
            "test_a_unit_depth_column_in_millimetres_is_converted_and_one_without_a_unit_is_not"
        ],
    },
]
