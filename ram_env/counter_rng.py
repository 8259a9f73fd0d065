"""Counter-based random numbers: every draw is a pure function of (key, episode, stream).

Why not ``np.random.Generator``? A vector env of N copies must give exactly the trajectories
of N single envs seeded alike, without a Python loop over N generators. Hashing the triple
``(key, episode, stream)`` with the splitmix64 finaliser gives independent-looking uniforms
for a whole batch in a few numpy operations, identical on every machine (integer arithmetic
only), and lets a validation canvas be regenerated from its index alone.
"""

from __future__ import annotations

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)
_EPISODE_MULT = np.uint64(0xD6E8FEB86659FD93)
_UNIT = 1.0 / float(1 << 53)


def mix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser: a bijective avalanche mix of uint64 values (wrapping)."""
    with np.errstate(over="ignore"):
        x = x ^ (x >> np.uint64(30))
        x = x * _MIX_1
        x = x ^ (x >> np.uint64(27))
        x = x * _MIX_2
        return x ^ (x >> np.uint64(31))


def key_from_seed(seeds: np.ndarray | int) -> np.ndarray:
    """Turn non-negative integer seeds into well-mixed uint64 keys (huge ints are folded)."""
    if np.isscalar(seeds) and int(seeds) >= 1 << 64:  # fold huge Python ints to 64 bits
        seeds = int(seeds) % (1 << 64)
    seeds = np.atleast_1d(np.asarray(seeds, dtype=np.uint64))
    with np.errstate(over="ignore"):
        return mix64(mix64(seeds + _GOLDEN) + _GOLDEN)


def uniforms(keys: np.ndarray, episodes: np.ndarray, num_streams: int) -> np.ndarray:
    """Uniform floats in [0, 1): shape ``(N, num_streams)`` for N (key, episode) pairs."""
    if len(keys) == 1:  # a single env resets often: Python ints beat numpy's call overhead
        return np.array([_uniforms_one(int(keys[0]), int(episodes[0]), num_streams)])
    with np.errstate(over="ignore"):
        base = mix64(keys.astype(np.uint64) ^ (episodes.astype(np.uint64) * _EPISODE_MULT))
        streams = np.arange(1, num_streams + 1, dtype=np.uint64) * _GOLDEN
        bits = mix64(base[:, None] + streams[None, :])
    return (bits >> np.uint64(11)).astype(np.float64) * _UNIT


_MASK = (1 << 64) - 1


def _mix64_int(x: int) -> int:
    """``mix64`` on a Python int (same bits)."""
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & _MASK
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def _uniforms_one(key: int, episode: int, num_streams: int) -> list[float]:
    """One row of ``uniforms`` computed on Python ints."""
    base = _mix64_int(key ^ ((episode * 0xD6E8FEB86659FD93) & _MASK))
    golden = 0x9E3779B97F4A7C15
    return [
        (_mix64_int((base + stream * golden) & _MASK) >> 11) * _UNIT
        for stream in range(1, num_streams + 1)
    ]


def integers(u: np.ndarray, high: int | np.ndarray) -> np.ndarray:
    """Map uniforms in [0, 1) to integers in [0, high)."""
    return np.minimum((u * high).astype(np.int64), np.asarray(high) - 1)
