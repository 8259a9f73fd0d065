"""Tests that check values, not just shapes: a broken learner or tool must fail one of them.

* ``evaluate`` with ``mc > 1`` predicts the argmax of the MEAN of the paths' softmax
  posteriors (not a vote, not the mean logit, not one path); with ``mc = 1`` the mean path.
* ``render_frame`` and the env's ``render()`` draw each retina square at the pixels
  ``Retina.patch_origins`` names (scaled by the zoom), the path at its points, nothing else;
  ``x`` runs along columns.
* ``record_paths`` (``--plot-glimpses``) starts each image where ``evaluate`` does and predicts
  what ``evaluate``'s mean path predicts.
* The REINFORCE trainer's time budget stops a run, counts validation time, is stored in the
  checkpoint, carries over a ``--resume`` and drives the LR schedule (on a fake clock).
* A real SIGTERM mid-run saves the progress, exits 130 with the ``--resume`` hint, and the
  resumed run ends at the weights of an uninterrupted one.
"""

from __future__ import annotations

import csv
import signal
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import pytest
import torch

import ram_env  # noqa: F401  (registers the env ids)
import train
from agents import reinforce
from agents.checkpoint import load_checkpoint
from agents.evaluation import evaluate
from agents.ram_policy import RAMPolicy, RecurrentAttentionModel
from agents.visualize import record_paths
from ram_env import GlimpseEnv
from ram_env.render import MIN_SIDE, render_frame
from ram_env.retina import Retina
from ram_env.scoring import path_batches

NUM_CLASSES = 10
ENV_ID = "GlimpseMNIST-v0"
TINY = ["--batch-size", "64", "--eval-batch-size", "2500", "--no-progress", "--threads", "1"]
SCALE_COLOURS = [(255, 64, 64), (255, 176, 0), (64, 200, 64), (64, 160, 255)]  # render.py's
PATH_COLOUR = (0, 220, 220)


# --------------------------------------------------------------------------- helpers


def random_images(num_images: int, seed: int = 0) -> np.ndarray:
    """``num_images`` random 28x28 uint8 images (the canvas is the image itself)."""
    return np.random.default_rng(seed).integers(0, 256, (num_images, 28, 28), dtype=np.uint8)


def own_data_env(
    images: np.ndarray, labels: np.ndarray, num_envs: int
) -> gymnasium.vector.VectorEnv:
    """A validation vector env over our own images and labels, as ``evaluate`` expects."""
    return gymnasium.make_vec(
        ENV_ID,
        num_envs=num_envs,
        vectorization_mode="vector_entry_point",
        autoreset_mode=gymnasium.vector.AutoresetMode.DISABLED,
        split="validation",
        images=images,
        labels=labels,
        num_classes=NUM_CLASSES,
    )


def path_logits(
    model: RecurrentAttentionModel,
    env: gymnasium.vector.VectorEnv,
    paths: int,
    seed: int,
    sample: bool,
) -> torch.Tensor:
    """``(paths, num_images, K)``: every path's final log-posterior (logits up to a constant per
    path and image), read through ``path_batches``."""
    logits = torch.full((paths, env.unwrapped.num_images, NUM_CLASSES), float("nan"))
    for batch in path_batches(RAMPolicy(model, sample_paths=sample), env, paths, seed):
        logits[batch.path, batch.images] = torch.from_numpy(batch.played.class_scores).log()
    assert not logits.isnan().any(), "path_batches left an image out"
    return logits


def sharp_model(env: gymnasium.vector.VectorEnv, sharpen: float = 20.0) -> RecurrentAttentionModel:
    """A seeded untrained model with peaked, varied posteriors, so that the ways of combining
    paths give different answers: the classifier is scaled up and its bias set to minus the
    mean logit of the env's images (untrained, it would name nearly one class for all)."""
    torch.manual_seed(0)
    model = RecurrentAttentionModel.from_spaces(
        env.single_observation_space, env.single_action_space
    ).eval()
    with torch.no_grad():
        model.classifier.weight.mul_(sharpen)
        model.classifier.bias.zero_()
        model.classifier.bias.sub_(path_logits(model, env, 1, 0, sample=False).mean((0, 1)))
    return model


def accuracy(predictions: torch.Tensor, labels: torch.Tensor) -> float:
    """Accuracy in %, rounded as ``EvalResult`` rounds it."""
    return round(100.0 * int((predictions == labels).sum()) / len(labels), 4)


