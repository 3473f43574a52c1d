"""Planted bugs in scripts/release_check.py and the release bundling that tests must catch."""

F = "scripts/release_check.py"
B = "scripts/ci/release-bundle.sh"
T = "tests/test_release.py::"

MUTATIONS = [
    {
        "name": "release-digest-not-required",
        "file": F,
        "old": 'DIGEST_FROM = re.compile(r"^FROM\\s+\\S+@sha256:[0-9a-f]{64}',
        "new": 'DIGEST_FROM = re.compile(r"^FROM\\s+\\S+',
        "tests": [T + "test_base_image_is_pinned_by_digest"],
    },
    {
        "name": "release-tag-not-compared",
        "file": F,
        "old": "elif distinct != {tag[1:]}:",
        "new": "elif False:",
        "tests": [T + "test_release_check_passes_a_clean_consistent_tree_and_its_tag"],
    },
    {
        "name": "release-dirty-tree-accepted",
        "file": F,
        "old": "    if proc.stdout.strip():\n",
        "new": "    if False:\n",
        "tests": [T + "test_release_check_refuses_a_dirty_tree_or_a_stray_version"],
    },
    {
        "name": "release-zenodo-version-ignored",
        "file": F,
        "old": 'found[".zenodo.json"] = zenodo.get("version")',
        "new": 'found[".zenodo.json"] = found["pyproject.toml"]',
        "tests": [T + "test_release_check_refuses_a_dirty_tree_or_a_stray_version"],
    },
    {
        "name": "release-zenodo-keywords-not-compared",
        "file": F,
        "old": '            "keywords": zenodo.get("keywords"),',
        "new": '            "keywords": want["keywords"],',
        "tests": [T + "test_citation_metadata_is_checked_against_myst_yml"],
    },
    {
        "name": "release-bundle-forgets-provenance",
        "file": B,
        "old": '| tar -czf "$out/databook-$tag-provenance.tar.gz" -C figures -T -',
        "new": '| tar -czf "$out/databook-$tag-provenance.tar.gz" -C figures -T /dev/null',
        "tests": [T + "test_release_bundle_has_every_named_file"],
    },
    {
        "name": "release-make-test-skips-cffconvert",
        "file": "Makefile",
        "old": "test: venv venv-cff system-test",
        "new": "test: venv system-test",
        "tests": [T + "test_make_test_creates_the_cffconvert_environment_from_its_lock"],
    },
    {
        "name": "release-cffconvert-lock-without-hashes",
        "file": "Makefile",
        "old": "--require-hashes --no-deps -r $(CFF_LOCK)",
        "new": "-r $(CFF_LOCK)",
        "tests": [T + "test_make_test_creates_the_cffconvert_environment_from_its_lock"],
    },
    {
        "name": "release-article-not-told-its-image",
        "file": ".github/workflows/release.yml",
        "old": "docker run --rm --network none -e DATABOOK_IMAGE_DIGEST \\",
        "new": "docker run --rm --network none \\",
        "tests": [T + "test_the_article_is_told_the_image_it_is_built_in"],
    },
    {
        "name": "release-article-told-an-unpullable-image",
        "file": ".github/workflows/release.yml",
        "old": "@${{ steps.build.outputs.digest }}\n        run: |\n          mkdir",
        "new": "\n        run: |\n          mkdir",
        "tests": [T + "test_the_article_is_told_the_image_it_is_built_in"],
    },
]
