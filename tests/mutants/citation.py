"""Planted bugs in databook.citation (how to cite a build) that tests must catch."""

F = "src/databook/citation.py"
T = "tests/test_citation.py::"
C = "tests/test_chapter_09.py::"

MUTATIONS = [
    {
        "name": "citation-digest-variable-ignored",
        "file": F,
        "old": 'value = env.get(DIGEST_VARIABLE, "").strip()',
        "new": 'value = ""',
        "tests": [
            T + "test_build_image_from_the_environment",
            C + "test_how_to_cite_names_the_version_and_the_image",
        ],
    },
    {
        "name": "citation-host-build-claims-the-container",
        "file": F,
        "old": "        else:\n            image = OUTSIDE\n",
        "new": '        else:\n            image = "built in the databook container"\n',
        "tests": [
            T + "test_build_image_from_the_environment",
            C + "test_how_to_cite_names_the_version_and_the_image",
        ],
    },
    {
        "name": "citation-any-digest-accepted",
        "file": F,
        "old": "    if not _DIGEST.match(value):\n",
        "new": "    if False:\n",
        "tests": [T + "test_build_image_refuses_what_is_not_a_digest"],
    },
    {
        "name": "citation-base-image-unpinned-accepted",
        "file": F,
        "old": r'_FROM_DIGEST = re.compile(r"^FROM\s+(\S+@sha256:[0-9a-f]{64})',
        "new": r'_FROM_DIGEST = re.compile(r"^FROM\s+(\S+)',
        "tests": [T + "test_base_image_refuses_an_unpinned_from"],
    },
    {
        "name": "citation-version-from-cff-version",
        "file": F,
        "old": 'version=str(cff["version"]),',
        "new": 'version=str(cff["cff-version"]),',
        "tests": [
            T + "test_bibtex_of_this_project_names_the_version_in_myst_yml",
            C + "test_how_to_cite_names_the_version_and_the_image",
        ],
    },
    {
        "name": "citation-group-author-split",
        "file": F,
        "old": '"{" + _value(name) + "}" if group else _value(name)',
        "new": "_value(name)",
        "tests": [
            T + "test_bibtex_of_people_and_a_group_escapes_and_a_doi",
            T + "test_readme_bibtex_is_the_generated_entry",
        ],
    },
    {
        "name": "citation-no-escaping",
        "file": F,
        "old": 'return _BIBTEX_SPECIAL.sub(r"\\\\\\1", text)',
        "new": "return text",
        "tests": [T + "test_bibtex_of_people_and_a_group_escapes_and_a_doi"],
    },
    {
        "name": "citation-doi-dropped",
        "file": F,
        "old": '        ("doi", citation.doi),\n',
        "new": "",
        "tests": [T + "test_bibtex_of_people_and_a_group_escapes_and_a_doi"],
    },
]