# --------------------------------------------------------------------------- --mc averaging


def test_mc_predicts_the_argmax_of_the_mean_posterior() -> None:
    """With labels set to the mean-posterior rule's predictions ``evaluate`` must score 100%,
    and with labels from any other rule exactly the share that rule agrees with it. The model
    and data are such that a majority vote, the mean logit, the first or the last path each
    disagree with the mean posterior on some images, so none of them could pass."""
    images, mc, seed = random_images(60), 5, 1
    env = own_data_env(images, np.zeros(60, dtype=np.int64), num_envs=16)  # last batch: 12
    model = sharp_model(env)
    logits = path_logits(model, env, mc, seed, sample=True)
    mean_posterior = logits.softmax(-1).mean(0).argmax(-1)
    votes = torch.nn.functional.one_hot(logits.argmax(-1), NUM_CLASSES).sum(0)
    others = {
        "majority vote": votes.argmax(-1),
        "mean logit": logits.mean(0).argmax(-1),
        "first path": logits[0].argmax(-1),
        "last path": logits[-1].argmax(-1),
    }
    for name, predictions in others.items():  # the case must tell the rules apart
        assert (predictions != mean_posterior).any(), f"{name} agrees everywhere: a weak case"

    scored = own_data_env(images, mean_posterior.numpy(), num_envs=16)
    result = evaluate(RAMPolicy(model, sample_paths=True), scored, mc=mc, seed=seed)
    assert (result.n, result.mc, result.accuracy, result.error) == (60, mc, 100.0, 0.0)
    for name, predictions in others.items():
        labelled = own_data_env(images, predictions.numpy(), num_envs=16)
        got = evaluate(RAMPolicy(model, sample_paths=True), labelled, mc=mc, seed=seed).accuracy
        assert got == accuracy(mean_posterior, predictions), name


def test_mc_one_follows_the_mean_path_not_a_sampled_one() -> None:
    """``mc=1`` scores the deterministic mean path: labels from it give 100%, while a sampled
    path (which does disagree on some images) would not."""
    images, seed = random_images(60), 3
    env = own_data_env(images, np.zeros(60, dtype=np.int64), num_envs=16)
    model = sharp_model(env)
    mean_path = path_logits(model, env, 1, seed, sample=False)[0].argmax(-1)
    sampled = path_logits(model, env, 1, seed, sample=True)[0].argmax(-1)
    assert (mean_path != sampled).any(), "sampling changes no prediction: a weak case"
    result = evaluate(RAMPolicy(model), own_data_env(images, mean_path.numpy(), 16), seed=seed)
    assert result.accuracy == 100.0


# --------------------------------------------------------------------------- rendering


def outline(
    shape: tuple[int, int], left: int, top: int, right: int, bottom: int, width: int = 2
) -> np.ndarray:
    """The pixels of a rectangle outline ``width`` wide drawn inward (as PIL does), clipped."""
    rows, cols = np.indices(shape)
    inside = (cols >= left) & (cols <= right) & (rows >= top) & (rows <= bottom)
    inner = (
        (cols >= left + width)
        & (cols <= right - width)
        & (rows >= top + width)
        & (rows <= bottom - width)
    )
    return inside & ~inner


