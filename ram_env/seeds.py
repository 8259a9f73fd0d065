"""``derive_seed``: well-mixed seeds for the batches of a run or an evaluation."""

from __future__ import annotations

import numpy as np


def derive_seed(*numbers: int) -> int:
    """A well-mixed 62-bit seed from a tuple of non-negative ints (e.g. run seed, update).

    Vector envs seed env ``i`` with ``seed + i``; mixing keeps the seed ranges of different
    updates from overlapping.
    """
    words = np.random.SeedSequence([int(n) for n in numbers]).generate_state(2, np.uint32)
    return (int(words[0]) << 30) ^ int(words[1])
