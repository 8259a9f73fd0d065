"""``GlimpseCatch-v0``: the game's rules, its glimpses (exactly the retina's), seeding, splits,
actions, checkers, pictures and scoring."""

from __future__ import annotations

import hashlib
import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gymnasium_check_env
from gymnasium.vector import AutoresetMode

import ram_env
from ram_env import CatchEnv, CatchVectorEnv
from ram_env.catch_batch import CatchBatch, CatchSettings, CatchTask
from ram_env.catch_glimpses import CatchGlimpses
from ram_env.render import record_episode, save_episode
from ram_env.retina import Retina
from ram_env.scoring import make_eval_env, score

ACTION_TYPES = ("box", "dict", "multidiscrete", "discrete")
ID = "GlimpseCatch-v0"
STEPS = 23  # a 24x24 screen: the ball falls from row 0 to row 23


def retina_glimpses(env: CatchVectorEnv, observation: dict) -> np.ndarray:
    """The project's ``Retina`` on every env's rendered screen at its current location."""
    task = env.task
    retina = Retina(task.canvas_shape, task.glimpse_size, task.num_scales)
    screens = np.stack([env.canvas(i) for i in range(env.num_envs)])
    padded, tables = retina.prepare(screens)
    locations = observation["location"].astype(np.float64)
    return retina(padded, tables, np.arange(env.num_envs), locations, 1.0)


def moves_action(env, moves: np.ndarray, locations: np.ndarray | None = None) -> np.ndarray:
    """A batch of ``"box"`` actions: ``locations`` (or the centre) and one-hot moves."""
    n = len(moves)
    action = np.full((n, 5), -1.0, dtype=np.float32)
    action[:, :2] = 0.0 if locations is None else locations
    action[np.arange(n), 2 + moves] = 1.0
    return action


def toward(targets: np.ndarray, paddles: np.ndarray, width: int = 2) -> np.ndarray:
    """Moves bringing each paddle's columns over ``targets`` (0 left, 1 stay, 2 right)."""
    return np.where(targets < paddles, 0, np.where(targets >= paddles + width, 2, 1))


# --------------------------------------------------------------------------- glimpses


