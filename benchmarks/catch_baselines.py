"""Catch's baselines in one table: the test catch rate of scripted policies and trained runs.

    python -m benchmarks.catch_baselines                               # the scripted ones
    python -m benchmarks.catch_baselines --run ram=runs/catch/best.pt --run ff=runs/ppo

Every policy plays the 10,000 test games of ``GlimpseCatch-v0`` once, through the scoring of
``ram_env.evaluate`` (its accuracy is the catch rate). The scripted policies:

* ``random``: uniformly random locations and moves (what no learning gets);
* ``full-view oracle``: reads where the ball will land from the env's true state
  (``CatchVectorEnv.landing_columns``) and moves the paddle there: the ceiling (every game
  is winnable: the paddle can always reach the landing column in time);
* ``full-view tracker``: sees the whole screen (the ball's and paddle's columns, from
  ``CatchVectorEnv.game_state``) but not the future: it moves the paddle under the ball's
  current column each step.

``--run NAME=PATH`` adds a trained run of any algorithm (a ``best.pt``, a ``model.zip`` or a
run folder), scored as ``train.py --eval`` scores it: the RAM (``--algo reinforce``, LSTM
core), the same under RecurrentPPO (``--algo recurrent-ppo``), or the feed-forward agent
with glimpses but no memory (``--algo ppo``: the glimpse network and an MLP).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ram_env.catch_batch import MOVES
from ram_env.scoring import Evaluation, make_eval_env, score

ENV_ID = "GlimpseCatch-v0"
STAY = MOVES.index("stay")


def box_actions(moves: np.ndarray, locations: np.ndarray | None = None) -> np.ndarray:
    """``"box"`` actions: the locations (or the centre) and one-hot move scores."""
    n = len(moves)
    actions = np.full((n, 2 + len(MOVES)), -1.0, dtype=np.float32)
    actions[:, :2] = 0.0 if locations is None else locations
    actions[np.arange(n), 2 + moves] = 1.0
    return actions


def moves_toward(columns: np.ndarray, paddles: np.ndarray, width: int) -> np.ndarray:
    """The moves that bring each paddle (its leftmost column) over ``columns``."""
    left, right = MOVES.index("left"), MOVES.index("right")
    return np.where(columns < paddles, left, np.where(columns >= paddles + width, right, STAY))


class RandomPolicy:
    """Uniformly random locations and moves, seeded per batch."""

    action_type = "box"

    def __init__(self) -> None:
        self.rng = np.random.default_rng(0)

    def seed(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def __call__(self, observation: dict[str, np.ndarray], state: Any) -> tuple[np.ndarray, Any]:
        n = len(observation["glimpse"])
        moves = self.rng.integers(0, len(MOVES), n)
        return box_actions(moves, self.rng.uniform(-1.0, 1.0, (n, 2))), state


class FullViewPolicy:
    """A scripted policy that reads the env's true state instead of glimpses.

    ``oracle=True`` moves toward where the ball will land; otherwise toward the ball's
    current column (the whole screen, no foresight).
    """

    action_type = "box"

    def __init__(self, env: Any, oracle: bool) -> None:
        self.env, self.oracle = env.unwrapped, oracle

    def __call__(self, observation: dict[str, np.ndarray], state: Any) -> tuple[np.ndarray, Any]:
        screen = self.env.game_state()
        target = self.env.landing_columns() if self.oracle else screen["ball_column"]
        moves = moves_toward(target, screen["paddle"], self.env.task.paddle_width)
        return box_actions(moves), state


def scripted_scores(num_envs: int = 1000, seed: int = 0) -> dict[str, Evaluation]:
    """The test catch rate of each scripted policy."""
    env = make_eval_env(ENV_ID, "test", num_envs)
    policies: dict[str, Callable] = {
        "random": RandomPolicy(),
        "full-view oracle": FullViewPolicy(env, oracle=True),
        "full-view tracker": FullViewPolicy(env, oracle=False),
    }
    try:
        return {name: score(policy, env, seed=seed) for name, policy in policies.items()}
    finally:
        env.close()


def run_score(path: Path, split: str = "test") -> float:
    """A trained run's catch rate, scored as ``train.py --eval`` scores it."""
    from agents.evaluation import evaluate
    from agents.registry import algorithm_of_run

    loaded = algorithm_of_run(path).load_module().load(path)
    env = make_eval_env(loaded.env_id, split, loaded.eval_batch_size, **loaded.env_kwargs)
    try:
        return evaluate(loaded.policy, env, seed=loaded.seed, split=split).accuracy
    finally:
        env.close()


def named_run(text: str) -> tuple[str, Path]:
    name, _, path = text.partition("=")
    if not name or not path:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=PATH")
    return name, Path(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--run", type=named_run, action="append", default=[], metavar="NAME=PATH",
        help="a trained run to score beside the scripted policies (repeatable)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    rows = {name: result.accuracy for name, result in scripted_scores().items()}
    for name, path in args.run:
        rows[name] = run_score(path)
    print(f"| policy | {ENV_ID} test catch rate (%) |")
    print("|---|---:|")
    for name, rate in rows.items():
        print(f"| {name} | {rate:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
