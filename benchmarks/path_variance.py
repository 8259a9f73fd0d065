"""How much of a model's one-path error is the path: mean path against sampled paths.

    python benchmarks/path_variance.py runs/RUN/best.pt                 # test split, 10 paths
    python benchmarks/path_variance.py runs/RUN/best.pt --split validation --paths 20

Scores every image of the split with the mean path (what ``train.py --eval`` reports) and
with N sampled paths (the ones ``--mc N`` averages, same seeds), then prints:

* the error of the mean path, of each sampled path alone (mean, min, max), and of the N
  paths' averaged posteriors (equal to ``train.py --eval CKPT --mc N``);
* how the wrong images split: wrong on every sampled path, or on some of them only. Many
  "sometimes wrong" images mean the errors come from the path, which averaging removes;
* the mean path's error by where the (random) first glimpse fell, in rings of
  ``max(|x|, |y|)``: whether a bad first location costs the episode.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from agents.checkpoint import CheckpointError, load_checkpoint
from agents.ram_policy import RAMPolicy
from agents.reinforce import ReinforceConfig, load_model
from ram_env.scoring import make_eval_env, path_batches

RINGS = (0.0, 0.25, 0.5, 0.75, 1.0)


def score_paths(
    checkpoint: dict, split: str, paths: int, seed: int | None = None, batch: int | None = None
) -> dict[str, np.ndarray]:
    """Per-image results of the mean path and of ``paths`` sampled paths.

    ``seed`` and ``batch`` default to the run's seed and evaluation batch, as ``--eval``
    uses: the sampled paths depend on both.
    """
    config = ReinforceConfig.from_dict(checkpoint["config"])
    seed = config.seed if seed is None else seed
    batch = batch or config.eval_batch_size
    model = load_model(checkpoint).eval()
    env = make_eval_env(config.env_id, split, batch, **config.env_kwargs())
    num_images = env.unwrapped.num_images
    labels = np.zeros(num_images, dtype=np.int64)
    first_ring = np.zeros(num_images)
    mean_right = np.zeros(num_images, dtype=bool)
    sampled_right = np.zeros((paths, num_images), dtype=bool)
    averaged = np.zeros((num_images, model.config.num_classes))
    # The same seeds as train.py --eval: the mean path is its mc 1, the sampled ones its mc N.
    for scored in path_batches(RAMPolicy(model), env, 1, seed):
        labels[scored.images], mean_right[scored.images] = (
            scored.played.labels,
            scored.played.correct,
        )
        first_ring[scored.images] = np.abs(scored.first_locations).max(1)
    for scored in path_batches(RAMPolicy(model, sample_paths=True), env, paths, seed):
        sampled_right[scored.path, scored.images] = scored.played.correct
        averaged[scored.images] += scored.played.class_scores
    env.close()
    return {
        "labels": labels,
        "first_ring": first_ring,
        "mean_right": mean_right,
        "sampled_right": sampled_right,
        "averaged_right": averaged.argmax(-1) == labels,
    }


def report(scores: dict[str, np.ndarray], paths: int) -> list[str]:
    mean_error = 100.0 * (1.0 - scores["mean_right"].mean())
    per_path = 100.0 * (1.0 - scores["sampled_right"].mean(1))
    averaged_error = 100.0 * (1.0 - scores["averaged_right"].mean())
    wrong_count = (~scores["sampled_right"]).sum(0)
    lines = [
        f"mean path:              {mean_error:.2f}% error",
        f"one sampled path:       {per_path.mean():.2f}% error "
        f"(min {per_path.min():.2f}, max {per_path.max():.2f} over {paths} paths)",
        f"{paths} paths averaged:      {averaged_error:.2f}% error (= --mc {paths})",
        f"images wrong on every sampled path: {100.0 * (wrong_count == paths).mean():.2f}%; "
        f"on some but not all: {100.0 * ((wrong_count > 0) & (wrong_count < paths)).mean():.2f}%",
        "mean-path error by the first glimpse's max(|x|, |y|):",
    ]
    for low, high in zip(RINGS[:-1], RINGS[1:], strict=True):
        ring = scores["first_ring"]
        inside = (ring >= low) & ((ring < high) if high < 1.0 else (ring <= high))
        wrong = ~scores["mean_right"][inside]
        error = 100.0 * wrong.mean() if inside.any() else float("nan")
        lines.append(f"  [{low:.2f}, {high:.2f}): {error:.2f}% of {int(inside.sum())} images")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint", type=Path, help="a reinforce checkpoint (best.pt)")
    parser.add_argument("--split", default="test", choices=("validation", "test"))
    parser.add_argument("--paths", type=int, default=10, help="sampled paths per image")
    parser.add_argument(
        "--seed", type=int, default=None, help="first-location seed (default: the run's, as --eval)"
    )
    parser.add_argument(
        "--batch", type=int, default=None, help="episodes per batch (default: the run's, as --eval)"
    )
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    args = parser.parse_args(argv)
    if args.paths < 2 or (args.batch or 1) < 1 or (args.seed or 0) < 0:
        parser.error("--paths must be at least 2, --batch positive, --seed non-negative")
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        checkpoint = load_checkpoint(args.checkpoint)
    except CheckpointError as error:
        parser.error(str(error))
    if checkpoint.get("algo") != "reinforce":
        parser.error(f"{args.checkpoint} is not a reinforce checkpoint")
    scores = score_paths(checkpoint, args.split, args.paths, args.seed, args.batch)
    print(f"{args.checkpoint} on {args.split} ({len(scores['labels'])} images)")
    print("\n".join(report(scores, args.paths)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