@pytest.mark.parametrize(
    ("size", "glimpse_size", "num_scales", "width"),
    [(24, 6, 3, 2), (24, 6, 3, 5), (10, 3, 2, 1), (31, 5, 4, 3), (24, 4, 1, 2), (12, 6, 3, 12)],
)
def test_glimpses_are_the_retina_on_the_screen(size, glimpse_size, num_scales, width) -> None:
    """Ball anywhere (often in the bottom row, on or beside the paddle), locations anywhere,
    corners and edges included: the overlap counts equal the retina bit for bit."""
    rng = np.random.default_rng(size + width)
    n = 600
    retina = Retina((size, size), glimpse_size, num_scales)
    rows = rng.integers(0, size, n)
    rows[: n // 3] = size - 1
    cols, lefts = rng.integers(0, size, n), rng.integers(0, size - width + 1, n)
    cols[: n // 6] = lefts[: n // 6]  # on the paddle
    locations = rng.uniform(-1.0, 1.0, (n, 2))
    locations[:60] = rng.choice([-1.0, 0.0, 1.0], (60, 2))
    screens = np.zeros((n, size, size), dtype=np.float32)
    for i in range(n):
        screens[i, size - 1, lefts[i] : lefts[i] + width] = 1.0
        screens[i, rows[i], cols[i]] = 1.0
    expected = retina(*retina.prepare(screens), np.arange(n), locations, 1.0)
    got = CatchGlimpses(retina, width)(rows, cols, lefts, locations)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, expected)


def test_observations_are_the_retina_on_the_rendered_screen() -> None:
    env = CatchVectorEnv(num_envs=64, autoreset_mode=AutoresetMode.SAME_STEP)
    observation, _ = env.reset(seed=3)
    rng = np.random.default_rng(0)
    for _ in range(2 * STEPS):
        np.testing.assert_array_equal(observation["glimpse"], retina_glimpses(env, observation))
        action = moves_action(env, rng.integers(0, 3, 64), rng.uniform(-1, 1, (64, 2)))
        observation, *_ = env.step(action)
    screen = env.canvas(0)
    assert screen.dtype == np.float32 and set(np.unique(screen)) <= {0.0, 1.0}


# --------------------------------------------------------------------------- the game


def test_an_episode_from_reset_to_score() -> None:
    env = CatchEnv(first_location="center")
    observation, info = env.reset(seed=0)
    assert info == {} and observation["time"][0] == 0.0
    np.testing.assert_array_equal(observation["location"], [0.0, 0.0])
    for step in range(1, STEPS + 1):
        assert env.canvas()[step - 1].sum() == 1.0  # the ball, one pixel in row step - 1
        observation, reward, terminated, truncated, info = env.step(env.action_space.sample())
        assert observation["time"][0] == np.float32(step / STEPS)
        assert not truncated and terminated == (step == STEPS)
        if step < STEPS:
            assert reward == 0.0 and info == {}
    assert set(info) == {"is_success", "ball_column", "paddle_column"}
    screen = env.canvas()
    assert screen[STEPS, info["ball_column"]] == 1.0
    assert screen[STEPS].sum() == 2.0 + (not info["is_success"])  # a caught ball is on it
    assert reward == float(info["is_success"])
    assert info["is_success"] == (0 <= info["ball_column"] - info["paddle_column"] < 2)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(env.action_space.sample())
    with pytest.raises(RuntimeError, match="reset"):
        CatchEnv().step(np.zeros(5, dtype=np.float32))


def test_the_ball_falls_a_row_a_step_and_bounces_off_the_walls() -> None:
    env = CatchVectorEnv(num_envs=256, autoreset_mode=AutoresetMode.DISABLED)
    env.reset(seed=1)
    paths = env._batch.ball_path  # column per row, fixed at reset
    assert paths.min() == 0 and paths.max() == STEPS and paths.shape == (256, 24)
    assert np.abs(np.diff(paths, axis=1)).max() <= 1  # at most 45 degrees by default
    for step in range(STEPS):
        state = env.game_state()
        assert (state["ball_row"] == step).all()
        np.testing.assert_array_equal(state["ball_column"], paths[:, step])
        env.step(moves_action(env, np.ones(256, dtype=int)))
    # Folding: speed 1 from column 7 of a 10-wide screen, to the right, bounces at 9.
    task = CatchTask(CatchSettings(screen_size=10, ball_speed=(1.0, 1.0)))
    game = np.zeros((1, 6))
    game[0, 0], game[0, 2] = 7.5 / 10, 0.9  # start column 7, heading right
    np.testing.assert_array_equal(
        CatchBatch(task, 1)._ball_paths(game)[0], [7, 8, 9, 8, 7, 6, 5, 4, 3, 2]
    )
    game[0, 2] = 0.1  # heading left: bounces at 0
    np.testing.assert_array_equal(
        CatchBatch(task, 1)._ball_paths(game)[0], [7, 6, 5, 4, 3, 2, 1, 0, 1, 2]
    )
    # Faster than one column a row: several bounces, still inside the screen.
    fast = CatchTask(CatchSettings(screen_size=10, ball_speed=(3.5, 3.5)))
    path = CatchBatch(fast, 1)._ball_paths(game)[0]
    assert path.min() >= 0 and path.max() <= 9 and len(set(path.tolist())) > 3


def test_straight_falls_and_the_speed_range() -> None:
    straight = CatchVectorEnv(num_envs=64, ball_speed=(0, 0))
    straight.reset(seed=0)
    paths = straight._batch.ball_path
    assert (paths == paths[:, :1]).all()
    diagonal = CatchVectorEnv(num_envs=64, ball_speed=(1.0, 1.0), screen_size=40)
    diagonal.reset(seed=0)
    steps = np.abs(np.diff(diagonal._batch.ball_path, axis=1))
    assert (steps == 1).all()


def test_catching_pays_one_and_missing_nothing() -> None:
    """A paddle sent under the landing column always catches (the game is always
    winnable), one sent away always misses; paddles stop at the walls."""
    n = 500
    env = CatchVectorEnv(num_envs=n, autoreset_mode=AutoresetMode.DISABLED)
    for chase in (True, False):
        env.reset(seed=5)
        landing = env.landing_columns()
        away = np.where(landing < 12, 23, 0)
        for _ in range(STEPS):
            paddles = env.game_state()["paddle"]
            moves = toward(landing if chase else away, paddles)
            _, rewards, terminated, _, infos = env.step(moves_action(env, moves))
        assert terminated.all()
        np.testing.assert_array_equal(infos["ball_column"], landing)
        np.testing.assert_array_equal(rewards, float(chase))
        assert infos["is_success"].all() == chase and infos["_is_success"].all()
        if not chase:
            assert set(infos["paddle_column"].tolist()) <= {0, 22}  # pinned at a wall
    env.reset(seed=6)
    for _ in range(STEPS):
        _, _, _, _, infos = env.step(moves_action(env, np.zeros(n, dtype=int)))
    assert (infos["paddle_column"] == 0).all()


@pytest.mark.parametrize("width", [1, 2, 3])
def test_the_paddle_catches_over_exactly_its_width(width) -> None:
    """A ball landing in any of the paddle's columns is caught; one column either side of
    them is missed."""
    batch = CatchBatch(CatchTask(CatchSettings(paddle_width=width)), 5)
    batch.reset()
    batch.paddles[:] = 10
    landing = np.array([9, 10, 10 + width - 1, 10 + width, 11])
    batch.ball_path[:, -1] = landing
    batch.steps[:] = STEPS - 1
    rewards, terminated, caught = batch.advance(np.zeros((5, 2)), np.ones(5, dtype=int))
    assert terminated.all()
    np.testing.assert_array_equal(caught, [False, True, True, False, width > 1])
    np.testing.assert_array_equal(rewards, caught.astype(float))


def test_wider_paddles_and_other_screens() -> None:
    env = CatchEnv(screen_size=12, paddle_width=4, glimpse_size=4, num_scales=2)
    observation, _ = env.reset(seed=0)
    assert observation["glimpse"].shape == (2, 4, 4) and env.num_glimpses == 11
    assert env.canvas()[11].sum() == 4.0
    for _ in range(11):
        _, reward, terminated, _, info = env.step(env.action_space.sample())
    assert terminated and reward == float(0 <= info["ball_column"] - info["paddle_column"] < 4)


# --------------------------------------------------------------------------- seeding, splits


@pytest.mark.parametrize("action_type", ACTION_TYPES)
@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP])
def test_vector_env_i_seeded_s_is_the_single_env_seeded_s_plus_i(action_type, mode) -> None:
    n, seed = 4, 11
    kwargs = {"action_type": action_type, "screen_size": 8, "glimpse_size": 4}
    envs = gymnasium.make_vec(ID, num_envs=n, autoreset_mode=mode, **kwargs)
    assert isinstance(envs.unwrapped, CatchVectorEnv)
    envs.action_space.seed(0)
    singles = [CatchEnv(**kwargs) for _ in range(n)]
    observation, _ = envs.reset(seed=seed)
    expected = [env.reset(seed=seed + i)[0] for i, env in enumerate(singles)]
    for step in range(3 * 7 + 2):
        for key in observation:
            np.testing.assert_array_equal(
                observation[key], np.stack([e[key] for e in expected]), err_msg=key
            )
        actions = envs.action_space.sample()
        observation, rewards, terminated, _, infos = envs.step(actions)
        if mode == AutoresetMode.NEXT_STEP and step % 8 == 7:  # the restarting step
            expected = [env.reset()[0] for env in singles]
            assert (rewards == 0).all()
            continue
        results = []
        for i, env in enumerate(singles):
            action = (
                {k: v[i] for k, v in actions.items()} if isinstance(actions, dict) else actions[i]
            )
            results.append(env.step(action))
        np.testing.assert_array_equal(rewards, [r[1] for r in results])
        np.testing.assert_array_equal(terminated, [r[2] for r in results])
        expected = [r[0] for r in results]
        if terminated.any():
            for key in ("is_success", "ball_column", "paddle_column"):
                np.testing.assert_array_equal(infos[key], [r[4][key] for r in results])
            if mode == AutoresetMode.SAME_STEP:
                final = infos["final_obs"]
                for key in final:
                    np.testing.assert_array_equal(final[key], np.stack([e[key] for e in expected]))
                expected = [env.reset()[0] for env in singles]


