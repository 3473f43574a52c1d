"""Write src/databook/chapter_parameters.json: the chapters' parameter cells, installed with
the package so that ``databook inspect FILE`` works outside a clone of the project.

    python scripts/chapter_parameters.py [ROOT]

Run it after changing a chapter's ``parameters`` cell (or the cells before it);
tests/test_inspect_installed.py fails while the file and the chapters differ.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from databook.paths import Project
from databook.run import PARAMETERS_FILE, parameter_cells


def render(chapters: Path) -> str:
    """The file's text for the chapters in ``chapters``."""
    return json.dumps(parameter_cells(chapters), indent=1, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    project = Project.find(argv[0] if argv else None)
    PARAMETERS_FILE.write_text(render(project.chapters), encoding="utf-8")
    print(f"wrote {PARAMETERS_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
