"""``CatchEnv``: the paper's dynamic task, catching a falling ball seen through glimpses."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from ram_env.catch_batch import CatchBatch, CatchProperties, CatchSettings, CatchTask
from ram_env.glimpse_env import _image_index_option
from ram_env.render import check_render_mode, render_frame


class CatchEnv(CatchProperties, gym.Env):
    """Catch (Mnih et al., 2014, section 4.2): move a paddle under a falling ball, seeing the
    screen only through the glimpse sensor.

    ## Description
    A binary ``screen_size`` x ``screen_size`` screen (24 x 24) shows a ball and a paddle.
    The ball starts in the top row at a random column and falls one row per step with a
    random horizontal speed, bouncing off the side walls; the paddle, ``paddle_width``
    pixels wide (2), sits in the bottom row. Each step the agent moves the paddle and says
    where to look next. The game ends when the ball reaches the bottom row. The agent never
    sees the whole screen: only the retina's glimpses at its chosen locations (6 x 6
    patches at 3 scales, so the coarsest one covers the whole screen at a quarter of its
    resolution). Coordinates: see ``ram_env.retina`` ((-1, -1) is the top-left corner, x
    runs along columns, y along rows).

    ## Observation space
    As in ``GlimpseEnv``: ``Dict`` with ``glimpse`` ``Box(0, 1, (k, g, g), float32)`` (the
    retina at the current location: exactly ``ram_env.retina.Retina`` applied to the
    screen), ``location`` ``Box(-1, 1, (2,), float32)`` and ``time`` ``Box(0, 1, (1,),
    float32)`` (the fraction of the game's steps gone).

    ## Action space
    The next location plus a paddle move, 0 = left, 1 = stay, 2 = right (``MOVES``),
    encoded by ``action_type`` as in ``GlimpseEnv`` with 3 decisions: ``"box"`` (default)
    ``Box(-1, 1, (5,))`` = location then 3 move scores (argmax is the move); ``"dict"``
    ``{location, move}``; ``"multidiscrete"`` ``[G, G, 3]``; ``"discrete"``
    ``Discrete(G * G * 3)``. Locations outside ``[-1, 1]`` are clipped; a paddle at a wall
    stays there.

    ## Rewards
    1 at the last step if the paddle is under the ball (the ball's column is one of the
    paddle's), else 0; nothing before.

    ## Starting state
    The ball in the top row at a uniformly random column, with a horizontal speed uniform
    in ``ball_speed`` (``(0, 1)`` columns per row: launched 45 to 135 degrees from the
    horizontal), to the left or right with equal odds; the paddle at a uniformly random
    position in the bottom row; the first location as ``first_location`` says (uniform in
    ``[-1, 1]^2`` by default, as in ``GlimpseEnv``). ``split="train"`` draws a fresh game
    every reset; ``"validation"`` and ``"test"`` hold 10,000 fixed games each, the same on
    every machine, drawn at random by a plain reset. ``options={"image_index": j}`` starts
    game ``j`` of the split (the name the glimpse tasks use, so ``ram_env.evaluate`` scores
    every test game once); training has 50,000 indexed games besides its fresh ones.

    ## Episode end
    Exactly ``screen_size - 1`` steps (23): step t shows the ball in row t; at the last
    step it reaches the bottom row and the game is scored (``terminated=True``). The last
    action's location is not looked at. ``info`` at the end holds ``is_success`` (caught),
    ``ball_column`` and ``paddle_column`` (the paddle's leftmost column). Stepping after the
    end without ``reset`` raises.

    ## Arguments
    All by keyword (the fields of ``ram_env.catch_batch.CatchSettings``):
    - ``split``: ``"train"``, ``"validation"``, ``"test"``.
    - ``screen_size`` (24), ``paddle_width`` (2), ``ball_speed`` (``(0.0, 1.0)``: the range
      of the ball's horizontal speed in columns per row; ``(0, 0)`` falls straight down).
    - ``glimpse_size`` (g = 6), ``num_scales`` (k = 3).
    - ``action_type``, ``grid_size`` (G, for the discrete encodings), ``first_location``
      (``"random"``, ``"center"``, ``"gaussian"``) as in ``GlimpseEnv``.
    - ``render_mode``: ``"rgb_array"`` draws the screen, the current glimpse squares and
      the path so far (``ram_env.render.save_episode`` writes frames to GIF/PNG).
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 4}

    def __init__(self, *, render_mode: str | None = None, **settings: Any) -> None:
        check_render_mode(render_mode, self.metadata["render_modes"])
        self.task = CatchTask(CatchSettings.from_kwargs("CatchEnv", **settings))
        self.observation_space = self.task.observation_space
        self.action_space = self.task.action_space
        self.render_mode = render_mode
        self._batch = CatchBatch(self.task, 1)
        self._needs_reset = True
        self._path: list[tuple[float, float]] = []

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        super().reset(seed=seed)
        if seed is not None:
            self._batch.seed(seed)
        game = _image_index_option(options, 1, self.task.num_images)
        self._batch.reset(image_index=game)
        self._needs_reset = False
        self._path = [tuple(self._batch.locations[0].tolist())]
        return _first_row(self._batch.observe()), {}

    def step(self, action) -> tuple[dict[str, np.ndarray], float, bool, bool, dict[str, Any]]:
        if self._needs_reset:
            raise RuntimeError(
                "step() called before reset() or after the episode ended; call reset()"
            )
        locations, moves = self.task.decoder.decode(action)
        rewards, terminated, caught = self._batch.advance(locations, moves)
        self._path.append(tuple(locations[0].tolist()))
        info: dict[str, Any] = {}
        if terminated[0]:
            self._needs_reset = True
            ends = self._batch.end_infos(terminated, caught)
            info = {
                key: ends[key][0].item() for key in ("is_success", "ball_column", "paddle_column")
            }
        return (
            _first_row(self._batch.observe()),
            float(rewards[0]),
            bool(terminated[0]),
            False,
            info,
        )

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array":
            return None
        if not self._path:
            raise RuntimeError("render() needs an episode: call reset() first")
        return render_frame(
            self._batch.screen(0), self._path, self.task.glimpse_size, self.task.num_scales
        )

    def canvas(self) -> np.ndarray:
        """The current screen (float32, 1 at the ball and the paddle)."""
        return self._batch.screen(0)


def _first_row(batched: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {key: value[0] for key, value in batched.items()}