def test_seeds_repeat_and_differ() -> None:
    first = CatchEnv().reset(seed=4)[0]
    again = CatchEnv().reset(seed=4)[0]
    other = CatchEnv().reset(seed=5)[0]
    np.testing.assert_array_equal(first["glimpse"], again["glimpse"])
    assert not np.array_equal(first["location"], other["location"])
    envs = CatchVectorEnv(num_envs=3)
    envs.reset(seed=[4, 9, 2])
    single = CatchEnv()
    single.reset(seed=9)
    np.testing.assert_array_equal(envs.canvas(1), single.canvas())


def games(env: CatchVectorEnv) -> np.ndarray:
    """The games the envs hold: ball paths and paddles."""
    return np.concatenate([env._batch.ball_path, env._batch.paddles[:, None]], axis=1)


def test_test_split_is_10000_fixed_games() -> None:
    """Game j of a split is the same whatever the env's seed or size; plain test resets draw
    from those games; the test games are pinned (the same on every machine)."""
    env = make_eval_env(ID, "test", 1000)
    assert env.unwrapped.num_images == 10_000
    env.reset(seed=0, options={"image_index": np.arange(1000)})
    first = games(env.unwrapped)
    env.reset(seed=99, options={"image_index": np.arange(1000)})
    np.testing.assert_array_equal(games(env.unwrapped), first)
    small = CatchVectorEnv(num_envs=10, split="test")
    small.reset(seed=7, options={"image_index": np.arange(500, 510)})
    np.testing.assert_array_equal(games(small), first[500:510])
    single = CatchEnv(split="test")
    single.reset(seed=1, options={"image_index": 42})
    np.testing.assert_array_equal(single._batch.ball_path[0], first[42, :-1])
    assert hashlib.sha256(first.tobytes()).hexdigest()[:16] == TEST_GAMES_SHA256
    random_draws = CatchVectorEnv(num_envs=200, split="test")
    random_draws.reset(seed=3)
    indices = random_draws._batch.game_index
    assert (indices >= 0).all() and len(set(indices.tolist())) > 150
    drawn = games(random_draws)
    random_draws.reset(seed=0, options={"image_index": indices})
    np.testing.assert_array_equal(games(random_draws), drawn)
    with pytest.raises(ValueError, match="image_index"):
        single.reset(options={"image_index": 10_000})
    with pytest.raises(ValueError, match="unknown reset options"):
        single.reset(options={"game": 1})


