"""What values each chapter (and figure script) parameter accepts, checked before anything runs.

A parameter's rule comes from one of two places, in this order:

1. :data:`RULES`, an explicit table by parameter name, for what a name and a default cannot
   say (``dt`` is a positive duration in seconds, ``truth_asset`` may be None, ``model`` is
   one of three words). An explicit rule is used only where it is of the same kind as the
   parameter's default (a number rule for a number, a pair rule for a pair), since a name
   may mean a number in one chapter and a window in another (``baseline``).
2. Inference from the name and the default: a ``*_window``, or a tuple of two numbers in
   increasing order, is a ``(start, stop)`` window with stop after start; a ``*_s`` number
   is a duration in seconds (>= 0); ``*_hz`` a positive rate; ``alpha``, ``*_alpha``,
   ``fdr``, ``q`` and ``*_q`` (false-discovery rates) a probability in (0, 1); ``n_*`` a
   count >= 1; ``seed`` and ``*_seed`` a whole number >= 0; otherwise a value of the
   default's type (an int default takes an int, a float default any real number, a text
   default text, ...). A parameter whose default is
   None takes any value.

Text parameters naming things in the file (tables, columns, images) are checked only as
text here; :mod:`databook.chapterinputs` checks their content against the file.

:func:`check` is used by ``databook run`` (before a kernel starts), by
:func:`databook.figureparams.load` (before a figure script reads its data) and by
:func:`databook.sessions.across` (before any session runs, judged from the function's
keyword defaults), so the same value is refused with the same message everywhere.
"""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from databook.errors import DatabookError

__all__ = ["RULES", "ParameterError", "Rule", "check", "problem", "rule_for"]


class ParameterError(DatabookError, ValueError):
    """A ``-p`` value is of the wrong type or out of range, or names no parameter."""


@dataclass(frozen=True)
class Rule:
    """The values one parameter accepts.

    ``kind``: ``number`` (a real number, not a bool), ``integer``, ``window`` (a
    ``(start, stop)`` pair of numbers, stop > start), ``text``, ``choice`` (one of
    ``choices``), ``type`` (an instance of ``types``) or ``any``. ``low``/``high``: bounds of
    a number (``open_low``/``open_high``: the bound itself excluded). ``unit``: named in
    messages (``s``, ``Hz``, ``um`` ...). ``nullable``: None is accepted too (``none``
    says what None means).
    """

    kind: str
    low: float | None = None
    high: float | None = None
    open_low: bool = False
    open_high: bool = False
    unit: str = ""
    nullable: bool = False
    none: str = ""
    choices: tuple[Any, ...] = ()
    types: tuple[type, ...] = ()

    def describe(self) -> str:
        """What the rule accepts, as the end of a sentence ("a duration in s >= 0")."""
        unit = f" in {self.unit}" if self.unit else ""
        if self.kind == "window":
            text = f"a (start, stop) pair of numbers{unit}, stop after start"
        elif self.kind in ("number", "integer"):
            noun = "a whole number" if self.kind == "integer" else "a number"
            bounds = []
            if self.low is not None:
                bounds.append(f"{'>' if self.open_low else '>='} {self.low:g}")
            if self.high is not None:
                bounds.append(f"{'<' if self.open_high else '<='} {self.high:g}")
            text = f"{noun}{unit}" + (f" {' and '.join(bounds)}" if bounds else "")
        elif self.kind == "text":
            text = "text"
        elif self.kind == "choice":
            text = "one of " + ", ".join(repr(c) for c in self.choices)
        elif self.kind == "type":
            text = " or ".join(_NOUNS.get(t, t.__name__) for t in self.types)
        else:
            text = "any Python literal"
        if self.nullable:
            text += " or None" + (f" ({self.none})" if self.none else "")
        return text


_NOUNS = {
    dict: "a dict",
    list: "a list",
    tuple: "a tuple",
    bool: "True or False",
    str: "text",
}


