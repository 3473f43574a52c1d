"""Provenance records of a git ref: its figures built in a temporary worktree.

``figures/`` is not committed, so a ref has no records of its own. :func:`ref_records`
checks the ref out into a temporary ``git worktree``, runs *that* tree's own
``databook figures`` in it (its own library code, so its records name its own modules)
and yields the folder of records; the worktree is removed however the block is left
(error, Ctrl-C). The data cache (``$DATABOOK_CACHE``) is shared. The worktree's
``figures/`` starts as a copy of ``seed`` (the working tree's built figures) when given:
the figure cache is keyed on script, modules, inputs and environment, so only the
figures whose key differs at the ref are run again.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from databook._process import run_tree
from databook.errors import DatabookError

__all__ = ["RefError", "ref_records", "resolve_ref"]


class RefError(DatabookError, ValueError):
    """Not a git commit of the project, or its figures could not be built."""


def _git(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
    )


def resolve_ref(root: Path, ref: str) -> str:
    """Full commit sha of ``ref`` in the repository at ``root``; :class:`RefError` if none."""
    if ref.startswith("-"):  # never let a ref be read as an option of git
        raise RefError(f"{ref!r} is not a git ref")
    proc = _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if proc.returncode != 0 or not proc.stdout.strip():
        raise RefError(
            f"{ref!r} is neither a folder of provenance records nor a commit of the git "
            f"repository at {root}"
        )
    return proc.stdout.strip()


@contextlib.contextmanager
def ref_records(
    root: Path,
    ref: str,
    *,
    data_mode: str = "demo",
    only: Sequence[str] | None = None,
    seed: Path | None = None,
) -> Iterator[Path]:
    """Yield the ``figures/`` folder of ``ref`` built in a temporary worktree.

    ``only``: build just these figure names. ``seed``: a built ``figures/`` folder whose
    current outputs are reused where the ref's cache key matches.
    Raises :class:`RefError` naming the ref if it is not a commit or its build failed.
    """
    root = Path(root)
    commit = resolve_ref(root, ref)
    holder = Path(tempfile.mkdtemp(prefix="databook-ref-"))
    tree = holder / "tree"
    added = False
    try:
        proc = _git(root, "worktree", "add", "--detach", str(tree), commit)
        if proc.returncode != 0:
            raise RefError(f"git worktree add for {ref!r} failed: {proc.stderr.strip()}")
        added = True
        if seed is not None and Path(seed).is_dir():
            shutil.copytree(
                seed, tree / "figures", ignore=shutil.ignore_patterns(".staging-*", "*.part*")
            )
        env = {k: v for k, v in os.environ.items() if k != "DATABOOK_BUILD_LOCK"}
        env["DATABOOK_ROOT"] = str(tree)
        env["PYTHONPATH"] = os.pathsep.join(
            [str(tree / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]
        )
        command = [sys.executable, "-m", "databook.cli", "figures", "--root", str(tree)]
        command += ["--data", data_mode, *(only or [])]
        built = run_tree(command, cwd=tree, env=env, capture=True)
        if built.returncode != 0:
            tail = "\n".join((built.stdout + built.stderr).strip().splitlines()[-20:])
            raise RefError(
                f"building the figures of {ref!r} ({commit[:12]}) failed "
                f"(exit {built.returncode}):\n{tail}"
            )
        yield tree / "figures"
    finally:
        if added:
            _git(root, "worktree", "remove", "--force", str(tree))
        shutil.rmtree(holder, ignore_errors=True)
        _git(root, "worktree", "prune")