def expected_squares(
    canvas_shape: tuple[int, int], location: tuple[float, float], glimpse_size: int, scales: int
) -> tuple[int, list[np.ndarray]]:
    """The zoom and, per scale, the pixels left in that scale's colour (later scales are
    drawn over earlier ones), from ``Retina.patch_origins``: computed here, not by render."""
    height, width = canvas_shape
    zoom = -(-MIN_SIDE // min(height, width))
    shape = (height * zoom, width * zoom)
    rows, cols = Retina(canvas_shape, glimpse_size, scales).patch_origins(
        np.array([location], dtype=np.float64)
    )
    masks = []
    for scale in range(scales):
        side = glimpse_size * 2**scale * zoom
        top, left = int(rows[0, scale]) * zoom, int(cols[0, scale]) * zoom
        masks.append(outline(shape, left, top, left + side - 1, top + side - 1))
    for scale in range(scales):
        for later in masks[scale + 1 :]:
            masks[scale] = masks[scale] & ~later
    return zoom, masks


def colour_mask(frame: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    """Where ``frame`` holds exactly ``colour``."""
    return (frame == np.array(colour, dtype=np.uint8)).all(-1)


def to_pixels(
    location: tuple[float, float], canvas_shape: tuple[int, int], zoom: int
) -> tuple[float, float]:
    """``(column, row)`` in the picture of a location: x along columns, y along rows."""
    height, width = canvas_shape
    return (location[0] + 1) / 2 * width * zoom, (location[1] + 1) / 2 * height * zoom


def distance_to_path(shape: tuple[int, int], points: list[tuple[float, float]]) -> np.ndarray:
    """Each pixel's distance to the polyline through ``points`` (``(column, row)`` pairs)."""
    rows, cols = np.indices(shape)
    pixels = np.stack([cols, rows], -1).astype(np.float64)
    best = np.full(shape, np.inf)
    segments = list(zip(points[:-1], points[1:], strict=True)) or [(points[0], points[0])]
    for start, end in segments:
        a, b = np.asarray(start), np.asarray(end)
        span = b - a
        length = float(span @ span)
        t = np.zeros(shape) if length == 0 else np.clip((pixels - a) @ span / length, 0, 1)
        nearest = a + t[..., None] * span
        best = np.minimum(best, np.linalg.norm(pixels - nearest, axis=-1))
    return best


@pytest.mark.parametrize(
    "path",
    [
        [(0.0, 0.0)],  # the centre, a single point
        [(0.0, 0.0), (1.0, -1.0)],  # to the top-right corner: squares partly off the picture
        [(0.6, -0.6), (-0.5, 0.25)],  # asymmetric: x and y swapped would land elsewhere
    ],
    ids=["centre", "top-right-corner", "asymmetric"],
)
def test_render_frame_draws_the_squares_and_path_where_the_location_says(
    path: list[tuple[float, float]],
) -> None:
    """On a black canvas every coloured pixel must be one of the expected square outlines
    (exactly those pixels, per scale colour) or path pixels close to the path's polyline;
    the path's points and segments must actually be drawn."""
    canvas_shape, glimpse_size, scales = (28, 28), 6, 3
    frame = render_frame(np.zeros(canvas_shape, dtype=np.uint8), path, glimpse_size, scales)
    zoom, squares = expected_squares(canvas_shape, path[-1], glimpse_size, scales)
    assert frame.shape == (28 * zoom, 28 * zoom, 3) and frame.dtype == np.uint8
    for scale, expected in enumerate(squares):
        drawn = colour_mask(frame, SCALE_COLOURS[scale])
        assert expected.any(), f"scale {scale} should be visible"
        missing, extra = (expected & ~drawn).sum(), (drawn & ~expected).sum()
        assert missing == 0 and extra == 0, f"scale {scale}: {missing} missing, {extra} extra"

    points = [to_pixels(location, canvas_shape, zoom) for location in path]
    cyan = colour_mask(frame, PATH_COLOUR)
    near = distance_to_path(frame.shape[:2], points) <= 4.5
    assert not (cyan & ~near).any(), "path pixels drawn away from the path"
    squares_anywhere = np.any(squares, axis=0)
    checks = list(points)
    for a, b in zip(points, points[1:], strict=False):
        checks += [(a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1])) for f in (0.3, 0.5, 0.7)]
    for x, y in checks:  # a path pixel within 4 px of each point and segment sample
        col, row = int(x), int(y)
        window = (slice(max(row - 4, 0), row + 5), slice(max(col - 4, 0), col + 5))
        if squares_anywhere[window].any():
            continue  # the squares are drawn over the path here
        assert cyan[window].any(), f"no path drawn near pixel (col {col}, row {row})"
    black = (frame == 0).all(-1)
    assert (black | cyan | squares_anywhere).all(), "pixels of another colour were drawn"


