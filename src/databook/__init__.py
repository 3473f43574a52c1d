"""databook: a reproducible systems-neuroscience article that is also software.

Importing the package does nothing but define names; the submodules (``align``,
``figures``, ``article`` ...) are imported on use so that ``import databook`` stays fast.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
