"""``train.py``'s Stable-Baselines3 side: its flags, training and ``--eval`` of SB3 runs.

``train.py`` keeps the flags it shares with the REINFORCE route (``--env``, ``--glimpses``,
``--glimpse-size``, ``--scales``, ``--first-location``, ``--train-minutes``, ``--num-envs``,
``--seed``, ``--device``, ``--threads``, ``--out``, ``--test``, ``--eval``, ``--split``,
``--eval-batch-size``); ``add_sb3_arguments`` adds the SB3-only ones. An SB3 algorithm's
settings are the registry's (``agents.sb3_registry.ALGORITHMS``), overridden with
``--hyperparams '{"n_epochs": 2}'``; of REINFORCE's flags it reads ``--lr`` and
``--lr-schedule`` (and ``recurrent-ppo`` ``--core`` and ``--hidden-size``), and ``train.py``
refuses the others.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

from agents.cli_common import default_run_dir, non_negative_int, positive_int
from agents.sb3_registry import ALGORITHM_NAMES, ALGORITHMS, resolve_action_type
from ram_env.atomic import write_json_atomic

# torch and SB3 are imported by the functions that train or score, not here: building
# train.py's parser (and --help) stays fast.
SB3_ALGORITHMS = ALGORITHM_NAMES
SB3_ACTION_TYPES = tuple(
    dict.fromkeys(kind for spec in ALGORITHMS.values() for kind in spec.action_types)
)


def algo_help() -> str:
    """What ``--algo`` can be, each with the action types it can use (default first)."""
    lines = ["reinforce: box (the hand-written agent)"]
    lines += [f"{name}: {'|'.join(spec.action_types)}" for name, spec in ALGORITHMS.items()]
    return "algorithm and the action types it can use, its default first: " + "; ".join(lines)


def _hyperparams(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a JSON object") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"{text!r} is not a JSON object")
    return value


def add_sb3_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the SB3-only flags (in their own group) to ``train.py``'s parser."""
    group = parser.add_argument_group(
        "Stable-Baselines3 algorithms",
        "recurrent-ppo, ppo, a2c, sac, td3, dqn. Shared flags: --env, --glimpses, "
        "--glimpse-size, --scales, --first-location, --train-minutes, --num-envs, --seed, "
        "--device, --threads, --out, --test. Output: model.zip, config.json, metrics.csv in --out.",
    )
    group.add_argument(
        "--total-timesteps",
        type=positive_int,
        default=None,
        help="env steps to train (default: the algorithm's, unless "
        "--train-minutes is given; with both, the first reached stops)",
    )
    group.add_argument(
        "--action-type",
        choices=SB3_ACTION_TYPES,
        default=None,
        help="the env's action encoding (default: the algorithm's). "
        + "; ".join(f"{name}: {'|'.join(spec.action_types)}" for name, spec in ALGORITHMS.items()),
    )
    group.add_argument(
        "--hyperparams",
        type=_hyperparams,
        default=None,
        metavar="JSON",
        help="override the algorithm's settings, e.g. "
        '\'{"n_epochs": 2, "policy_kwargs": {"core": "lstm"}}\'',
    )
    group.add_argument(
        "--reward",
        choices=("sparse", "dense"),
        default=None,
        help="the env's reward (default: sparse, the paper's)",
    )
    group.add_argument(
        "--val-images",
        type=non_negative_int,
        default=1000,
        help="validation images scored at each metrics.csv row (0: none)",
    )
    group.add_argument(
        "--log-interval",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="seconds between metrics.csv rows",
    )


def is_sb3_checkpoint(path: str | Path) -> bool:
    """Whether ``path`` is an SB3 ``model.zip`` or a run folder holding one."""
    from agents.sb3_algorithms import is_sb3_run

    return is_sb3_run(path)


def _env_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    overrides = {
        "num_glimpses": getattr(args, "glimpses", None),
        "glimpse_size": getattr(args, "glimpse_size", None),
        "num_scales": getattr(args, "scales", None),
        "first_location": getattr(args, "first_location", None),
        "reward": getattr(args, "reward", None),
    }
    return {key: value for key, value in overrides.items() if value is not None}


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


