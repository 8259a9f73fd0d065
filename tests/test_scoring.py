"""``ram_env.evaluate``: every canvas once, scores that do not depend on the batch size, any
action type, and the summaries it promises."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import ram_env
from ram_env.scoring import make_eval_env, score

NUM_CLASSES = 4


def brightness_data() -> dict:
    """40 flat 28x28 images whose brightness names their class (class k: 60 k + 20)."""
    labels = np.arange(40) % NUM_CLASSES
    images = np.repeat((60 * labels + 20).astype(np.uint8)[:, None, None], 28, 1).repeat(28, 2)
    return {"images": images, "labels": labels, "num_classes": NUM_CLASSES}


class BrightnessReader:
    """Looks at the centre, then names the class its glimpses' brightness gives."""

    def __init__(self, action_type: str) -> None:
        self.action_type = action_type

    def __call__(self, observation, state):
        glimpse = observation["glimpse"]
        n = len(glimpse)
        guess = np.clip(np.rint((glimpse.mean(axis=(1, 2, 3)) * 255 - 20) / 60), 0, 3)
        guess = guess.astype(np.int64)
        if self.action_type == "dict":
            return {"location": np.zeros((n, 2), np.float32), "label": guess}, state
        if self.action_type == "multidiscrete":
            centre = np.full(n, 4)  # the middle cell of the default 9x9 location grid
            return np.stack([centre, centre, guess], axis=1), state
        scores = -np.ones((n, NUM_CLASSES), np.float32)
        scores[np.arange(n), guess] = 1.0
        return np.concatenate([np.zeros((n, 2), np.float32), scores], axis=1), state


@pytest.mark.parametrize("action_type", ["box", "dict", "multidiscrete"])
def test_a_policy_that_reads_the_class_scores_every_canvas_right(action_type):
    result = ram_env.evaluate(
        BrightnessReader(action_type), "GlimpseMNIST-v0", num_envs=16,
        action_type=action_type, **brightness_data(),
    )  # fmt: skip
    assert (result.n, result.accuracy, result.error) == (40, 100.0, 0.0)
    assert result.per_class_accuracy == [100.0] * NUM_CLASSES
    assert result.split == "test" and result.env_id == "GlimpseMNIST-v0"


def test_the_score_does_not_depend_on_the_batch_size():
    class Random:
        """Random actions from a generator seeded per batch through ``seed``."""

        def seed(self, seed):
            self.rng = np.random.default_rng(seed)

        def __call__(self, observation, state):
            n = len(observation["glimpse"])
            return self.rng.uniform(-1, 1, (n, 2 + NUM_CLASSES)).astype(np.float32), state

    runs = [
        ram_env.evaluate(Random(), "GlimpseMNIST-v0", num_envs=k, **brightness_data())
        for k in (7, 40)
    ]
    first_locations = [run.glimpses.mean_location[0] for run in runs]
    assert first_locations[0] == first_locations[1]  # the first glimpses: fixed per image
    assert runs[0].n == runs[1].n == 40


class HalfOfTwo:
    """Shard ``rank`` of 2 scored in this one process: ``sum`` adds what the other shard's
    earlier pass summed (nothing for the first pass)."""

    world_size = 2

    def __init__(self, rank, other=None):
        self.rank, self.other, self.values = rank, other, None

    def sum(self, values):
        self.values = values.copy()
        return values if self.other is None else values + self.other.values


def test_two_shards_together_score_the_split_as_one_process():
    class Random:
        def seed(self, seed):
            self.rng = np.random.default_rng(seed)

        def __call__(self, observation, state):
            n = len(observation["glimpse"])
            return self.rng.uniform(-1, 1, (n, 2 + NUM_CLASSES)).astype(np.float32), state

    env = make_eval_env("GlimpseMNIST-v0", "test", 8, **brightness_data())  # 5 batches
    whole = score(Random(), env, seed=3)
    second = HalfOfTwo(1)
    score(Random(), env, seed=3, shard=second)  # plays batches 1 and 3
    together = score(Random(), env, seed=3, shard=HalfOfTwo(0, other=second))  # 0, 2, 4
    assert together == whole
    assert second.values[NUM_CLASSES : 2 * NUM_CLASSES].sum() == 16  # its images, by class


def test_summaries_cover_every_glimpse():
    result = ram_env.evaluate(BrightnessReader("box"), "GlimpseMNIST-v0", **brightness_data())
    heatmap = np.array(result.glimpses.heatmap)
    assert heatmap.shape == (8, 8) and heatmap.sum() == pytest.approx(1.0, abs=1e-3)
    assert len(result.glimpses.mean_location) == 6  # GlimpseMNIST-v0's glimpses
    assert len(result.glimpses.mean_jump) == 5
    assert result.glimpses.mean_location[1] == [0.0, 0.0]  # it looks at the centre next
    assert set(result.to_dict()) >= {"accuracy", "error", "n", "per_class_accuracy", "glimpses"}


@pytest.mark.parametrize("bad", [0, -3, 2.5, True])
def test_bad_num_envs_is_refused(bad):
    with pytest.raises(ValueError, match="num_envs must be a positive int"):
        ram_env.evaluate(BrightnessReader("box"), "GlimpseMNIST-v0", num_envs=bad)


@pytest.mark.mnist
def test_the_readme_example_runs_and_beats_chance(capsys):
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    example = readme.split("**Score your agent**")[1].split("```python")[1].split("```")[0]
    exec(compile(example, "README.md", "exec"), {})
    random_accuracy, heuristic = capsys.readouterr().out.splitlines()
    assert 8.0 < float(random_accuracy) < 12.0
    assert float(heuristic.split()[0]) > 15.0
