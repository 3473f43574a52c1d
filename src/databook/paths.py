"""Where the project's files live, resolved once from a project root.

The root is the folder holding ``myst.yml`` and ``figures_src/``. Library functions take
a :class:`Project` (or plain paths) as arguments; nothing here reads the working
directory except :func:`find_root`, which the CLI calls once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from databook.errors import DatabookError

__all__ = ["Project", "ProjectNotFoundError", "find_root"]


class ProjectNotFoundError(DatabookError, FileNotFoundError):
    """No databook project (a folder with ``myst.yml`` and ``figures_src/``) was found."""


def _is_root(path: Path) -> bool:
    return (path / "myst.yml").is_file() and (path / "figures_src").is_dir()


def find_root(start: str | os.PathLike[str] | None = None) -> Path:
    """Return the project root: ``start`` or one of its parents when given (``--root``),
    else ``$DATABOOK_ROOT``, else the current directory or one of its parents."""
    env = os.environ.get("DATABOOK_ROOT")
    if env and start is None:
        root = Path(env).resolve()
        if not _is_root(root):
            raise ProjectNotFoundError(
                f"DATABOOK_ROOT={env} does not hold myst.yml and figures_src/"
            )
        return root
    here = Path(start if start is not None else Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if _is_root(candidate):
            return candidate
    raise ProjectNotFoundError(
        f"no databook project (myst.yml + figures_src/) in {here} or its parents; "
        "run from inside the project or set DATABOOK_ROOT"
    )


@dataclass(frozen=True)
class Project:
    """Paths of one databook checkout, all derived from its root."""

    root: Path

    @classmethod
    def find(cls, start: str | os.PathLike[str] | None = None) -> Project:
        return cls(find_root(start))

    @property
    def figures_src(self) -> Path:
        return self.root / "figures_src"

    @property
    def figures(self) -> Path:
        """Built figures and their provenance records (git-ignored)."""
        return self.root / "figures"

    @property
    def chapters(self) -> Path:
        return self.root / "chapters"

    @property
    def build(self) -> Path:
        return self.root / "_build"

    @property
    def html(self) -> Path:
        return self.build / "html"

    @property
    def pdf(self) -> Path:
        return self.build / "exports" / "databook.pdf"

    @property
    def environment_lock(self) -> Path:
        return self.root / "environment.lock"

    @property
    def assets_lock(self) -> Path:
        return self.root / "assets.lock"

    @property
    def jupyter_config(self) -> Path:
        """Project Jupyter configuration (lets the kernel server run as root in containers)."""
        return self.root / ".jupyter"

    @property
    def site_template(self) -> Path:
        return self.root / "templates" / "site"
