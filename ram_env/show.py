"""``python -m ram_env.show ID --out episode.gif``: picture one random-policy episode."""

from __future__ import annotations

import argparse

import gymnasium as gym

import ram_env
from ram_env.render import record_episode, save_episode


def main(argv: list[str] | None = None) -> int:
    """``python -m ram_env.show ID --out episode.gif``: one random-policy episode."""
    parser = argparse.ArgumentParser(description="Write a GIF/PNG of one random-policy episode.")
    parser.add_argument("env_id", nargs="?", default="GlimpseMNIST-v0", choices=ram_env.ALL_ENV_IDS)
    parser.add_argument("--out", default="episode.gif", help="a .gif or .png path")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--split", default="test", choices=("train", "validation", "test"))
    args = parser.parse_args(argv)
    env = gym.make(args.env_id, split=args.split, render_mode="rgb_array")
    path = save_episode(record_episode(env, seed=args.seed), args.out)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
