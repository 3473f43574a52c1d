"""A figure script's parameters: its own defaults, or the values ``databook run`` passes.

A figure script declares the parameters a reader may change as a module-level literal
``PARAMETERS = {...}``, named as in its chapter's ``parameters`` cell (``asset``,
``stimulus_name``, ``onset_column`` ...), and reads them with :func:`load`. Run by
``databook figures``, a script gets its defaults (the article's figure). Run by
``databook run CHAPTER --nwb FILE -p NAME VALUE``, it gets the chapter's values for the
same names through the environment variable :data:`VARIABLE`, so the figures show the
reader's file. A script that only makes sense on the demo (it compares with the planted
answers) declares ``DEMO_ONLY = True`` and is skipped for other files.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from databook import paramrules
from databook.errors import DatabookError

__all__ = ["VARIABLE", "FigureParameterError", "encode", "load", "simulated"]

#: Environment variable holding ``repr({name: value})`` of the overrides.
VARIABLE = "DATABOOK_FIGURE_PARAMS"


class FigureParameterError(DatabookError, ValueError):
    """An override names no parameter of the script, or cannot be read."""


def encode(values: Mapping[str, Any]) -> str:
    """The text :func:`load` reads back: ``repr`` of a dict of literals (tuples survive)."""
    text = repr(dict(values))
    try:
        ast.literal_eval(text)
    except (ValueError, SyntaxError) as err:
        raise FigureParameterError(
            f"figure parameters must be Python literals (numbers, text, tuples, lists, "
            f"dicts, None); got {text[:200]}"
        ) from err
    return text


def load(defaults: Mapping[str, Any], *, script: str = "figure script") -> SimpleNamespace:
    """The parameters a figure script uses: ``defaults`` with the overrides in ``$VARIABLE``.

    Parameters
    ----------
    defaults
        The script's ``PARAMETERS``: ``{name: default}``.
    script
        Named in errors (pass ``__file__``).

    Returns
    -------
    SimpleNamespace
        One attribute per name in ``defaults``.

    Raises
    ------
    FigureParameterError
        If an override is not a literal, names no parameter in ``defaults``, or breaks its
        parameter's rule (:mod:`databook.paramrules`).
    """
    values = dict(defaults)
    text = os.environ.get(VARIABLE, "").strip()
    if text:
        try:
            given = ast.literal_eval(text)
        except (ValueError, SyntaxError) as err:
            raise FigureParameterError(
                f"{VARIABLE} is not a Python literal dict: {text[:200]}"
            ) from err
        if not isinstance(given, dict):
            raise FigureParameterError(f"{VARIABLE} must hold a dict, not {type(given).__name__}")
        try:
            paramrules.check(given, defaults, owner=Path(script).name)
        except paramrules.ParameterError as err:
            raise FigureParameterError(str(err)) from None
        values.update(given)
    return SimpleNamespace(**values)


def simulated(source: Any) -> bool:
    """True if ``source`` (a lock key, path or URL) is one of the simulated demo files.

    Figures of demo data carry the "SIMULATED DATA" watermark; figures of a reader's
    own file must not.
    """
    if not isinstance(source, str) or "://" in source or Path(source).exists():
        return False
    from databook import assets

    try:
        return assets.resolve(source).is_demo
    except Exception:  # not a key of this project's lock: the reader's own file
        return False