TEST_GAMES_SHA256 = "9ee5416b8e4ceaec"


def test_splits_differ_and_training_games_are_fresh() -> None:
    index = {"image_index": np.arange(100)}
    held = {}
    for split in ("train", "validation", "test"):
        env = CatchVectorEnv(num_envs=100, split=split)
        env.reset(seed=0, options=index)
        held[split] = games(env)
    assert not np.array_equal(held["validation"], held["test"])
    assert not np.array_equal(held["train"], held["test"])
    train = CatchVectorEnv(num_envs=100)
    assert train.num_images == 50_000
    train.reset(seed=0)
    assert (train._batch.game_index == -1).all()
    fresh = games(train)
    train.reset()
    assert not np.array_equal(games(train), fresh)


# --------------------------------------------------------------------------- actions


@pytest.mark.parametrize("action_type", ACTION_TYPES)
def test_action_types_move_the_paddle(action_type) -> None:
    env = CatchEnv(action_type=action_type, grid_size=5)
    env.reset(seed=0)
    start = int(env._batch.paddles[0])
    right = {
        "box": np.array([0, 0, -1, -1, 1], dtype=np.float32),
        "dict": {"location": np.zeros(2, dtype=np.float32), "move": 2},
        "multidiscrete": np.array([2, 2, 2]),
        "discrete": (2 * 5 + 2) * 3 + 2,
    }[action_type]
    observation, *_ = env.step(right)
    assert int(env._batch.paddles[0]) == min(start + 1, 22)
    np.testing.assert_array_equal(observation["location"], [0.0, 0.0])