def _seconds(low: float = 0.0, *, positive: bool = False, **kw: Any) -> Rule:
    return Rule("number", low=low, open_low=positive, unit="s", **kw)


def _positive(unit: str = "", **kw: Any) -> Rule:
    return Rule("number", low=0.0, open_low=True, unit=unit, **kw)


def _fraction() -> Rule:
    return Rule("number", low=0.0, high=1.0)


def _text(none: str = "") -> Rule:
    return Rule("text", nullable=bool(none), none=none)


#: Explicit rules where a name and a default do not say enough, by parameter name.
RULES: dict[str, Rule] = {
    # sources: lock keys, paths or URLs (read by the chapters; None where documented)
    "truth_asset": _text("no planted answers: another file than the demo"),
    "ophys_asset": _text("skip the two-photon part"),
    "data_mode": Rule("choice", choices=("demo", "dandi")),
    # chapter 1
    "raster_length_s": _seconds(positive=True),
    "lfp_length_s": _seconds(positive=True),
    "tree_depth": Rule("integer", low=1),
    # chapter 2
    "max_gap": _seconds(positive=True),
    "bin_s": _seconds(positive=True),
    "scan_s": _seconds(positive=True),
    # chapter 3
    "rate": _positive("Hz"),
    "min_amplitude": Rule("number", low=0.0, unit="dF/F"),
    "osi_cutoff": _fraction(),
    "running_threshold": Rule(
        "number", low=0.0, unit="cm/s", nullable=True, none="split at the median speed"
    ),
    # chapter 4
    "smooth_tau": _seconds(positive=True),
    # chapter 6
    "dt": _seconds(positive=True),
    "window": _seconds(positive=True),
    "baseline": _seconds(positive=True),
    "artifact": _seconds(),
    "max_latency": _seconds(positive=True),
    "p_max": Rule("number", low=0.0, high=1.0, open_low=True, open_high=True),
    "min_reliability": _fraction(),
    "min_rate_ratio": _positive(),
    "min_locked": _fraction(),
    "ks_window": _seconds(positive=True),
    # chapter 7
    "lfp_name": _text("the file's one LFP"),
    "profile_s": _seconds(nullable=True, none="where |CSD| is largest"),
    "sigma_s_per_m": _positive("S/m"),
    "valid_column": _text("every channel is usable"),
    "edge_um": Rule("number", low=0.0, unit="um"),
    # chapter 8
    "image_name": _text("register on the summed footprints"),
    "model": Rule("choice", choices=("rigid", "similarity", "affine")),
    "cellreg_model": Rule("choice", choices=("rigid", "similarity", "affine")),
    "max_angle": Rule("number", low=0.0, unit="degrees"),
    "max_distance": _positive("px"),
    "min_iou": _fraction(),
    "neighbour_radius": _positive("px"),
    # chapter 10
    "workers": Rule("integer", low=1),
    "dandiset": _text("the demo sessions"),
    "api_url": _text("the public archive"),
    "scheduler": _text("a local cluster"),
}


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _is_pair(value: Any) -> bool:
    return isinstance(value, tuple | list) and len(value) == 2 and all(map(_is_number, value))


def _family(rule_or_default: Any) -> str:
    """``number``, ``window``, ``text`` or ``other``: what an explicit rule must match."""
    if isinstance(rule_or_default, Rule):
        kind = rule_or_default.kind
        return {"integer": "number", "choice": "text"}.get(kind, kind)
    if _is_number(rule_or_default):
        return "number"
    if _is_pair(rule_or_default):
        return "window"
    if isinstance(rule_or_default, str):
        return "text"
    return "other"


def _unit(name: str) -> str:
    for suffix, unit in (("_um", "um"), ("_deg", "degrees"), ("_hz", "Hz")):
        if name.endswith(suffix):
            return unit
    return "s"


