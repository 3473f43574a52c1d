"""How to cite a build: its BibTeX entry and the container image it was built in.

The citation metadata live in ``CITATION.cff`` (which the build exports from ``myst.yml``
and ``make release-check`` holds in step with it); :func:`read_citation` reads them and
:func:`bibtex` writes the entry the Methods chapter and the README show. The image is
named by two things: the digest of the image the build ran in, which the workflows pass
as ``$DATABOOK_IMAGE_DIGEST`` (an image cannot contain its own digest), and the digest of
its base image, the ``FROM`` line of the ``Dockerfile`` (:func:`build_image`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from databook.errors import DatabookError

__all__ = [
    "CONTAINER_VARIABLE",
    "DIGEST_VARIABLE",
    "OUTSIDE",
    "BuildImage",
    "Citation",
    "CitationError",
    "base_image",
    "bibtex",
    "build_image",
    "read_citation",
]

#: Set by the workflows to the image the article is built in (``name@sha256:...``, or the
#: local image ID ``sha256:...`` for an image that was never pushed).
DIGEST_VARIABLE = "DATABOOK_IMAGE_DIGEST"
#: Set by the Dockerfile: the build runs inside the databook image.
CONTAINER_VARIABLE = "DATABOOK_CONTAINER"
#: What the Methods chapter says when the build ran on a host, not in the image.
OUTSIDE = "built outside the container"

_DIGEST = re.compile(r"^(?:\S+@)?sha256:[0-9a-f]{64}$")
_FROM_DIGEST = re.compile(r"^FROM\s+(\S+@sha256:[0-9a-f]{64})(?:\s+AS\s+\S+)?\s*$", re.I)
_BIBTEX_SPECIAL = re.compile(r"([&%$#_])")


class CitationError(DatabookError, ValueError):
    """Citation metadata, an image digest or a Dockerfile that cannot name this build."""


@dataclass(frozen=True)
class Citation:
    """What a citation of one version of the article names.

    ``authors`` are BibTeX names: ``"Family, Given"`` for a person, the name itself for a
    group (which BibTeX must not split into given and family names).
    """

    title: str
    authors: tuple[str, ...]
    groups: tuple[bool, ...]  # per author: a collaboration or organisation, not a person
    version: str
    date_released: str  # ISO date, YYYY-MM-DD
    url: str | None
    repository_code: str | None
    doi: str | None
    license: str  # of the text and figures (SPDX)
    code_license: str | None  # of the code (SPDX), from myst.yml

    @property
    def year(self) -> int:
        return int(self.date_released[:4])

    @property
    def key(self) -> str:
        """The BibTeX key: the project and its version, e.g. ``databook-v0.1.0``."""
        name = re.sub(r"[^A-Za-z0-9]+", "", self.title.split(":")[0]) or "databook"
        return f"{name}-v{self.version}"


def _doi(cff: Mapping) -> str | None:
    if cff.get("doi"):
        return str(cff["doi"])
    for identifier in cff.get("identifiers") or []:
        if identifier.get("type") == "doi":
            return str(identifier["value"])
    return None


def _myst_licenses(myst: Path) -> dict[str, str]:
    """``{"content": ..., "code": ...}`` from myst.yml's project license (either may lack)."""
    if not myst.is_file():
        return {}
    project = (yaml.safe_load(myst.read_text(encoding="utf-8")) or {}).get("project") or {}
    license_ = project.get("license")
    if isinstance(license_, str):
        return {"content": license_}
    return {k: str(v) for k, v in (license_ or {}).items() if k in ("content", "code") and v}


