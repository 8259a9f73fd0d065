"""``ram_env.counter_rng`` in torch: the same draws, bit for bit, computed on the device.

The torch env draws its images, canvases and first locations from the same counter-based
hash as the numpy env, so a torch env seeded ``s`` plays exactly the episodes of a numpy env
seeded ``s``. Torch's uint64 support is thin, so the 64-bit words are int64 tensors holding
the same bits: addition, multiplication and xor wrap alike in two's complement, and a
logical right shift is an arithmetic one with the sign bits masked off. Imported only
when a torch env is made (``device=``); it needs PyTorch.
"""

from __future__ import annotations

import torch

_MASK64 = (1 << 64) - 1


def _signed(value: int) -> int:
    """The int64 holding the bits of the unsigned 64-bit ``value``."""
    value &= _MASK64
    return value - (1 << 64) if value >= 1 << 63 else value


_GOLDEN = _signed(0x9E3779B97F4A7C15)
_MIX_1 = _signed(0xBF58476D1CE4E5B9)
_MIX_2 = _signed(0x94D049BB133111EB)
_EPISODE_MULT = _signed(0xD6E8FEB86659FD93)
_UNIT = 1.0 / float(1 << 53)


def _shift_right(x: torch.Tensor, bits: int) -> torch.Tensor:
    """Logical right shift of 64-bit words held in int64."""
    return (x >> bits) & ((1 << (64 - bits)) - 1)


def mix64(x: torch.Tensor) -> torch.Tensor:
    """``counter_rng.mix64`` (splitmix64's finaliser) on int64 tensors."""
    x = x ^ _shift_right(x, 30)
    x = x * _MIX_1
    x = x ^ _shift_right(x, 27)
    x = x * _MIX_2
    return x ^ _shift_right(x, 31)


def consecutive_keys(seed: int, num_envs: int, device: torch.device) -> torch.Tensor:
    """The keys of seeds ``seed + i`` for ``i < num_envs`` (``counter_rng.key_from_seed``,
    seeds wrapping at 2**64 as the numpy env's do)."""
    seeds = torch.arange(num_envs, dtype=torch.int64, device=device) + _signed(int(seed))
    return keys_from_seeds(seeds)


def keys_from_seeds(seeds: torch.Tensor) -> torch.Tensor:
    """``counter_rng.key_from_seed`` of int64 tensors holding the seeds' 64 bits."""
    return mix64(mix64(seeds + _GOLDEN) + _GOLDEN)


def uniforms(keys: torch.Tensor, episodes: torch.Tensor, num_streams: int) -> torch.Tensor:
    """``counter_rng.uniforms``: float64 in [0, 1), shape ``(N, num_streams)``."""
    base = mix64(keys ^ (episodes * _EPISODE_MULT))
    streams = torch.arange(1, num_streams + 1, dtype=torch.int64, device=keys.device) * _GOLDEN
    bits = mix64(base[:, None] + streams[None, :])
    return _shift_right(bits, 11).to(torch.float64) * _UNIT


def integers(u: torch.Tensor, high: int) -> torch.Tensor:
    """``counter_rng.integers``: uniforms in [0, 1) to int64 in [0, high)."""
    return torch.clamp((u * high).to(torch.int64), max=high - 1)