def test_env_render_shows_its_canvas_path_and_current_glimpse() -> None:
    """The env's frame is ``render_frame`` of its own canvas and path; the canvas is not
    transposed (a bright pixel at row 3, column 20 shows there); and what lies inside the
    scale-0 square is exactly the glimpse the agent was handed at that step."""
    image = np.random.default_rng(5).integers(0, 200, (1, 28, 28), dtype=np.uint8)
    image[0, 3, 20] = 255  # brighter than everything else, off the squares' way
    env = GlimpseEnv(
        images=image,
        labels=np.array([4]),
        num_classes=NUM_CLASSES,
        split="validation",
        first_location="center",
        num_glimpses=3,
        glimpse_size=6,
        num_scales=3,
        render_mode="rgb_array",
    )
    observation, _ = env.reset(seed=0)
    location = (-0.5, 0.25)
    action = np.full(2 + NUM_CLASSES, -1.0, dtype=np.float32)
    action[:2] = location
    observation, *_ = env.step(action)
    frame = env.render()
    path = [(0.0, 0.0), location]
    np.testing.assert_array_equal(frame, render_frame(image[0], path, 6, 3))

    zoom, squares = expected_squares((28, 28), location, 6, 3)
    for scale, expected in enumerate(squares):
        assert (colour_mask(frame, SCALE_COLOURS[scale]) == expected).all(), scale
    bright = (frame == 255).all(-1)
    assert bright[3 * zoom : 4 * zoom, 20 * zoom : 21 * zoom].all()
    assert bright.sum() == zoom * zoom  # that block only: not at (row 20, column 3) as well

    rows, cols = Retina((28, 28), 6, 3).patch_origins(np.array([location]))
    top, left = int(rows[0, 0]), int(cols[0, 0])
    seen = np.rint(observation["glimpse"][0] * 255).astype(np.uint8)
    np.testing.assert_array_equal(seen, image[0, top : top + 6, left : left + 6])
    under = frame[top * zoom : (top + 6) * zoom, left * zoom : (left + 6) * zoom]
    grey = (under[..., 0] == under[..., 1]) & (under[..., 1] == under[..., 2])
    zoomed = np.kron(seen, np.ones((zoom, zoom), dtype=np.uint8))
    assert grey.mean() > 0.7  # most of it is canvas, not outline or path
    np.testing.assert_array_equal(under[..., 0][grey], zoomed[grey])


# --------------------------------------------------------------------------- --plot-glimpses


def recording(model: RecurrentAttentionModel) -> list[torch.Tensor]:
    """Make ``model.step`` log the location it is handed at each call; returns the log."""
    seen: list[torch.Tensor] = []
    step = model.step

    def logged_step(glimpse: torch.Tensor, location: torch.Tensor, state: Any) -> Any:
        seen.append(location.detach().clone())
        return step(glimpse, location, state)

    model.step = logged_step  # an instance attribute shadows the method
    return seen


def test_record_paths_starts_where_evaluate_starts_and_predicts_what_it_predicts() -> None:
    """For images picked out of order, ``record_paths`` (the ``--plot-glimpses`` recorder)
    must feed the model the first location ``path_batches`` draws for that image (seed
    ``derive_seed(seed, 0) + j``), draw it in the first frame, follow the same mean path and
    predict what ``evaluate``'s mean path predicts, with the true label."""
    images, seed, num_glimpses = random_images(20, seed=7), 11, 6
    labels = np.arange(20) % NUM_CLASSES
    env = own_data_env(images, labels, num_envs=7)  # a batch size that does not divide 20
    model = sharp_model(env)
    batch_first = np.zeros((20, 2), dtype=np.float32)
    mean_logits = torch.zeros(20, NUM_CLASSES)
    batch_seen = recording(model)
    for batch in path_batches(RAMPolicy(model), env, 1, seed):
        batch_first[batch.images] = batch.first_locations
        mean_logits[batch.images] = torch.from_numpy(batch.played.class_scores)
    # (batches * T, num_envs, 2) in call order -> (image, T, 2), the wrapped-round tail dropped
    batch_paths = torch.stack(batch_seen).view(3, num_glimpses, 7, 2).transpose(1, 2)
    batch_paths = batch_paths.reshape(21, num_glimpses, 2)[:20]
    predictions = mean_logits.argmax(-1)
    assert len(set(predictions.tolist())) > 1  # a constant prediction would prove little
    assert len({tuple(first) for first in batch_first.tolist()}) == 20

    picked = [13, 0, 19, 6, 7]
    model_seen = recording(model)
    kwargs = {"images": images, "labels": labels, "num_classes": NUM_CLASSES}
    policy = RAMPolicy(model)
    frames, outcomes = record_paths(policy, ENV_ID, "validation", picked, seed, **kwargs)
    single_paths = torch.stack(model_seen).transpose(0, 1)  # (T, picked, 2) -> (picked, T, 2)
    for n, j in enumerate(picked):
        np.testing.assert_array_equal(single_paths[n, 0].numpy(), batch_first[j])
        torch.testing.assert_close(single_paths[n], batch_paths[j], rtol=0, atol=1e-5)
        first_frame = render_frame(images[j], [batch_first[j]], 8, 1)
        np.testing.assert_array_equal(frames[n][0], first_frame)
        assert len(frames[n]) == num_glimpses
        assert outcomes[n] == (int(labels[j]), int(predictions[j])), f"image {j}"

    # and evaluate (mc=1) itself predicts those: labelled with them it scores 100%
    relabelled_env = own_data_env(images, predictions.numpy(), num_envs=7)
    assert evaluate(RAMPolicy(model), relabelled_env, seed=seed).accuracy == 100.0