def test_bad_actions_are_refused_by_name() -> None:
    env = CatchEnv(action_type="dict")
    env.reset(seed=0)
    assert set(env.action_space.spaces) == {"location", "move"}
    with pytest.raises(ValueError, match="'move'"):
        env.step({"location": np.zeros(2), "label": 1})
    with pytest.raises(ValueError, match=r"move.*\[0, 2\]"):
        env.step({"location": np.zeros(2), "move": 3})
    box = CatchEnv()
    box.reset(seed=0)
    with pytest.raises(ValueError, match="shape"):
        box.step(np.zeros(12, dtype=np.float32))
    with pytest.raises(ValueError, match="NaN"):
        box.step(np.array([0, np.nan, 0, 0, 1], dtype=np.float32))
    multi = CatchEnv(action_type="multidiscrete")
    multi.reset(seed=0)
    with pytest.raises(ValueError, match="action move"):
        multi.step(np.array([0, 0, 3]))
    envs = CatchVectorEnv(num_envs=2, action_type="discrete")
    envs.reset(seed=0)
    with pytest.raises(ValueError, match="shape"):
        envs.step(np.array([1, 2, 3]))


def test_bad_settings_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="paddle_width"):
        CatchEnv(paddle_width=25)
    with pytest.raises(ValueError, match="screen_size"):
        CatchEnv(screen_size=2)
    with pytest.raises(ValueError, match="ball_speed"):
        CatchEnv(ball_speed=(1.0, 0.5))
    with pytest.raises(ValueError, match="ball_speed"):
        CatchEnv(ball_speed="fast")
    with pytest.raises(ValueError, match="ball_speed"):
        CatchEnv(ball_speed=(0.0, float("inf")))
    with pytest.raises(ValueError, match="split"):
        CatchEnv(split="dev")
    with pytest.raises(ValueError, match="glimpse_size"):
        CatchEnv(glimpse_size=0)
    with pytest.raises(TypeError, match="num_clutter"):
        CatchEnv(num_clutter=3)
    with pytest.raises(ValueError, match=r"does not render; use CatchEnv"):
        CatchVectorEnv(num_envs=2, render_mode="rgb_array")
    with pytest.raises(TypeError, match="no torch env"):
        gymnasium.make_vec(ID, num_envs=2, device="cpu")
    with pytest.raises(ValueError, match="render_mode"):
        CatchEnv(render_mode="human")


# --------------------------------------------------------------------------- checkers


@pytest.mark.parametrize("action_type", ACTION_TYPES)
def test_gymnasium_checker(action_type) -> None:
    env = gymnasium.make(ID, action_type=action_type).unwrapped
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gymnasium_check_env(env)


