"""The planted bugs of tests/mutants/ still apply, so `python tests/mutations.py` means something.

Running the mutations takes minutes (each one reruns its tests); this cheap check fails
as soon as a refactor makes a mutation stale (its source text gone or ambiguous) or a
test it names is renamed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from mutations import ROOT, load

MUTATIONS = load()


def test_every_area_has_mutations():
    areas = {m["source"] for m in MUTATIONS}
    assert {"opto.py", "rf.py", "responses.py", "cellmatch.py"} <= areas
    assert len({m["name"] for m in MUTATIONS}) == len(MUTATIONS), "duplicate mutation names"


@pytest.mark.parametrize("mutation", MUTATIONS, ids=[m["name"] for m in MUTATIONS])
def test_mutation_applies_and_names_existing_tests(mutation):
    source = (ROOT / mutation["file"]).read_text(encoding="utf-8")
    assert source.count(mutation["old"]) == 1, f"{mutation['name']} no longer applies"
    assert mutation["new"] != mutation["old"]
    assert mutation["tests"], f"{mutation['name']} names no test"
    for node in mutation["tests"]:
        path, _, name = node.partition("::")
        text = (ROOT / path).read_text(encoding="utf-8")
        function = name.split("[")[0]
        assert not function or f"def {function}(" in text, f"{node} does not exist"