# --------------------------------------------------------------------------- time budget


class FakeClock:
    """``time.perf_counter`` for ``agents.reinforce``: time moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def perf_counter(self) -> float:
        return self.now


@pytest.fixture
def fake_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """A fake clock in ``agents.reinforce``: each update takes 10 s and each validation 5 s.

    Yields a dict holding the clock, the LR each update ran with and the number of
    validations, all recorded through the patched ``update`` and ``evaluate``.
    """
    clock = FakeClock()
    log: dict[str, Any] = {"clock": clock, "lrs": [], "validations": 0}
    real_update, real_evaluate = reinforce.update, reinforce.evaluate

    def timed_update(
        model: RecurrentAttentionModel,
        optimizer: torch.optim.Optimizer,
        env: gymnasium.vector.VectorEnv,
        config: reinforce.ReinforceConfig,
        update_index: int,
        ranks: Any = None,
    ) -> torch.Tensor:
        log["lrs"].append(optimizer.param_groups[0]["lr"])
        stats = real_update(model, optimizer, env, config, update_index, ranks)
        clock.now += 10.0
        return stats

    def timed_evaluate(*args: Any, **kwargs: Any) -> reinforce.EvalResult:
        log["validations"] += 1
        result = real_evaluate(*args, **kwargs)
        clock.now += 5.0
        return result

    monkeypatch.setattr(reinforce, "time", types.SimpleNamespace(perf_counter=clock.perf_counter))
    monkeypatch.setattr(reinforce, "update", timed_update)
    monkeypatch.setattr(reinforce, "evaluate", timed_evaluate)
    yield log


def budget_config(minutes: float) -> reinforce.ReinforceConfig:
    """A tiny run whose length is set by the time budget (an epoch is 782 updates)."""
    return reinforce.ReinforceConfig(
        batch_size=64,
        eval_batch_size=2500,
        threads=1,
        train_minutes=minutes,
        lr=1e-3,
        lr_schedule="linear",
    )


def metrics_minutes(folder: Path) -> list[str]:
    """The ``minutes`` column of a run's metrics.csv."""
    with (folder / "metrics.csv").open(newline="") as file:
        return [row["minutes"] for row in csv.DictReader(file)]


@pytest.mark.mnist
def test_time_budget_stops_the_run_and_is_saved(tmp_path: Path, fake_time: dict[str, Any]) -> None:
    """A 30 s budget at 10 s per update: updates at 0, 10 and 20 s, none at 30 s; the LR
    follows the budget's progress (1, 2/3, 1/3 of the linear schedule); the validation at
    the stop is counted too, so 35 s are stored in the checkpoint and metrics.csv."""
    summary = reinforce.train(budget_config(0.5), tmp_path, progress_bar=False)
    assert summary["stop_reason"] == "time budget used" and not summary["interrupted"]
    assert summary["updates"] == 3 and summary["images"] == 192
    assert summary["minutes"] == pytest.approx(35.0 / 60.0)
    assert fake_time["lrs"] == pytest.approx([1e-3, 2e-3 / 3, 1e-3 / 3])
    assert fake_time["validations"] == 1
    for name in ("last.pt", "best.pt"):
        progress = load_checkpoint(tmp_path / name)["progress"]
        assert progress["updates"] == 3
        assert progress["train_seconds"] == pytest.approx(35.0)
    assert metrics_minutes(tmp_path) == [str(round(35.0 / 60.0, 3))]