@pytest.mark.parametrize("action_type", ("box", "multidiscrete", "discrete"))
def test_sb3_checker_and_adapter(action_type) -> None:
    """SB3's checker passes (its only remarks are about images, as for the glimpse tasks),
    and ``make_sb3_vec_env`` plays Catch with its end infos."""
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    from ram_env.sb3 import make_sb3_vec_env

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sb3_check_env(CatchEnv(action_type=action_type))
    assert all("image" in str(w.message) for w in caught), [str(w.message) for w in caught]
    env = make_sb3_vec_env(ID, num_envs=3, seed=0, action_type=action_type)
    env.reset()
    for _ in range(STEPS):
        _, rewards, dones, infos = env.step(np.stack([env.action_space.sample() for _ in range(3)]))
    assert dones.all()
    assert {"is_success", "ball_column", "paddle_column", "episode"} <= set(infos[0])
    assert infos[0]["episode"]["l"] == STEPS and infos[0]["episode"]["r"] == rewards[0]


# --------------------------------------------------------------------------- pictures, scoring


def test_render_and_gif(tmp_path) -> None:
    env = gymnasium.make(ID, render_mode="rgb_array")
    frames = record_episode(env, seed=0)
    assert len(frames) == STEPS + 1
    assert frames[0].dtype == np.uint8 and frames[0].ndim == 3 and frames[0].shape[2] == 3
    assert min(frames[0].shape[:2]) >= 240
    path = save_episode(frames, tmp_path / "catch.gif")
    assert path.stat().st_size > 0
    with pytest.raises(RuntimeError, match="reset"):
        CatchEnv(render_mode="rgb_array").render()
    assert CatchEnv().reset(seed=0) and CatchEnv().render() is None


def test_show_writes_a_catch_gif(tmp_path) -> None:
    from ram_env import show

    assert show.main([ID, "--out", str(tmp_path / "catch.gif")]) == 0
    assert (tmp_path / "catch.gif").stat().st_size > 0


def random_moves(observation, state):
    n = len(observation["glimpse"])
    return np.random.default_rng(0).uniform(-1, 1, (n, 5)).astype(np.float32), state


def coarse_follower(observation, state):
    """Looks at the centre, where the coarsest patch spans the screen, and moves toward the
    ball's column of cells (a function of each row's observation alone)."""
    coarse = observation["glimpse"][:, -1]  # (N, 6, 6): 4x4 blocks of the whole screen
    ball = coarse[:, :-1].sum(axis=1).argmax(axis=1)  # above the paddle's row of cells
    paddle = coarse[:, -1].argmax(axis=1)
    moves = np.sign(ball - paddle).astype(int) + 1
    seen = coarse[:, :-1].sum(axis=(1, 2)) > 0
    return moves_action(None, np.where(seen, moves, 1)), state


def test_evaluate_reports_the_catch_rate() -> None:
    result = ram_env.evaluate(random_moves, ID)
    assert result.n == 10_000 and result.split == "test" and result.per_class_accuracy == []
    assert 4.0 < result.accuracy < 15.0 and result.error == pytest.approx(100 - result.accuracy)
    assert len(result.glimpses.mean_location) == STEPS
    follower = ram_env.evaluate(coarse_follower, ID, num_images=2000)
    assert follower.accuracy > 2 * result.accuracy
    again = ram_env.evaluate(coarse_follower, ID, num_images=2000, num_envs=300)
    assert again.accuracy == follower.accuracy  # whatever the batch size

    class Oracle:
        """Reads where the ball will land from the env (what no agent sees)."""

        action_type = "box"

        def __init__(self, env) -> None:
            self.env = env.unwrapped

        def __call__(self, observation, state):
            moves = toward(self.env.landing_columns(), self.env.game_state()["paddle"])
            return moves_action(self.env, moves), state

    env = make_eval_env(ID, "validation", 1000)
    assert score(Oracle(env), env, num_images=3000).accuracy == 100.0