def run_sb3(args: argparse.Namespace) -> int:
    """Train ``args.algo`` (an SB3 algorithm) as ``train.py`` was asked; exit status."""
    from agents.sb3_algorithms import MODEL_FILE, train_sb3

    if args.algo not in ALGORITHMS:
        return _error(
            f"unknown algorithm {args.algo!r}; SB3 algorithms: "
            f"{', '.join(SB3_ALGORITHMS)} (and reinforce)"
        )
    if getattr(args, "resume", False):
        return _error("--resume is for reinforce runs; SB3 runs start afresh")
    try:
        action_type = resolve_action_type(args.algo, args.action_type)
    except ValueError as error:
        return _error(str(error))
    out_dir = args.out or default_run_dir(args.env, args.algo)
    if (out_dir / MODEL_FILE).exists():
        return _error(f"{out_dir} already holds a run; choose another --out")
    print(f"run folder: {out_dir}", file=sys.stderr)
    summary = train_sb3(
        args.algo,
        args.env,
        out_dir=out_dir,
        total_timesteps=args.total_timesteps,
        train_minutes=args.train_minutes,
        seed=args.seed,
        num_envs=args.num_envs,
        action_type=action_type,
        device=args.device,
        threads=args.threads,
        env_kwargs=_env_kwargs(args),
        hyperparams=args.hyperparams,
        val_images=args.val_images,
        log_every_s=args.log_interval,
        progress_bar=not args.no_progress and _has_progress_bar(),
    )
    print(
        f"{summary['stop_reason']}: {summary['timesteps']} steps ({summary['episodes']} "
        f"episodes) in {summary['minutes']:.1f} min, {summary['steps_per_second']:.0f} "
        f"steps/s; saved {summary['model']}"
    )
    if summary["interrupted"]:
        return 130
    if getattr(args, "test", False):
        return _evaluate(out_dir, "test", args)
    return 0


def eval_sb3(args: argparse.Namespace) -> int:
    """``train.py --eval`` on an SB3 ``model.zip`` (or its folder); exit status."""
    if getattr(args, "mc", 1) != 1:
        return _error(
            "--mc > 1 averages sampled glimpse paths of the hand-written agent; "
            "SB3 models are scored on their deterministic path (--mc 1)"
        )
    if getattr(args, "plot_glimpses", None) is not None:
        return _error(
            "--plot-glimpses draws the hand-written agent's paths; it does not "
            "support SB3 models yet"
        )
    return _evaluate(args.eval, args.split, args)


def _evaluate(path: str | Path, split: str, args: argparse.Namespace) -> int:
    from agents.sb3_algorithms import MODEL_FILE, evaluate_sb3

    model_path = Path(path) / MODEL_FILE if Path(path).is_dir() else Path(path)
    if getattr(args, "threads", None):
        import torch

        torch.set_num_threads(args.threads)
    result = evaluate_sb3(model_path, split, batch_size=args.eval_batch_size, device=args.device)
    config = _read_config(model_path)
    report = {
        **result.to_dict(),
        "checkpoint": str(model_path),
        "env": config["env_id"],
        "algo": config["algo"],
        "action_type": config["action_type"],
    }
    out_file = model_path.parent / f"eval-{split}.json"
    write_json_atomic(out_file, report)
    print(
        f"{split} error {result.error:.2f}% (accuracy {result.accuracy:.2f}%, "
        f"{result.n} images, deterministic path); wrote {out_file}"
    )
    return 0


def _read_config(model_path: Path) -> dict[str, Any]:
    from agents.sb3_algorithms import CONFIG_FILE

    return json.loads((model_path.parent / CONFIG_FILE).read_text())


def _has_progress_bar() -> bool:
    """SB3's progress bar needs both tqdm and rich."""
    return all(importlib.util.find_spec(name) is not None for name in ("tqdm", "rich"))


__all__ = [
    "SB3_ALGORITHMS",
    "add_sb3_arguments",
    "algo_help",
    "eval_sb3",
    "is_sb3_checkpoint",
    "run_sb3",
]
