"""The embedded demo data: seeded, reproducible stand-ins for real recordings.

Submodules are imported on use; ``import databook.demo`` itself is cheap.
"""

__all__ = ["spiking"]
