"""Deterministic object ids, so the same seed gives byte-identical NWB files."""

from __future__ import annotations

import contextlib
import random
import uuid
from collections.abc import Iterator


@contextlib.contextmanager
def seeded_object_ids(seed: int) -> Iterator[None]:
    """Within the block, hdmf draws container object ids from a seeded generator.

    hdmf gives every container a random ``uuid4`` object id; real files need unique ids,
    reproducible ones need them to be the same on every run. Restored on exit.
    """
    import hdmf.container

    rng = random.Random(seed)
    original = hdmf.container.uuid4
    hdmf.container.uuid4 = lambda: uuid.UUID(int=rng.getrandbits(128), version=4)
    try:
        yield
    finally:
        hdmf.container.uuid4 = original
