"""``GlimpseEnv`` against its docstring: spaces, episodes, rewards, actions, seeding, data."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from PIL import Image

import ram_env
from ram_env import GlimpseEnv
from ram_env.registration import TASKS
from ram_env.render import record_episode, save_episode
from ram_env.retina import Retina

ACTION_TYPES = ("box", "dict", "multidiscrete", "discrete")
K = 10  # classes in the synthetic data


def make_env(kwargs: dict, **overrides) -> GlimpseEnv:
    return GlimpseEnv(**{**kwargs, **overrides})


def box_action(location, label: int, num_classes: int = K) -> np.ndarray:
    scores = np.full(num_classes, -1.0)
    scores[label] = 1.0
    return np.concatenate([np.asarray(location, dtype=np.float64), scores]).astype(np.float32)


def dict_action(location, label: int) -> dict:
    return {"location": np.asarray(location, dtype=np.float32), "label": label}


def grid_action(action_type: str, column: int, row: int, label: int, grid: int):
    """A multidiscrete or discrete action naming grid cell (column, row) and a label."""
    if action_type == "multidiscrete":
        return np.array([column, row, label])
    return (column * grid + row) * K + label


def any_action(env: GlimpseEnv, label: int = 0, location=(0.0, 0.0)):
    """An action of the env's type predicting ``label`` (location on the grid's centre)."""
    task = env.task
    if task.action_type == "box":
        return box_action(location, label, task.num_classes)
    if task.action_type == "dict":
        return dict_action(location, label)
    middle = task.decoder.grid_size // 2
    return grid_action(task.action_type, middle, middle, label, task.decoder.grid_size)


def glimpse_at(image: np.ndarray, location, g: int, k: int) -> np.ndarray:
    """What the retina sees of one image at one location."""
    retina = Retina(image.shape, g, k)
    padded, tables = retina.prepare(image[None])
    scale = 1.0 / 255.0 if image.dtype == np.uint8 else 1.0
    loc = np.asarray(location, dtype=np.float64)[None]
    return retina(padded, tables, np.zeros(1, dtype=np.intp), loc, scale)[0]


def run_episode(env: GlimpseEnv, actions) -> list[tuple]:
    """Step through ``actions``; return the ``(obs, reward, terminated, truncated, info)``."""
    return [env.step(action) for action in actions]


# --------------------------------------------------------------------------- spaces


@pytest.mark.parametrize(("g", "k"), [(8, 1), (5, 3)])
def test_observation_space(synthetic_kwargs, g: int, k: int) -> None:
    env = make_env(synthetic_kwargs, glimpse_size=g, num_scales=k)
    space = env.observation_space
    assert set(space.spaces) == {"glimpse", "location", "time"}
    assert space["glimpse"].shape == (k, g, g) and space["glimpse"].dtype == np.float32
    assert space["glimpse"].low.min() == 0 and space["glimpse"].high.max() == 1
    assert space["location"].shape == (2,) and space["location"].low.min() == -1
    assert space["time"].shape == (1,)
    obs, info = env.reset(seed=0)
    assert space.contains(obs) and info == {}


def test_action_spaces(synthetic_kwargs) -> None:
    spaces = {
        t: make_env(synthetic_kwargs, action_type=t, grid_size=7).action_space for t in ACTION_TYPES
    }
    assert spaces["box"].shape == (2 + K,) and spaces["box"].dtype == np.float32
    assert (spaces["box"].low == -1).all() and (spaces["box"].high == 1).all()
    assert set(spaces["dict"].spaces) == {"location", "label"}
    assert spaces["dict"]["label"].n == K and spaces["dict"]["location"].shape == (2,)
    assert spaces["multidiscrete"].nvec.tolist() == [7, 7, K]
    assert spaces["discrete"].n == 7 * 7 * K


def test_num_classes_from_user(synthetic) -> None:
    images, labels = synthetic
    env = GlimpseEnv(images=images, labels=labels, num_classes=12)
    assert env.num_classes == 12 and env.action_space.shape == (14,)


# --------------------------------------------------------------------------- episodes


@pytest.mark.parametrize("num_glimpses", [1, 2, 6])
def test_episode_lasts_exactly_num_glimpses(synthetic_kwargs, num_glimpses: int) -> None:
    env = make_env(synthetic_kwargs, num_glimpses=num_glimpses)
    obs, _ = env.reset(seed=1)
    assert obs["time"][0] == 0.0
    for t in range(1, num_glimpses + 1):
        obs, _, terminated, truncated, _ = env.step(env.action_space.sample())
        assert terminated == (t == num_glimpses) and truncated is False
        assert obs["time"][0] == pytest.approx(t / num_glimpses)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(env.action_space.sample())
    env.reset()
    env.step(env.action_space.sample())  # a new episode steps again


def test_step_before_reset_raises(synthetic_kwargs) -> None:
    env = make_env(synthetic_kwargs)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(env.action_space.sample())


def test_sparse_reward_only_at_end(synthetic_kwargs) -> None:
    env = make_env(synthetic_kwargs, num_glimpses=4)
    for index in (0, 7, 13):
        label = int(synthetic_kwargs["labels"][index])
        wrong = (label + 1) % K
        for predictions, expected in (([label] * 4, 1.0), ([label] * 3 + [wrong], 0.0)):
            env.reset(seed=index, options={"image_index": index})
            steps = run_episode(env, [box_action((0, 0), p) for p in predictions])
            assert [s[1] for s in steps] == [0.0, 0.0, 0.0, expected]
            assert steps[-1][4]["is_success"] is (expected == 1.0)


@pytest.mark.parametrize(
    "correct",
    [(1, 1, 1, 1), (0, 0, 0, 0), (1, 0, 1, 0), (0, 1, 1, 1), (1, 1, 0, 1), (0, 0, 0, 1)],
)
def test_dense_reward_is_shaping_of_final_correctness(synthetic_kwargs, correct) -> None:
    env = make_env(synthetic_kwargs, num_glimpses=4, reward="dense")
    env.reset(seed=0, options={"image_index": 3})
    label = int(synthetic_kwargs["labels"][3])
    actions = [box_action((0.1, -0.2), label if c else (label + 3) % K) for c in correct]
    rewards = [s[1] for s in run_episode(env, actions)]
    assert rewards == [c - p for c, p in zip(correct, (0, *correct[:-1]), strict=True)]
    assert sum(rewards) == correct[-1]


def test_info_only_at_end_and_label_hidden(synthetic_kwargs) -> None:
    env = make_env(synthetic_kwargs, num_glimpses=3)
    obs, info = env.reset(seed=5, options={"image_index": 11})
    assert info == {} and set(obs) == {"glimpse", "location", "time"}
    infos = [s[4] for s in run_episode(env, [box_action((0, 0), 4)] * 3)]
    assert infos[0] == {} and infos[1] == {}
    assert infos[2] == {"label": 1, "prediction": 4, "is_success": False}
    assert type(infos[2]["label"]) is int and type(infos[2]["prediction"]) is int


def test_first_location_center_and_random(synthetic_kwargs) -> None:
    centre = make_env(synthetic_kwargs, first_location="center")
    for seed in range(3):
        obs, _ = centre.reset(seed=seed)
        np.testing.assert_array_equal(obs["location"], [0.0, 0.0])
    random = make_env(synthetic_kwargs)
    starts = np.array([random.reset(seed=seed)[0]["location"] for seed in range(20)])
    assert np.abs(starts).max() <= 1.0 and len(np.unique(starts[:, 0])) == 20
    assert starts[:, 0].min() < -0.3 and starts[:, 0].max() > 0.3


def test_first_location_gaussian_is_normal_around_the_centre(synthetic_kwargs) -> None:
    """``first_location="gaussian"``: N(0, 0.25^2) per coordinate, seeded, inside the image."""
    env = make_env(synthetic_kwargs, first_location="gaussian")
    starts = np.array([env.reset(seed=seed)[0]["location"] for seed in range(400)])
    assert np.abs(starts).max() <= 1.0
    assert np.abs(starts.mean(axis=0)).max() < 0.05
    np.testing.assert_allclose(starts.std(axis=0), 0.25, atol=0.03)
    assert abs(np.corrcoef(starts.T)[0, 1]) < 0.15
    again = np.array([env.reset(seed=seed)[0]["location"] for seed in range(5)])
    np.testing.assert_array_equal(again, starts[:5])


def test_image_index_option(synthetic_kwargs) -> None:
    images, labels = synthetic_kwargs["images"], synthetic_kwargs["labels"]
    env = make_env(synthetic_kwargs, num_glimpses=1, glimpse_size=5, first_location="center")
    for index in (0, 17, 39):
        obs, _ = env.reset(options={"image_index": index})
        np.testing.assert_allclose(obs["glimpse"], glimpse_at(images[index], (0, 0), 5, 1), atol=0)
        info = env.step(box_action((0, 0), 0))[4]
        assert info["label"] == labels[index]
    for bad in (40, -1, 1.5, "3"):
        with pytest.raises(ValueError, match="image_index"):
            env.reset(options={"image_index": bad})
    for options in ({"image_index": 1, "colour": "red"}, {"colour": "red"}):
        with pytest.raises(ValueError, match="unknown reset options"):
            env.reset(options=options)


def test_random_images_cover_the_split(synthetic_kwargs) -> None:
    env = make_env(synthetic_kwargs, num_glimpses=1)
    env.reset(seed=0)
    seen = set()
    for _ in range(60):
        env.reset()
        seen.add(env.step(box_action((0, 0), 0))[4]["label"])
    assert seen == set(range(K))


# --------------------------------------------------------------------------- actions


def test_box_action_decoding(synthetic_kwargs) -> None:
    images = synthetic_kwargs["images"]
    env = make_env(synthetic_kwargs, num_glimpses=2, glimpse_size=4, num_scales=2)
    env.reset(seed=0, options={"image_index": 2})
    location = (0.25, -0.5)
    scores = np.linspace(-1, 1, K)[::-1].copy()  # argmax 0
    scores[6] = 1.0 + 1e-3  # out of the box but fine: argmax 6
    obs = env.step(np.concatenate([location, scores]).astype(np.float32))[0]
    np.testing.assert_allclose(obs["location"], location)
    np.testing.assert_allclose(obs["glimpse"], glimpse_at(images[2], location, 4, 2), atol=1e-7)
    info = env.step(np.concatenate([location, scores]))[4]
    assert info["prediction"] == 6


def test_box_ties_predict_the_first_class(synthetic_kwargs) -> None:
    env = make_env(synthetic_kwargs, num_glimpses=1)
    for scores, expected in ((np.zeros(K), 0), (np.r_[0, 1, 0, 0, 1, np.zeros(K - 5)], 1)):
        env.reset(seed=0)
        assert env.step(np.concatenate([[0.0, 0.0], scores]))[4]["prediction"] == expected


def test_dict_action_decoding(synthetic_kwargs) -> None:
    env = make_env(synthetic_kwargs, num_glimpses=2, action_type="dict")
    env.reset(seed=0)
    obs = env.step({"location": np.array([-0.75, 0.5]), "label": np.int64(3)})[0]
    np.testing.assert_allclose(obs["location"], [-0.75, 0.5])
    info = env.step({"label": 8, "location": [0.0, 0.0]})[4]
    assert info["prediction"] == 8


@pytest.mark.parametrize("action_type", ["multidiscrete", "discrete"])
def test_grid_action_decoding(synthetic_kwargs, action_type: str) -> None:
    grid = 5
    env = make_env(synthetic_kwargs, num_glimpses=1, action_type=action_type, grid_size=grid)
    points = np.linspace(-1.0, 1.0, grid)
    for column in range(grid):
        for row in range(grid):
            label = (column + 3 * row) % K
            env.reset(seed=column)
            obs, _, _, _, info = env.step(grid_action(action_type, column, row, label, grid))
            np.testing.assert_array_equal(obs["location"], [points[column], points[row]])
            assert info["prediction"] == label


def test_discrete_flattening_covers_every_action(synthetic_kwargs) -> None:
    grid = 3
    env = make_env(synthetic_kwargs, num_glimpses=1, action_type="discrete", grid_size=grid)
    decoded = set()
    for action in range(env.action_space.n):
        env.reset(seed=0)
        obs, _, _, _, info = env.step(action)
        column, row = np.rint((obs["location"] + 1) / 2 * (grid - 1)).astype(int)
        assert action == (column * grid + row) * K + info["prediction"]
        decoded.add((column, row, info["prediction"]))
    assert len(decoded) == grid * grid * K


@pytest.mark.parametrize("action_type", ["box", "dict"])
def test_locations_outside_are_clipped(synthetic_kwargs, action_type: str) -> None:
    images = synthetic_kwargs["images"]
    env = make_env(synthetic_kwargs, num_glimpses=3, action_type=action_type, glimpse_size=3)
    env.reset(seed=0, options={"image_index": 5})
    make = box_action if action_type == "box" else dict_action
    for location, clipped in (((5.0, -3.0), (1.0, -1.0)), ((-1.5, 0.25), (-1.0, 0.25))):
        obs = env.step(make(location, 0))[0]
        np.testing.assert_array_equal(obs["location"], np.float32(clipped))
        np.testing.assert_array_equal(obs["glimpse"], glimpse_at(images[5], clipped, 3, 1))


BAD_ACTIONS = {
    "box": [
        np.full(2 + K, np.nan),
        np.array([np.inf, 0] + [0] * K),
        np.zeros(2 + K - 1),
        np.zeros((1, 2 + K)),
        np.array(["a"] * (2 + K)),
        np.array([None] * (2 + K), dtype=object),
        np.zeros(2 + K, dtype=bool),
        "left",
        None,
    ],
    "dict": [
        {"location": np.zeros(2)},
        {"label": 1},
        {"location": np.zeros(2), "label": 1, "extra": 0},
        {"location": np.array([np.nan, 0.0]), "label": 1},
        {"location": np.zeros(3), "label": 1},
        {"location": np.zeros(2), "label": K},
        {"location": np.zeros(2), "label": -1},
        {"location": np.zeros(2), "label": 1.5},
        {"location": np.zeros(2), "label": True},
        np.zeros(2 + K),
    ],
    "multidiscrete": [
        np.array([9, 0, 0]),
        np.array([0, -1, 0]),
        np.array([0, 0, K]),
        np.array([0.5, 0, 0]),
        np.array([0, 0]),
        np.array([True, False, True]),
        np.array(["0", "0", "0"]),
        np.array([np.nan, 0, 0]),
    ],
    "discrete": [
        9 * 9 * K,
        -1,
        2.5,
        np.float64(np.inf),
        np.array([1, 2]),
        True,
        "3",
        np.array(1, dtype=object),
    ],
}
BAD_CASES = [(t, i) for t, actions in BAD_ACTIONS.items() for i in range(len(actions))]


@pytest.mark.parametrize(("action_type", "which"), BAD_CASES)
def test_bad_actions_raise_and_env_recovers(synthetic_kwargs, action_type: str, which: int) -> None:
    env = make_env(synthetic_kwargs, num_glimpses=3, action_type=action_type, grid_size=9)
    env.reset(seed=0)
    env.step(any_action(env))
    with pytest.raises(ValueError, match="action"):
        env.step(BAD_ACTIONS[action_type][which])
    # The bad action did not count as a step: two more steps end the episode.
    assert env.step(any_action(env))[2] is False
    assert env.step(any_action(env))[2] is True
    env.reset()
    assert [env.step(any_action(env))[2] for _ in range(3)] == [False, False, True]


def test_whole_number_floats_are_valid_discrete_actions(synthetic_kwargs) -> None:
    env = make_env(synthetic_kwargs, num_glimpses=1, action_type="multidiscrete", grid_size=3)
    env.reset(seed=0)
    obs, _, _, _, info = env.step(np.array([2.0, 0.0, 4.0]))
    np.testing.assert_array_equal(obs["location"], [1.0, -1.0])
    assert info["prediction"] == 4


# --------------------------------------------------------------------------- seeding


def trajectory(env: GlimpseEnv, seed: int, episodes: int = 3) -> list[np.ndarray]:
    """Glimpses, locations and rewards of a few episodes, with seeded random actions."""
    env.action_space.seed(seed)
    obs, _ = env.reset(seed=seed)
    out = [obs["glimpse"], obs["location"]]
    for episode in range(episodes):
        if episode:
            obs, _ = env.reset()
            out += [obs["glimpse"], obs["location"]]
        terminated = False
        while not terminated:
            obs, reward, terminated, _, _ = env.step(env.action_space.sample())
            out += [obs["glimpse"], obs["location"], np.array(reward)]
    return out


@pytest.mark.parametrize("overrides", [{}, {"canvas_size": 48, "num_clutter": 3, "num_scales": 2}])
def test_same_seed_same_observations(synthetic_kwargs, overrides: dict) -> None:
    first = trajectory(make_env(synthetic_kwargs, **overrides), seed=7)
    second = trajectory(make_env(synthetic_kwargs, **overrides), seed=7)
    assert len(first) == len(second)
    for a, b in zip(first, second, strict=True):
        assert a.tobytes() == b.tobytes()
    other = trajectory(make_env(synthetic_kwargs, **overrides), seed=8)
    assert any(a.tobytes() != b.tobytes() for a, b in zip(first, other, strict=True))


def test_reseeding_restarts_the_stream(synthetic_kwargs) -> None:
    env = make_env(synthetic_kwargs, canvas_size=40)
    first = env.reset(seed=3)[0]["glimpse"]
    env.reset()
    assert env.reset(seed=3)[0]["glimpse"].tobytes() == first.tobytes()


def test_unseeded_envs_differ(synthetic_kwargs) -> None:
    starts = [make_env(synthetic_kwargs).reset()[0]["location"].tobytes() for _ in range(3)]
    assert len(set(starts)) == 3


# --------------------------------------------------------------------------- rendering


def test_render_rgb_array_and_save_episode(synthetic_kwargs, tmp_path) -> None:
    env = make_env(synthetic_kwargs, render_mode="rgb_array", num_glimpses=4, num_scales=2)
    frames = record_episode(env, seed=0)
    assert len(frames) == 5
    for frame in frames:
        assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
        assert min(frame.shape[:2]) >= 28
    assert frames[0].shape == (28 * 9, 28 * 9, 3)  # zoomed 9x: the smallest side >= 240
    gif = save_episode(frames, tmp_path / "episode.gif", fps=4.0)
    png = save_episode(frames, tmp_path / "sub" / "episode.png")
    with Image.open(gif) as image:
        assert image.n_frames == len(frames)
        assert image.info["duration"] == 250 and image.info["loop"] == 0  # 4 fps, looping
    with Image.open(png) as image:
        assert image.size == (sum(f.shape[1] for f in frames), frames[0].shape[0])
        strip = np.asarray(image.convert("RGB"))
    np.testing.assert_array_equal(strip, np.concatenate(frames, axis=1))  # in order, lossless
    with pytest.raises(ValueError, match=r"\.gif or \.png"):
        save_episode(frames, tmp_path / "episode.mp4")


def test_render_before_reset_raises(synthetic_kwargs) -> None:
    env = make_env(synthetic_kwargs, render_mode="rgb_array")
    with pytest.raises(RuntimeError, match="reset"):
        env.render()


def test_rendering_env_passes_gymnasium_checker(synthetic_kwargs) -> None:
    env = gymnasium.make("GlimpseMNIST-v0", render_mode="rgb_array", **synthetic_kwargs)
    check_env(env.unwrapped, skip_render_check=False)


def test_render_without_mode_returns_none(synthetic_kwargs) -> None:
    env = make_env(synthetic_kwargs)
    env.reset(seed=0)
    assert env.render() is None


# --------------------------------------------------------------------------- arguments


BAD_ARGUMENTS = [
    ({"dataset": "fashion"}, "dataset"),
    ({"split": "dev"}, "split"),
    ({"action_type": "continuous"}, "action_type"),
    ({"reward": "shaped"}, "reward"),
    ({"first_location": "corner"}, "first_location"),
    ({"glimpse_size": 0}, "glimpse_size"),
    ({"glimpse_size": 2.5}, "glimpse_size"),
    ({"num_scales": 0}, "num_scales"),
    ({"num_glimpses": 0}, "num_glimpses"),
    ({"num_glimpses": True}, "num_glimpses"),
    ({"grid_size": 1}, "grid_size"),
    ({"canvas_size": 0}, "canvas_size"),
    ({"canvas_size": (60, 60, 1)}, "canvas_size"),
    ({"canvas_size": 10}, "canvas"),
    ({"num_clutter": -1}, "num_clutter"),
    ({"render_mode": "human"}, "render_mode"),
    ({"num_classes": 5}, "num_classes"),
    ({"labels": np.arange(39)}, "labels"),
    ({"images": None}, "images"),
]


@pytest.mark.parametrize(("overrides", "name"), BAD_ARGUMENTS)
def test_bad_arguments_raise(synthetic_kwargs, overrides: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        make_env(synthetic_kwargs, **overrides)


@pytest.mark.parametrize(
    ("overrides", "name"),
    [({"canvas_size": "big"}, "canvas_size"), ({"num_clutter": "x"}, "num_clutter")],
)
def test_non_numeric_canvas_arguments_are_named(
    synthetic_kwargs, overrides: dict, name: str
) -> None:
    with pytest.raises(ValueError, match=name):
        make_env(synthetic_kwargs, **overrides)


# --------------------------------------------------------------------------- user data


def test_float_images(make_synthetic) -> None:
    images, labels = make_synthetic(dtype=np.float32)
    env = GlimpseEnv(images=images, labels=labels, first_location="center", glimpse_size=6)
    obs, _ = env.reset(seed=0, options={"image_index": 9})
    np.testing.assert_array_equal(obs["glimpse"], glimpse_at(images[9], (0, 0), 6, 1))


def test_non_square_user_images(make_synthetic) -> None:
    images, labels = make_synthetic(shape=(20, 34))
    env = GlimpseEnv(images=images, labels=labels, glimpse_size=5, num_scales=2)
    assert env.task.canvas_shape == (20, 34)
    obs, _ = env.reset(seed=0, options={"image_index": 1})
    expected = glimpse_at(images[1], obs["location"].astype(np.float64), 5, 2)
    np.testing.assert_allclose(obs["glimpse"], expected, atol=1e-6)


def test_image_folder(tmp_path) -> None:
    rng = np.random.default_rng(0)
    pictures = {}
    for name in ("cat", "dog"):
        (tmp_path / name).mkdir()
        for i in range(3):
            pixels = rng.integers(0, 256, (16, 16), dtype=np.uint8)
            Image.fromarray(pixels, "L").save(tmp_path / name / f"{i}.png")
            pictures[(name, i)] = pixels
    env = GlimpseEnv(image_folder=tmp_path, glimpse_size=4, num_glimpses=1, first_location="center")
    assert env.num_classes == 2 and env.num_images == 6 and env.action_space.shape == (4,)
    obs, _ = env.reset(seed=0, options={"image_index": 4})  # sorted: cat 0-2, dog 0-2
    np.testing.assert_array_equal(obs["glimpse"], glimpse_at(pictures[("dog", 1)], (0, 0), 4, 1))
    assert env.step(box_action((0, 0), 1, 2))[4] == {
        "label": 1,
        "prediction": 1,
        "is_success": True,
    }


def test_both_arrays_and_folder_rejected(synthetic_kwargs, tmp_path) -> None:
    with pytest.raises(ValueError, match="image_folder"):
        make_env(synthetic_kwargs, image_folder=tmp_path)


# --------------------------------------------------------------------------- registered ids


@pytest.mark.mnist
@pytest.mark.parametrize("env_id", ram_env.ENV_IDS)
def test_registered_ids(env_id: str) -> None:
    dataset, g, k, num_glimpses = TASKS[env_id]
    env = gymnasium.make(env_id)
    assert env.unwrapped.task.dataset == dataset
    assert env.observation_space["glimpse"].shape == (k, g, g)
    assert env.action_space.shape == (12,)
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    steps = [env.step(env.action_space.sample()) for _ in range(num_glimpses)]
    assert [s[2] for s in steps] == [False] * (num_glimpses - 1) + [True]
    assert all(env.observation_space.contains(s[0]) for s in steps)
    assert set(steps[-1][4]) == {"label", "prediction", "is_success"}


@pytest.mark.mnist
def test_make_with_overrides() -> None:
    env = gymnasium.make("GlimpseMNIST-v0", action_type="discrete", grid_size=4, num_glimpses=2)
    assert env.action_space.n == 4 * 4 * 10 and env.unwrapped.num_glimpses == 2
    env = gymnasium.make("GlimpseClutteredMNIST-v0", split="test", num_glimpses=1)
    env.reset(seed=0, options={"image_index": 0})
    assert env.step(env.action_space.sample())[4]["label"] == 7  # the first test digit


@pytest.mark.parametrize("make", [gymnasium.make, gymnasium.make_vec])
def test_a_misspelt_argument_is_named(make):
    """An argument the env does not take is named, with the env and what it does take."""
    with pytest.raises(TypeError, match=r"Glimpse\w*Env got unexpected keyword arguments "):
        make("GlimpseMNIST-v0", num_glimpse=3)


def test_unknown_render_mode_is_refused_by_name():
    with pytest.raises(ValueError, match="render_mode must be one of \\['rgb_array'\\]"):
        GlimpseEnv(render_mode="human")
