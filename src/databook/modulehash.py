"""Which ``databook`` modules a Python file depends on, and their sha256, read once a build.

Both caches keyed by code use this: the figure runner (a figure script's key holds the
sha256 of every ``databook`` module it imports, transitively) and the across-session
results of :mod:`databook.sessions` (a per-session function's key holds those of its
module). A change to any module on the way changes the key.

A :class:`Scan` reads each file once while it lives (one build): its sha256 and the
modules it imports. What a file imports is found by parsing its source, memoised for the
whole process by the sha256 of the bytes, so an edited file is always parsed again and
an unchanged one never twice. Nothing is keyed by modification time: two edits of a file
within one clock tick, of the same size, would look alike.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Iterable
from pathlib import Path

__all__ = ["Scan", "imported_modules", "local_modules", "module_file", "package_dir"]

#: ``(sha256 of the source, module name or None, is a package __init__)`` -> imports.
_IMPORTS: dict[tuple[str, str | None, bool], frozenset[str]] = {}


def package_dir() -> Path:
    """The folder of the installed ``databook`` package."""
    return Path(__file__).resolve().parent


def module_file(module: str, package: Path | None = None) -> Path | None:
    """File of ``databook.<...>`` inside ``package`` (default: ours), or None if the
    module is not one of ours."""
    parts = module.split(".")
    if parts[0] != "databook":
        return None
    base = (package or package_dir()).joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _statement_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Every ``import`` statement of ``tree``, at any depth (in functions, classes,
    ``if``/``try``/``with``/``match`` blocks). Imports are statements, so only statement
    bodies are searched, never expressions (most of a syntax tree)."""
    found: list[ast.Import | ast.ImportFrom] = []
    todo: list[ast.AST] = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
            continue
        for value in vars(node).values():
            if isinstance(value, list):
                todo.extend(
                    v for v in value if isinstance(v, ast.stmt | ast.excepthandler | ast.match_case)
                )
    return found


def _parse(source: bytes, filename: str) -> ast.Module:
    return ast.parse(source, filename=filename)


def imported_modules(
    source: bytes,
    module: str | None,
    *,
    filename: str,
    is_package: bool,
    tree: ast.Module | None = None,
) -> frozenset[str]:
    """Absolute names of the modules a file's ``source`` imports (relative imports
    resolved against ``module``, the file's dotted name; None for a script).

    For ``from a import b`` both ``a`` and ``a.b`` are listed (``b`` may be a module).
    ``tree``: the syntax tree of ``source`` when the caller has parsed it already.
    """
    memo = (hashlib.sha256(source).hexdigest(), module, is_package)
    if memo in _IMPORTS:
        return _IMPORTS[memo]
    if tree is None:
        tree = _parse(source, filename)
    package = None
    if module is not None:
        package = module if is_package else module.rpartition(".")[0]
    names: set[str] = set()
    for node in _statement_imports(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level and package is not None:
            anchor = package.split(".")
            anchor = anchor[: len(anchor) - node.level + 1]
            base = ".".join([*anchor, base] if base else anchor)
        names.add(base)
        names.update(f"{base}.{alias.name}" for alias in node.names)
    _IMPORTS[memo] = frozenset(names)
    return _IMPORTS[memo]


class Scan:
    """Files read during one build: each file's sha256 and imports, read once.

    Make one per build (or per ``verify``) and drop it after: it trusts that a file does
    not change while it lives.

    Parameters
    ----------
    package : the ``databook`` package folder whose modules count as local (default:
        the installed one; tests point it at a copy)
    """

    def __init__(self, package: Path | None = None) -> None:
        self.package = package or package_dir()
        self._sha256: dict[Path, str] = {}
        self._imports: dict[tuple[Path, str | None], frozenset[str]] = {}
        self._local: dict[tuple[Path, str | None], dict[str, Path]] = {}
        self._files: dict[str, Path | None] = {}

    def _read(self, path: Path) -> bytes:
        source = path.read_bytes()
        self._sha256[path] = hashlib.sha256(source).hexdigest()
        return source

    def sha256(self, path: Path) -> str:
        """Hex sha256 of the file at ``path`` (read on first use)."""
        if path not in self._sha256:
            self._read(path)
        return self._sha256[path]

    def imports(self, path: Path, module: str | None) -> frozenset[str]:
        """:func:`imported_modules` of the file at ``path``, named ``module``."""
        if (path, module) not in self._imports:
            self._imports[path, module] = imported_modules(
                self._read(path), module, filename=str(path), is_package=path.name == "__init__.py"
            )
        return self._imports[path, module]

    def local_modules(self, path: Path, module: str | None = None) -> dict[str, Path]:
        """``databook`` modules the file at ``path`` depends on, following imports
        transitively: ``{"databook.x": file}`` (``path`` itself is not listed)."""
        if (path, module) not in self._local:
            self._local[path, module] = self.modules_of(self.imports(path, module))
        return dict(self._local[path, module])

    def modules_of(self, names: Iterable[str]) -> dict[str, Path]:
        """``databook`` modules that importing ``names`` (dotted module names) runs,
        following their imports transitively: ``{"databook.x": file}``."""
        found: dict[str, Path] = {}
        todo = list(names)
        while todo:
            parts = todo.pop().split(".")
            # Importing databook.a.b also runs databook/__init__ and databook/a/__init__.
            for depth in range(1, len(parts) + 1):
                sub = ".".join(parts[:depth])
                if sub in found:
                    continue
                if sub not in self._files:
                    self._files[sub] = module_file(sub, self.package)
                file = self._files[sub]
                if file is not None:
                    found[sub] = file
                    todo.extend(self.imports(file, sub))
        return found

    def module_hashes(self, path: Path, module: str | None = None) -> dict[str, str]:
        """``{"databook.x": sha256}`` of :meth:`local_modules`, sorted by name."""
        return self.hashes(self.local_modules(path, module))

    def hashes(self, modules: dict[str, Path]) -> dict[str, str]:
        """``{name: sha256}`` of ``{name: file}``, sorted by name."""
        return {name: self.sha256(file) for name, file in sorted(modules.items())}


def local_modules(script: Path, package: Path | None = None) -> dict[str, Path]:
    """``databook`` modules a script depends on, following imports transitively."""
    return Scan(package).local_modules(script)
