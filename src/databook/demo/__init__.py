"""The embedded demo dandiset: seeded, reproducible stand-ins for real recordings.

``generate(outdir, seed=0)`` writes the demo NWB files and ``ground_truth.json`` and
returns ``{asset key: path}``; :data:`DEMO_FILES` names each file and its DANDI-style
path. The demo is a pure writer of files: :mod:`databook.assets` pins and verifies them.
Importing ``databook.demo`` is cheap (pynwb is imported when ``generate`` runs).
"""

from databook.demo.writer import DEMO_FILES, GENERATOR_VERSION, generate

__all__ = ["DEMO_FILES", "GENERATOR_VERSION", "generate"]
