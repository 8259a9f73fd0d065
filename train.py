"""Train or evaluate an agent on a ram-env glimpse task.

    python train.py --algo reinforce                       # GlimpseMNIST-v0, best settings
    python train.py --algo reinforce --train-minutes 10 --out runs/quick
    python train.py --algo reinforce --out runs/quick --resume
    python train.py --eval runs/quick/best.pt --split test --mc 10
    python train.py --eval runs/quick/best.pt --split test --plot-glimpses paths.gif

Each algorithm lives in its own module under ``agents/`` and is listed in ``ALGORITHMS``.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

# Only torch-free modules here, so that the parser (and --help) is built at once; the
# commands import torch, the trainers and SB3 when they run.
from agents.cli_common import (
    default_run_dir,
    non_negative_float,
    non_negative_int,
    positive_float,
    positive_int,
)
from agents.cli_sb3 import (
    SB3_ALGORITHMS,
    add_sb3_arguments,
    algo_help,
    eval_sb3,
    is_sb3_checkpoint,
    run_sb3,
)
from agents.reinforce_config import (
    CORE_TYPES,
    LOCATION_POLICIES,
    LOSSES,
    LR_SCHEDULES,
    ReinforceConfig,
)
from ram_env.atomic import write_json_atomic
from ram_env.data import SPLITS, DataError
from ram_env.episodes import FIRST_LOCATIONS

ALGORITHMS = ("reinforce", *SB3_ALGORITHMS)
DEFAULTS = ReinforceConfig()
RESUME_OVERRIDABLE = ("epochs", "train_minutes", "max_images", "device", "threads")


# --------------------------------------------------------------------------- argument types


def env_id(text: str) -> str:
    """A registered glimpse env id."""
    import gymnasium

    import ram_env  # noqa: F401  (registers the ids)

    if text not in gymnasium.registry:
        known = ", ".join(ram_env.ENV_IDS)
        raise argparse.ArgumentTypeError(f"unknown env id {text!r}; known: {known}")
    return text


def device_name(text: str) -> str:
    import torch

    try:
        device = torch.device(text)
    except RuntimeError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a torch device") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise argparse.ArgumentTypeError("CUDA was asked for but is not available")
    return text


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows defaults, except empty ones (None / off)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, False):
            return action.help
        return super()._get_help_string(action)


def build_parser(algo: str | None = None) -> argparse.ArgumentParser:
    """The parser; with ``algo`` (from ``--algo``), ``--help`` shows that algorithm's flags."""
    parser = argparse.ArgumentParser(
        description="Train (or evaluate) an agent on a ram-env glimpse task.",
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--algo", choices=ALGORITHMS, default="reinforce", help=algo_help())
    parser.add_argument("--env", type=env_id, default=DEFAULTS.env_id, help="env id")
    parser.add_argument(
        "--glimpses",
        type=positive_int,
        default=None,
        help="glimpses per episode (default: the env's)",
    )
    parser.add_argument(
        "--glimpse-size",
        type=positive_int,
        default=None,
        help="glimpse side in pixels (default: the env's)",
    )
    parser.add_argument(
        "--scales", type=positive_int, default=None, help="retina scales (default: the env's)"
    )
    parser.add_argument(
        "--first-location",
        choices=FIRST_LOCATIONS,
        default=None,
        help="where the first glimpse goes: uniformly at random, as in the paper, the "
        "centre, or normal around the centre with std 0.25 (default: the env's, random)",
    )
    parser.add_argument(
        "--core",
        choices=CORE_TYPES,
        default=DEFAULTS.core,
        help="recurrent core: the paper's relu RNN, an LSTM or a GRU",
    )
    parser.add_argument(
        "--hidden-size", type=positive_int, default=DEFAULTS.hidden_size, help="units of the core"
    )
    parser.add_argument(
        "--std",
        type=positive_float,
        default=DEFAULTS.std,
        help="std of the Gaussian location policy",
    )
    parser.add_argument("--learn-std", action="store_true", help="learn the location std")
    parser.add_argument(
        "--locations",
        choices=LOCATION_POLICIES,
        default=DEFAULTS.locations,
        help="learned: the Gaussian location policy; random: the paper's control, glimpses "
        "at uniformly random places (nothing learns where to look)",
    )
    parser.add_argument(
        "--loss",
        choices=LOSSES,
        default=DEFAULTS.loss,
        help="hybrid: cross-entropy classifier + REINFORCE locations; "
        "reinforce: the classifier by policy gradient too",
    )
    parser.add_argument(
        "--location-weight",
        type=positive_float,
        default=DEFAULTS.location_weight,
        help="weight of the REINFORCE term of the loss",
    )
    parser.add_argument(
        "--epochs",
        type=positive_int,
        default=DEFAULTS.epochs,
        help="epochs of 50,000 training images",
    )
    parser.add_argument(
        "--train-minutes",
        type=positive_float,
        default=None,
        help="wall-clock budget; stop cleanly, save and validate when used",
    )
    parser.add_argument("--max-images", type=positive_int, default=None, help=argparse.SUPPRESS)
    parser.add_argument(
        "--batch-size", type=positive_int, default=DEFAULTS.batch_size, help="episodes per update"
    )
    parser.add_argument(
        "--num-envs",
        type=positive_int,
        default=None,
        help="parallel envs (default: batch size; must divide it)",
    )
    parser.add_argument(
        "--lr",
        type=positive_float,
        default=DEFAULTS.lr,
        help="Adam learning rate (at the start of the schedule)",
    )
    parser.add_argument(
        "--lr-schedule",
        choices=LR_SCHEDULES,
        default=DEFAULTS.lr_schedule,
        help="decay over the run (epochs or --train-minutes, what ends first)",
    )
    parser.add_argument(
        "--weight-decay",
        type=non_negative_float,
        default=DEFAULTS.weight_decay,
        help="decoupled (AdamW) weight decay; each step shrinks the weights by LR x this",
    )
    parser.add_argument(
        "--seed",
        type=non_negative_int,
        default=DEFAULTS.seed,
        help="seeds weights, episodes and location noise",
    )
    parser.add_argument(
        "--device", type=device_name, default=DEFAULTS.device, help="torch device of the model"
    )
    parser.add_argument(
        "--threads",
        type=positive_int,
        default=None,
        help="torch threads (default: all cores, at most 4; on a machine busy "
        "with other work, 1 is much faster)",
    )
    parser.add_argument(
        "--eval-batch-size",
        type=positive_int,
        default=DEFAULTS.eval_batch_size,
        help="episodes per batch when scoring a split",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="run folder (default: runs/<env>-<algo>-<timestamp>)"
    )
    parser.add_argument(
        "--resume", action="store_true", help="carry on the run in --out from its last.pt"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument(
        "--test", action="store_true", help="after training, score best.pt on the test split"
    )
    evaluation = parser.add_argument_group("evaluation")
    evaluation.add_argument(
        "--eval",
        type=Path,
        default=None,
        metavar="CKPT",
        help="score a checkpoint instead of training",
    )
    evaluation.add_argument("--split", choices=SPLITS, default="test", help="split to score")
    evaluation.add_argument(
        "--mc",
        type=positive_int,
        default=1,
        help="average the class posteriors of N sampled glimpse paths (1: the mean path)",
    )
    evaluation.add_argument(
        "--plot-glimpses",
        type=Path,
        default=None,
        metavar="FILE",
        help="with --eval: draw glimpse paths of some digits (.gif/.png)",
    )
    evaluation.add_argument(
        "--plot-count", type=positive_int, default=8, help="digits drawn by --plot-glimpses"
    )
    add_sb3_arguments(parser)
    if algo in ALGORITHMS:
        focus_help(parser, algo)
    return parser


def focus_help(parser: argparse.ArgumentParser, algo: str) -> None:
    """Hide the training flags ``algo`` does not read; name its own settings in the epilog."""
    taken = set() if algo == "reinforce" else set(sb3_takes(algo))
    if algo == "reinforce":
        hidden = SB3_ONLY
    else:
        from agents.sb3_registry import get_spec

        spec = get_spec(algo)
        hidden = REINFORCE_ONLY - taken - {"mc"}  # --mc stays: it is also an --eval flag
        settings = ", ".join(f"{key}={value!r}" for key, value in spec.hyperparams.items())
        policy = ", ".join(f"{key}={value!r}" for key, value in spec.policy_kwargs.items())
        parser.epilog = (
            f"{algo}: {spec.summary}. Its settings (change them with --hyperparams JSON, "
            f"or --lr/--lr-schedule{'/--core/--hidden-size' if spec.recurrent else ''}): "
            f"{settings}; policy {spec.policy_name}({policy}); {spec.num_envs} envs, "
            f"{spec.default_timesteps:,} steps unless --total-timesteps or --train-minutes."
        )
    for action in parser._actions:
        if action.dest in hidden:
            action.help = argparse.SUPPRESS
        elif action.dest in taken:  # read only when typed: the algorithm has its own default
            action.default = None
            action.help = f"{action.help} (default: {algo}'s own, below)"


def config_from_args(args: argparse.Namespace) -> ReinforceConfig:
    return ReinforceConfig(
        env_id=args.env,
        num_glimpses=args.glimpses,
        glimpse_size=args.glimpse_size,
        num_scales=args.scales,
        first_location=args.first_location,
        core=args.core,
        hidden_size=args.hidden_size,
        std=args.std,
        learn_std=args.learn_std,
        locations=args.locations,
        loss=args.loss,
        location_weight=args.location_weight,
        epochs=args.epochs,
        train_minutes=args.train_minutes,
        max_images=args.max_images,
        batch_size=args.batch_size,
        num_envs=args.num_envs,
        lr=args.lr,
        lr_schedule=args.lr_schedule,
        weight_decay=args.weight_decay,
        seed=args.seed,
        device=args.device,
        threads=args.threads,
        eval_batch_size=args.eval_batch_size,
    )


def typed_options(
    parser: argparse.ArgumentParser, args: argparse.Namespace, argv: list[str] | None
) -> set[str]:
    """The destinations of the options actually typed on the command line.

    argparse fills every option left out with its default, so "typed" cannot be read from
    ``args``. It only fills attributes the namespace lacks, though: parsed again into a
    namespace that holds a marker everywhere, the options left out keep the marker.
    """
    unset = object()
    marked = argparse.Namespace(**dict.fromkeys(vars(args), unset))
    parsed = parser.parse_args(argv, namespace=marked)
    return {dest for dest, value in vars(parsed).items() if value is not unset}


def resumed_config(
    stored: dict[str, Any],
    given: ReinforceConfig,
    typed: set[str],
    parser: argparse.ArgumentParser,
) -> ReinforceConfig:
    """The stored config, with only run-length/device settings taken from the command line.

    Those are taken when typed (``--device cpu`` moves a GPU run to the CPU even though
    ``cpu`` is the default). A flag that changes anything else (and differs from its
    default) is refused: a resumed run must stay the run it was.
    """
    config = ReinforceConfig.from_dict(stored)
    for field in fields(ReinforceConfig):
        new, old = getattr(given, field.name), getattr(config, field.name)
        if field.name in RESUME_OVERRIDABLE:
            if field.name in typed:
                setattr(config, field.name, new)
        elif new != old and new != getattr(DEFAULTS, field.name):
            parser.error(
                f"--resume: {field.name}={new!r} differs from the checkpoint's "
                f"{old!r}; drop the flag or start a new run"
            )
    try:
        device_name(config.device)  # the check --device gets, for the checkpoint's device
    except argparse.ArgumentTypeError as error:
        parser.error(
            f"--resume: the run trained on {config.device!r}: {error}; "
            "add --device cpu to carry it on here"
        )
    return config


# --------------------------------------------------------------------------- which flags apply

# The destinations of the flags only one route reads; a flag typed for a route that does
# not read it is an error that names it, never silently dropped.
REINFORCE_ONLY = {f.name for f in fields(ReinforceConfig)} - {"env_id", "num_glimpses"}
REINFORCE_ONLY -= {"glimpse_size", "num_scales", "first_location", "seed", "train_minutes"}
REINFORCE_ONLY -= {"num_envs", "device", "threads", "eval_batch_size"}
REINFORCE_ONLY |= {"resume", "mc"}
SB3_ONLY = {"total_timesteps", "action_type", "hyperparams", "reward", "val_images"}
SB3_ONLY |= {"log_interval"}
# REINFORCE flags an SB3 algorithm reads too: (where it puts them, its own name for it).
SB3_TAKES = {"lr": ("hyperparams", "learning_rate"), "lr_schedule": ("hyperparams", "lr_schedule")}
SB3_RECURRENT_TAKES = {
    "core": ("policy_kwargs", "core"),
    "hidden_size": ("policy_kwargs", "hidden_size"),
}
EVAL_READS = {"eval", "split", "mc", "plot_glimpses", "plot_count", "device", "threads"}
EVAL_READS |= {"eval_batch_size"}
# ``--eval`` flags that change what a reinforce checkpoint is scored on: dest -> config field.
EVAL_OVERRIDES = {
    "env": "env_id",
    "glimpses": "num_glimpses",
    "glimpse_size": "glimpse_size",
    "scales": "num_scales",
    "first_location": "first_location",
    "seed": "seed",
    "eval_batch_size": "eval_batch_size",
}


def flag(dest: str) -> str:
    """The command-line spelling of an argparse destination."""
    return "--" + dest.replace("_", "-")


def sb3_takes(algo: str) -> dict[str, tuple[str, str]]:
    """The REINFORCE flags SB3 algorithm ``algo`` reads too, and where it puts them."""
    from agents.sb3_registry import get_spec

    return {**SB3_TAKES, **(SB3_RECURRENT_TAKES if get_spec(algo).recurrent else {})}


def refuse_unread_flags(
    parser: argparse.ArgumentParser, args: argparse.Namespace, typed: set[str]
) -> None:
    """``parser.error`` naming the first typed flag that the chosen route would not read."""
    if args.eval is not None:
        from agents.cli_sb3 import is_sb3_checkpoint

        reads = EVAL_READS | (set() if is_sb3_checkpoint(args.eval) else set(EVAL_OVERRIDES))
        for dest in sorted(typed - reads):
            takes = ", ".join(flag(name) for name in sorted(reads - {"eval"}))
            parser.error(
                f"{flag(dest)} does not apply to --eval: a checkpoint is scored with the "
                f"algorithm and settings it trained with (this --eval takes {takes})"
            )
        return
    for dest in sorted(typed & {"split", "plot_count"}):
        parser.error(f"{flag(dest)} applies to --eval only")
    if "mc" in typed and not args.test:
        parser.error("--mc applies to --eval, or to training with --test")
    if args.algo == "reinforce":
        for dest in sorted(typed & SB3_ONLY - {"action_type"}):
            parser.error(f"{flag(dest)} is a Stable-Baselines3 setting; --algo reinforce has none")
        return
    takes = sb3_takes(args.algo)
    for dest in sorted(typed & REINFORCE_ONLY - set(takes)):
        parser.error(
            f"{flag(dest)} does not apply to --algo {args.algo}; its settings are the "
            "registry's (agents/sb3_registry.py), changed with --hyperparams JSON"
        )
    hyperparams = dict(args.hyperparams or {})
    for dest in sorted(typed & set(takes)):
        where, name = takes[dest]
        section = hyperparams if where == "hyperparams" else hyperparams.setdefault(where, {})
        if name in section:
            parser.error(f"{flag(dest)} and --hyperparams both set {name}; give it once")
        section[name] = getattr(args, dest)
    args.hyperparams = hyperparams or args.hyperparams


# --------------------------------------------------------------------------- commands


def run_training(args: argparse.Namespace, parser: argparse.ArgumentParser, typed: set[str]) -> int:
    from agents.checkpoint import load_checkpoint
    from agents.reinforce import train

    config = config_from_args(args)
    out_dir = args.out
    if args.resume:
        if out_dir is None:
            parser.error("--resume needs --out DIR (the run to carry on)")
        checkpoint = load_checkpoint(out_dir / "last.pt")
        if checkpoint["algo"] != args.algo:
            parser.error(f"--resume: {out_dir} holds a {checkpoint['algo']!r} run")
        config = resumed_config(checkpoint["config"], config, typed, parser)
    else:
        out_dir = out_dir or default_run_dir(config.env_id, args.algo)
        if (out_dir / "last.pt").exists():
            parser.error(f"{out_dir} already holds a run; add --resume or choose another --out")
    try:
        config.rollouts_per_update()
    except ValueError as error:
        parser.error(str(error))
    print(f"run folder: {out_dir}", file=sys.stderr)
    summary = train(config, out_dir, resume=args.resume, progress_bar=not args.no_progress)
    print(
        f"{summary['stop_reason']}: {summary['images']} images in "
        f"{summary['minutes']:.1f} min; validation accuracy last "
        f"{summary['last_val_accuracy']:.2f}%, best {summary['best_val_accuracy']:.2f}%"
    )
    if summary["interrupted"]:
        print(f"saved {out_dir / 'last.pt'}; carry on with --out {out_dir} --resume")
        return 130
    if args.test:
        return run_evaluation(out_dir / "best.pt", "test", args.mc, args.device, args)
    return 0


def run_evaluation(
    path: Path,
    split: str,
    mc: int,
    device: str,
    args: argparse.Namespace,
    typed: frozenset[str] | set[str] = frozenset(),
) -> int:
    """Score a reinforce checkpoint; the typed ``EVAL_OVERRIDES`` replace its settings."""
    import torch

    from agents.checkpoint import CheckpointError, load_checkpoint
    from agents.evaluation import evaluate, make_eval_env
    from agents.reinforce import load_model

    checkpoint = load_checkpoint(path)
    config = ReinforceConfig.from_dict(checkpoint["config"])
    for dest in typed & set(EVAL_OVERRIDES):
        setattr(config, EVAL_OVERRIDES[dest], getattr(args, dest))
    if "threads" in typed:
        torch.set_num_threads(args.threads)
    model = load_model(checkpoint, device)
    env = make_eval_env(config.env_id, split, config.eval_batch_size, **config.env_kwargs())
    glimpse_shape = env.single_observation_space["glimpse"].shape
    model_shape = (model.config.num_scales, model.config.glimpse_size, model.config.glimpse_size)
    if glimpse_shape != model_shape:
        raise CheckpointError(
            f"{path}: the model expects glimpses {model_shape}, the env gives {glimpse_shape}"
        )
    result = evaluate(model, env, mc=mc, seed=config.seed, split=split)
    report = {
        **result.to_dict(),
        "checkpoint": str(path),
        "env": config.env_id,
        "env_kwargs": config.env_kwargs(),
        "seed": config.seed,
    }
    # eval-{split}.json is the latest score; the second file keeps each checkpoint's score
    # per path count, so a later --mc 10 run never overwrites the one-path figure.
    out_file = path.parent / f"eval-{split}.json"
    kept_file = path.parent / f"eval-{split}-{path.stem}-mc{mc}.json"
    for file in (out_file, kept_file):
        write_json_atomic(file, report)
    paths = "mean path" if mc == 1 else f"{mc} sampled paths"
    print(
        f"{split} error {result.error:.2f}% (accuracy {result.accuracy:.2f}%, "
        f"{result.n} images, {paths}); wrote {out_file} and {kept_file.name}"
    )
    if args.plot_glimpses is not None:
        from agents.visualize import plot_glimpse_paths

        written = plot_glimpse_paths(
            model, config, split, args.plot_glimpses, count=args.plot_count, seed=config.seed
        )
        print(f"wrote {written}")
    env.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    chosen = argparse.ArgumentParser(add_help=False)
    chosen.add_argument("--algo")
    parser = build_parser(chosen.parse_known_args(argv)[0].algo)
    args = parser.parse_args(argv)
    if args.plot_glimpses is not None and args.eval is None:
        parser.error("--plot-glimpses needs --eval CKPT")
    if args.eval is not None and args.resume:
        parser.error("--eval and --resume do not go together")
    if args.algo == "reinforce" and args.action_type not in (None, "box"):
        parser.error(f"reinforce cannot use action type {args.action_type!r}; it uses box")
    typed = typed_options(parser, args, argv)
    refuse_unread_flags(parser, args, typed)
    from agents.checkpoint import CheckpointError

    try:
        if args.eval is not None:
            if is_sb3_checkpoint(args.eval):
                return eval_sb3(args)
            return run_evaluation(args.eval, args.split, args.mc, args.device, args, typed)
        if args.algo in SB3_ALGORITHMS:
            return run_sb3(args)
        return run_training(args, parser, typed)
    except (CheckpointError, DataError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