def read_citation(root: Path) -> Citation:
    """The citation of the project at ``root``, from its ``CITATION.cff`` and ``myst.yml``."""
    path = Path(root) / "CITATION.cff"
    try:
        cff = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CitationError(f"{path} is missing: the build exports it from myst.yml") from exc
    missing = [k for k in ("title", "authors", "version", "date-released") if not cff.get(k)]
    if missing:
        raise CitationError(f"{path} lacks {', '.join(missing)}")
    authors, groups = [], []
    for author in cff["authors"]:
        if author.get("family-names"):
            given = author.get("given-names")
            family = " ".join(x for x in (author.get("name-particle"), author["family-names"]) if x)
            authors.append(f"{family}, {given}" if given else family)
            groups.append(False)
        elif author.get("name"):
            authors.append(str(author["name"]))
            groups.append(True)
        else:
            raise CitationError(f"{path}: an author has neither family-names nor name: {author}")
    date = str(cff["date-released"])
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", date):
        raise CitationError(f"{path}: date-released must be YYYY-MM-DD, got {date!r}")
    licenses = _myst_licenses(Path(root) / "myst.yml")
    return Citation(
        title=str(cff["title"]),
        authors=tuple(authors),
        groups=tuple(groups),
        version=str(cff["version"]),
        date_released=date,
        url=cff.get("url"),
        repository_code=cff.get("repository-code"),
        doi=_doi(cff),
        license=str(cff.get("license") or licenses.get("content") or ""),
        code_license=licenses.get("code"),
    )


def _value(text: str) -> str:
    return _BIBTEX_SPECIAL.sub(r"\\\1", text)


def bibtex(citation: Citation) -> str:
    """The ``@software`` BibTeX entry (biblatex; BibTeX styles read it as ``@misc``)."""
    names = [
        "{" + _value(name) + "}" if group else _value(name)
        for name, group in zip(citation.authors, citation.groups, strict=True)
    ]
    licenses = [f"Text {citation.license}"] if citation.license else []
    if citation.code_license:
        licenses.append(f"code {citation.code_license}")
    fields = [
        ("author", " and ".join(names)),
        ("title", _value(citation.title)),
        ("version", citation.version),
        ("year", str(citation.year)),
        ("date", citation.date_released),
        ("doi", citation.doi),
        ("url", citation.repository_code or citation.url),
        ("note", ", ".join(licenses) or None),
    ]
    width = max(len(name) for name, value in fields if value)
    lines = [f"  {name:<{width}} = {{{value}}}," for name, value in fields if value]
    return "\n".join([f"@software{{{citation.key},", *lines, "}"])


def base_image(dockerfile: Path) -> str:
    """The base image of ``dockerfile``: its ``FROM`` reference, pinned ``name@sha256:...``."""
    froms = [
        line.strip()
        for line in Path(dockerfile).read_text(encoding="utf-8").splitlines()
        if line.strip().upper().startswith("FROM ")
    ]
    if len(froms) != 1:
        raise CitationError(f"{dockerfile}: expected one FROM line, found {len(froms)}")
    match = _FROM_DIGEST.match(froms[0])
    if match is None:
        raise CitationError(f"{dockerfile}: FROM is not pinned by a sha256 digest: {froms[0]!r}")
    return match.group(1)


@dataclass(frozen=True)
class BuildImage:
    """Where a build ran: the image (or :data:`OUTSIDE`) and the image's base."""

    image: str  # "name@sha256:...", "sha256:..." or a sentence saying why there is none
    digest: str | None  # the digest part of ``image``, None when it is not known
    base: str  # the Dockerfile's FROM, name@sha256:...


def build_image(root: Path, environ: Mapping[str, str] | None = None) -> BuildImage:
    """The image this build runs in, from ``$DATABOOK_IMAGE_DIGEST``, and its base image.

    Unset (or empty) means a host build (:data:`OUTSIDE`), unless ``$DATABOOK_CONTAINER``
    says the build runs in the image, whose digest was then not passed in. A value that is
    not a sha256 digest is refused: a wrong digest in the article is worse than none.
    """
    env = os.environ if environ is None else environ
    value = env.get(DIGEST_VARIABLE, "").strip()
    base = base_image(Path(root) / "Dockerfile")
    if not value:
        if env.get(CONTAINER_VARIABLE):
            image = f"built in the databook container, digest not recorded (${DIGEST_VARIABLE})"
        else:
            image = OUTSIDE
        return BuildImage(image=image, digest=None, base=base)
    if not _DIGEST.match(value):
        raise CitationError(
            f"${DIGEST_VARIABLE} must be name@sha256:<64 hex> or sha256:<64 hex>, got {value!r}"
        )
    return BuildImage(image=value, digest=value.rsplit("@", 1)[-1], base=base)