@pytest.mark.mnist
def test_resume_counts_the_time_already_spent(tmp_path: Path, fake_time: dict[str, Any]) -> None:
    """After 35 s of a 30 s budget a resume with the same budget stops before any update and
    writes nothing; one with a 60 s budget starts its LR schedule at 35/60 of the way and
    stops after 65 s (3 more updates), 70 s with the last validation."""
    reinforce.train(budget_config(0.5), tmp_path, progress_bar=False)
    saved = load_checkpoint(tmp_path / "last.pt")
    fake_time["lrs"].clear()
    fake_time["validations"] = 0
    fake_time["clock"].now += 3600.0  # time between the runs does not count

    again = reinforce.train(budget_config(0.5), tmp_path, resume=True, progress_bar=False)
    assert again["stop_reason"] == "time budget used"
    assert again["updates"] == 3 and again["minutes"] == pytest.approx(35.0 / 60.0)
    assert fake_time["lrs"] == [] and fake_time["validations"] == 0
    untouched = load_checkpoint(tmp_path / "last.pt")
    assert untouched["progress"] == saved["progress"]
    for name, tensor in saved["model"].items():
        assert torch.equal(tensor, untouched["model"][name]), name

    longer = reinforce.train(budget_config(1.0), tmp_path, resume=True, progress_bar=False)
    assert longer["stop_reason"] == "time budget used"
    assert longer["updates"] == 6 and longer["minutes"] == pytest.approx(70.0 / 60.0)
    assert fake_time["lrs"] == pytest.approx([1e-3 * 25 / 60, 1e-3 * 15 / 60, 1e-3 * 5 / 60])
    progress = load_checkpoint(tmp_path / "last.pt")["progress"]
    assert progress["updates"] == 6 and progress["train_seconds"] == pytest.approx(70.0)
    assert metrics_minutes(tmp_path) == [str(round(35 / 60, 3)), str(round(70 / 60, 3))]


# --------------------------------------------------------------------------- SIGTERM


class EscapedSignal(Exception):
    """Raised by the test's own SIGTERM handler: the trainer failed to catch the signal."""


def raise_escaped(signum: int, frame: Any) -> None:
    """The test's SIGTERM handler while the trainer runs: a signal it lets through fails."""
    raise EscapedSignal(signal.Signals(signum).name)


def final_weights(folder: Path) -> dict[str, torch.Tensor]:
    """The weights in a run's last.pt."""
    return load_checkpoint(folder / "last.pt")["model"]


@pytest.mark.mnist
def test_sigterm_saves_exits_130_and_resumes_to_the_same_weights(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A SIGTERM (as a scheduler sends) after the 2nd of 6 updates: the run finishes that
    update, validates, saves 2 updates in last.pt, returns 130 and says how to resume; the
    resumed run ends bit-identical to an uninterrupted one; the handler is put back."""
    straight, stopped = tmp_path / "straight", tmp_path / "stopped"
    flags = ["--max-images", "384", *TINY]
    assert train.main([*flags, "--out", str(straight)]) == 0
    capsys.readouterr()

    real_update, calls = reinforce.update, []

    def update_then_sigterm(*args: Any, **kwargs: Any) -> torch.Tensor:
        calls.append(1)
        stats = real_update(*args, **kwargs)
        if len(calls) == 2:
            signal.raise_signal(signal.SIGTERM)  # a real signal, handled by the process
        return stats

    previous = signal.signal(signal.SIGTERM, raise_escaped)  # never let it kill pytest
    try:
        monkeypatch.setattr(reinforce, "update", update_then_sigterm)
        assert train.main([*flags, "--out", str(stopped)]) == 130
        assert signal.getsignal(signal.SIGTERM) is raise_escaped  # the trainer's is gone
    finally:
        signal.signal(signal.SIGTERM, previous)
    out = capsys.readouterr().out
    assert "stopped by SIGTERM: 128 images" in out
    assert f"carry on with --out {stopped} --resume" in out
    assert len(calls) == 2  # no update after the signal
    checkpoint = load_checkpoint(stopped / "last.pt")
    assert checkpoint["progress"]["updates"] == 2
    assert checkpoint["progress"]["last_val_accuracy"] >= 0  # validated before saving

    monkeypatch.setattr(reinforce, "update", real_update)
    assert train.main(["--out", str(stopped), "--resume", *TINY]) == 0
    assert load_checkpoint(stopped / "last.pt")["progress"]["updates"] == 6
    expected, resumed = final_weights(straight), final_weights(stopped)
    assert expected.keys() == resumed.keys()
    for name, tensor in expected.items():
        assert torch.equal(tensor, resumed[name]), name
