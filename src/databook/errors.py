"""The base of every error databook reports to a user as a message, not a traceback.

Each module raises its own subclass (``LockError``, ``AssetError``, ``FigureError`` ...)
whose message names what failed (file, asset, table or column), the value found and the
fix. The ``databook`` command turns any of them into a one-line ``Error: ...`` in one
place (``databook.cli``).
"""

from __future__ import annotations

__all__ = ["DatabookError"]


class DatabookError(Exception):
    """A failure whose message is complete for the user: what, where, and how to fix it."""
