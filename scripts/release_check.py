"""Check that a release can be cut: one version everywhere, a pinned image, a clean tree.

    python scripts/release_check.py [--tag vX.Y.Z] [--allow-dirty] [ROOT]

Reads the version from myst.yml (the cff export's ``version``), CITATION.cff,
pyproject.toml, .zenodo.json and src/databook/__init__.py and requires them (and the tag,
if given) to agree; requires title, authors, license and keywords of CITATION.cff and
.zenodo.json to match myst.yml; requires the Dockerfile's FROM to be pinned by a sha256
digest; requires a clean git working tree. Prints every problem and exits 1 if any.
Used by ``make release-check`` and by the release workflow.
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

DIGEST_FROM = re.compile(r"^FROM\s+\S+@sha256:[0-9a-f]{64}(\s+AS\s+\S+)?\s*$", re.I | re.M)


def _myst_project(root: Path) -> dict:
    return yaml.safe_load((root / "myst.yml").read_text(encoding="utf-8"))["project"]


def _cff_export(project: dict) -> dict:
    for export in project.get("exports", []):
        if export.get("format") == "cff":
            return export
    return {}


def _author_names(project: dict) -> list[str]:
    names = []
    for author in project.get("authors", []):
        name = author.get("name")
        if isinstance(name, dict):
            name = name.get("literal") or " ".join(
                str(name[k]) for k in ("given", "family") if name.get(k)
            )
        names.append(str(name))
    return names


def versions(root: Path) -> dict[str, str | None]:
    """The version each file states (None where it states none)."""
    found: dict[str, str | None] = {}
    found["myst.yml"] = _cff_export(_myst_project(root)).get("version")
    cff = yaml.safe_load((root / "CITATION.cff").read_text(encoding="utf-8"))
    found["CITATION.cff"] = cff.get("version")
    pyproject = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    found["pyproject.toml"] = pyproject["project"].get("version")
    zenodo = json.loads((root / ".zenodo.json").read_text(encoding="utf-8"))
    found[".zenodo.json"] = zenodo.get("version")
    init = (root / "src" / "databook" / "__init__.py").read_text(encoding="utf-8")
    version = None
    for node in ast.parse(init).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__version__" for t in node.targets
        ):
            version = ast.literal_eval(node.value)
    found["src/databook/__init__.py"] = version
    return {k: (None if v is None else str(v)) for k, v in found.items()}


def metadata_problems(root: Path) -> list[str]:
    """Where CITATION.cff or .zenodo.json disagree with myst.yml on what a citation names."""
    project = _myst_project(root)
    cff = yaml.safe_load((root / "CITATION.cff").read_text(encoding="utf-8"))
    zenodo = json.loads((root / ".zenodo.json").read_text(encoding="utf-8"))
    want_license = project["license"]["content"]
    want = {
        "title": project["title"],
        "authors": _author_names(project),
        "license": want_license,
        "keywords": list(project.get("keywords", [])),
    }
    cff_authors = [
        a.get("name") or " ".join(x for x in (a.get("given-names"), a.get("family-names")) if x)
        for a in cff.get("authors", [])
    ]
    have = {
        "CITATION.cff": {
            "title": cff.get("title"),
            "authors": cff_authors,
            "license": cff.get("license"),
            "keywords": cff.get("keywords"),
        },
        ".zenodo.json": {
            "title": zenodo.get("title"),
            "authors": [c.get("name") for c in zenodo.get("creators", [])],
            "license": zenodo.get("license"),
            "keywords": zenodo.get("keywords"),
        },
    }
    problems = []
    for name, fields in have.items():
        for field, value in fields.items():
            if value != want[field]:
                problems.append(f"{name}: {field} is {value!r}, myst.yml says {want[field]!r}")
    return problems


def dockerfile_problems(root: Path) -> list[str]:
    text = (root / "Dockerfile").read_text(encoding="utf-8")
    froms = [line for line in text.splitlines() if line.strip().upper().startswith("FROM ")]
    if not froms:
        return ["Dockerfile: no FROM line"]
    bad = [line for line in froms if not DIGEST_FROM.match(line.strip())]
    problems = [f"Dockerfile: base image not pinned by @sha256 digest: {line!r}" for line in bad]
    if "PLACEHOLDER" in text:
        problems.append("Dockerfile: still holds a PLACEHOLDER")
    return problems


def tree_problems(root: Path) -> list[str]:
    proc = subprocess.run(
        ["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        return [f"git status failed in {root}: {proc.stderr.strip()}"]
    if proc.stdout.strip():
        changed = ", ".join(line[3:] for line in proc.stdout.splitlines()[:10])
        return [f"working tree is not clean (commit or stash first): {changed}"]
    return []


def check(root: Path, *, tag: str | None = None, allow_dirty: bool = False) -> list[str]:
    """Every reason the tree at ``root`` cannot be released (empty when it can)."""
    problems = []
    found = versions(root)
    missing = [name for name, v in found.items() if v is None]
    problems += [f"{name}: states no version" for name in missing]
    distinct = {v for v in found.values() if v is not None}
    if len(distinct) > 1:
        listed = ", ".join(f"{name}={v}" for name, v in found.items())
        problems.append(f"versions disagree: {listed}")
    if tag is not None:
        if not re.fullmatch(r"v\d+\.\d+\.\d+", tag):
            problems.append(f"tag {tag!r} is not of the form vX.Y.Z")
        elif distinct != {tag[1:]}:
            problems.append(f"tag {tag} does not equal the version {sorted(distinct)}")
    problems += metadata_problems(root)
    problems += dockerfile_problems(root)
    if not allow_dirty:
        problems += tree_problems(root)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", default=Path(__file__).resolve().parents[1], type=Path)
    parser.add_argument("--tag", help="the release tag, vX.Y.Z, that must equal the version")
    parser.add_argument("--allow-dirty", action="store_true", help="skip the clean-tree check")
    args = parser.parse_args(argv)
    problems = check(args.root, tag=args.tag, allow_dirty=args.allow_dirty)
    for problem in problems:
        print(f"release-check: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"release-check: version {versions(args.root)['pyproject.toml']} agrees everywhere")
    return 0


if __name__ == "__main__":
    sys.exit(main())