def rule_for(name: str, default: Any) -> Rule:
    """The rule of parameter ``name`` whose default is ``default`` (see the module notes)."""
    explicit = RULES.get(name)
    if explicit is not None and (default is None or _family(explicit) == _family(default)):
        return explicit
    if default is None:
        return Rule("any")
    if isinstance(default, bool):
        return Rule("type", types=(bool,))
    if name.endswith("_window") or (
        _is_pair(default) and isinstance(default, tuple) and default[0] < default[1]
    ):
        return Rule("window", unit=_unit(name))
    if _is_number(default):
        integer = isinstance(default, numbers.Integral)
        if name == "seed" or name.endswith("_seed"):
            return Rule("integer", low=0)
        if name.startswith("n_") and integer:
            return Rule("integer", low=1)
        if name in ("alpha", "fdr", "q") or name.endswith(("_alpha", "_q")):
            return Rule("number", low=0.0, high=1.0, open_low=True, open_high=True)
        if name.endswith("_hz"):
            return _positive("Hz")
        if name.endswith("_s"):
            return _seconds()
        return Rule("integer" if integer else "number")
    if isinstance(default, str):
        return Rule("text")
    if isinstance(default, tuple | list):
        return Rule("type", types=(tuple, list))
    if isinstance(default, dict):
        return Rule("type", types=(dict,))
    return Rule("any")


def problem(rule: Rule, value: Any) -> str | None:
    """Why ``value`` breaks ``rule`` (the end of a message), or None if it is accepted."""
    if value is None and (rule.nullable or rule.kind == "any"):
        return None
    if rule.kind == "any":
        return None
    wants = f"must be {rule.describe()}"
    if rule.kind == "window":
        if not _is_pair(value):
            return wants
        start, stop = value
        if not stop > start:
            return "stop must be after start"
        return None
    if rule.kind in ("number", "integer"):
        if not _is_number(value) or (rule.kind == "integer" and not isinstance(value, int)):
            return wants
        if value != value:  # NaN
            return wants
        if rule.low is not None and (value <= rule.low if rule.open_low else value < rule.low):
            return wants
        if rule.high is not None and (value >= rule.high if rule.open_high else value > rule.high):
            return wants
        return None
    if rule.kind == "text":
        return None if isinstance(value, str) and value.strip() else wants
    if rule.kind == "choice":
        return None if value in rule.choices else wants
    if rule.kind == "type":
        return None if isinstance(value, rule.types) else wants
    raise ValueError(f"unknown rule kind {rule.kind!r}")


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return repr(value) if not value or not value.replace("_", "").isalnum() else value
    return repr(value)


def check(
    given: Mapping[str, Any],
    defaults: Mapping[str, Any],
    *,
    owner: str,
    form: str = "-p {name} {value}",
) -> None:
    """Refuse ``given`` values (``{name: value}``) that break their parameter's rule.

    Parameters
    ----------
    given
        The values to check (``-p NAME VALUE``, after :func:`databook.run.parse_value`).
    defaults
        ``{name: default}`` of every parameter of ``owner``.
    owner
        Named in the message ("chapter 04-neuropixels-responses", "fig_psth.py").
    form
        How the message writes a given value: ``-p NAME VALUE`` for ``databook run``,
        ``--param NAME=VALUE`` for ``databook across``.

    Raises
    ------
    ParameterError
        One message with a line per bad value, ``-p NAME VALUE: why`` (in ``form``): what
        it must be and the default, or a close name for an unknown one.
    """
    lines = []
    for name, value in given.items():
        shown = form.format(name=name, value=_shown(value))
        if name not in defaults:
            close = difflib.get_close_matches(name, list(defaults), n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]}?)" if close else ""
            lines.append(
                f"{shown}: {owner} has no parameter {name}{hint}; "
                f"its parameters: {', '.join(defaults)}"
            )
            continue
        why = problem(rule_for(name, defaults[name]), value)
        if why is not None:
            lines.append(f"{shown}: {why} (default: {defaults[name]!r})")
    if lines:
        raise ParameterError("\n".join(lines))
