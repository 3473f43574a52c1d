"""Planted bugs in databook.modulehash (the module walker of both code-keyed caches)."""

M = "src/databook/modulehash.py"
T = "tests/test_modulehash.py::"

MUTATIONS = [
    {
        "name": "modulehash-memo-not-by-content",
        "file": M,
        "old": "memo = (hashlib.sha256(source).hexdigest(), module, is_package)",
        "new": "memo = (module, is_package)",
        "tests": [
            T + "test_an_edited_import_is_seen_in_the_same_process",
            "tests/test_figures.py::test_library_module_change_changes_key",
        ],
    },
    {
        "name": "modulehash-only-top-level-imports",
        "file": M,
        "old": "v for v in value if isinstance(v, ast.stmt | ast.excepthandler | ast.match_case)",
        "new": "v for v in value if False",
        "tests": [T + "test_imports_at_any_depth_are_found"],
    },
    {
        "name": "modulehash-no-transitive-walk",
        "file": M,
        "old": "                    todo.extend(self.imports(file, sub))",
        "new": "                    pass",
        "tests": ["tests/test_figures.py::test_library_module_change_changes_key"],
    },
]
