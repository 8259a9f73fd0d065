"""``CatchVectorEnv``: N Catch games advanced together with numpy, no per-env loop."""

from __future__ import annotations

from typing import Any

import numpy as np

from ram_env.catch_batch import CatchBatch, CatchProperties, CatchSettings, CatchTask
from ram_env.vector_env import GlimpseVectorEnv


class CatchVectorEnv(CatchProperties, GlimpseVectorEnv):
    """N copies of ``CatchEnv`` as one batched env; ``gymnasium.make_vec("GlimpseCatch-v0")``
    returns it.

    Takes ``num_envs``, ``autoreset_mode`` and every ``CatchEnv`` argument except
    ``render_mode``. Env ``i`` reset with ``seed=s`` plays exactly the game of a
    ``CatchEnv`` reset with ``seed=s + i`` given the same actions. Autoreset, batching and
    seeding work as in ``GlimpseVectorEnv``; every game lasts ``screen_size - 1`` steps, so
    envs reset together stay in lockstep. At a game's end ``infos`` hold ``is_success``
    (caught), ``ball_column`` and ``paddle_column`` (its leftmost column), with boolean masks
    ``_is_success`` etc. ``reset(options={"image_index": idx})`` starts env i on game
    ``idx[i]`` of the split (to score every test game exactly once).
    """

    single_env_name = "CatchEnv"
    _no_device = (
        "GlimpseCatch-v0 has no torch env, so make_vec(..., device=) does not apply: its "
        "numpy env already runs over a million steps a second"
    )

    def _make_task(self, task_kwargs: dict[str, Any]) -> CatchTask:
        return CatchTask(CatchSettings.from_kwargs(type(self).__name__, **task_kwargs))

    def _make_batch(self) -> CatchBatch:
        return CatchBatch(self.task, self.num_envs)

    def _end_infos(
        self, terminated: np.ndarray, decisions: np.ndarray, success: np.ndarray
    ) -> dict[str, np.ndarray]:
        return self._batch.end_infos(terminated, success)

    def canvas(self, index: int) -> np.ndarray:
        """Env ``index``'s screen (float32, 1 at the ball and the paddle)."""
        return self._batch.screen(index)

    def landing_columns(self) -> np.ndarray:
        """Where each env's ball will reach the bottom row: the true state a full-view
        oracle policy uses (``benchmarks.catch_baselines``); agents see only glimpses."""
        return self._batch.landing_columns()

    def game_state(self) -> dict[str, np.ndarray]:
        """Every env's ball row and column and paddle's leftmost column (the whole screen)."""
        batch = self._batch
        rows = np.minimum(batch.steps, self.task.screen_size - 1)
        return {
            "ball_row": rows,
            "ball_column": batch.ball_columns(),
            "paddle": batch.paddles.copy(),
        }
