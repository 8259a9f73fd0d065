"""Train or evaluate an agent on a ram-env glimpse task.

    python train.py --algo reinforce                       # GlimpseMNIST-v0, best settings
    python train.py --algo reinforce --train-minutes 10 --out runs/quick
    python train.py --algo reinforce --out runs/quick --resume
    python train.py --algo ppo --help                      # ppo's own settings
    python train.py --eval runs/quick/best.pt --split test --mc 10
    python train.py --eval runs/quick/best.pt --split test --plot-glimpses paths.gif
    python train.py --eval pretrained:GlimpseMNIST-v0 --split test   # a shipped agent
    torchrun --nproc-per-node 2 train.py --algo reinforce --out runs/two  # data-parallel

The algorithms are those of ``agents.registry``; each one's flags are generated from its
config dataclass, so ``--algo X --help`` shows X's settings and a flag X does not read is an
error naming it. ``--eval`` scores any algorithm's run through one path (its ``Policy``).
Under torchrun every rank runs this script; rank 0 alone prints and writes.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path
from typing import Any

# Only torch-free modules here, so that the parser (and --help) is built at once; the
# commands import torch, the trainers and SB3 when they run.
from agents.cli_common import default_run_dir, positive_int
from agents.cpu_load import choose_threads
from agents.launch import Launch, LaunchError, RankLost
from agents.pretrained import PretrainedError, is_pretrained, pretrained_id, resolve
from agents.registry import ALGORITHMS, get_algorithm
from agents.run_lock import RunFolderBusy, run_folder_lock
from agents.settings import add_settings, config_from_args, default_of, settings_of
from ram_env.atomic import write_json_atomic
from ram_env.data import SPLITS, DataError

DEFAULT_ALGO = "reinforce"
# What --eval reads: the run-level flags, and settings that change what it is scored on.
EVAL_READS = {"eval", "split", "mc", "plot_glimpses", "plot_count", "device", "threads"}
EVAL_READS |= {"precision"}
EVAL_OVERRIDES = ("env_id", "num_glimpses", "glimpse_size", "num_scales", "first_location")
EVAL_OVERRIDES += ("seed", "eval_batch_size")


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows defaults, except empty ones (None / off)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


def algo_help() -> str:
    return "; ".join(f"{name}: {algorithm.summary}" for name, algorithm in ALGORITHMS.items())


def build_parser(algo: str | None = None) -> argparse.ArgumentParser:
    """The parser for ``--algo algo``: its settings shown with its defaults; the other
    algorithms' settings are known (so that typing one is refused by name) but hidden."""
    chosen = ALGORITHMS.get(algo or DEFAULT_ALGO, ALGORITHMS[DEFAULT_ALGO])
    chosen_class = chosen.config_class()
    parser = argparse.ArgumentParser(
        description="Train (or evaluate) an agent on a ram-env glimpse task.",
        formatter_class=_HelpFormatter,
        epilog=getattr(chosen_class, "describe", lambda name: None)(chosen.name),
    )
    parser.add_argument("--algo", choices=ALGORITHMS, default=DEFAULT_ALGO, help=algo_help())
    settings = parser.add_argument_group(f"settings of --algo {chosen.name}")
    seen: set[str] = set()
    add_settings(settings, [chosen_class], seen)
    others = {algorithm.config_class() for algorithm in ALGORITHMS.values()} - {chosen_class}
    add_settings(parser, sorted(others, key=lambda cls: cls.__name__), seen, hidden=True)
    parser.set_defaults(**{field.name: default_of(field) for field in settings_of(chosen_class)})
    parser.add_argument(
        "--out", type=Path, default=None, help="run folder (default: runs/<env>-<algo>-<time>)"
    )
    parser.add_argument(
        "--resume", action="store_true", help="carry on the run in --out from its last.pt"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument(
        "--test", action="store_true", help="after training, score the run on the test split"
    )
    evaluation = parser.add_argument_group("evaluation (any algorithm's run)")
    evaluation.add_argument(
        "--eval",
        type=str,
        default=None,
        metavar="CKPT",
        help="score a checkpoint (.pt, model.zip or its run folder) instead of training; "
        "pretrained:ENV_ID scores the trained agent shipped for ENV_ID "
        "(python -m agents.pretrained list)",
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
        help="with --eval: draw glimpse paths of some images (.gif/.png)",
    )
    evaluation.add_argument(
        "--plot-count", type=positive_int, default=8, help="images drawn by --plot-glimpses"
    )
    return parser


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


def flag_names(parser: argparse.ArgumentParser) -> dict[str, str]:
    """Each destination's command-line spelling."""
    return {action.dest: action.option_strings[-1] for action in parser._actions if action.dest}


def refuse_unread_flags(
    parser: argparse.ArgumentParser, args: argparse.Namespace, typed: set[str]
) -> None:
    """``parser.error`` naming the first typed flag that the chosen command does not read."""
    flag = flag_names(parser)
    if args.eval is not None:
        reads = EVAL_READS | set(EVAL_OVERRIDES)
        for dest in sorted(typed - reads):
            takes = ", ".join(sorted(flag[name] for name in reads - {"eval"}))
            parser.error(
                f"{flag[dest]} does not apply to --eval: a checkpoint is scored with the "
                f"algorithm and settings it trained with (this --eval takes {takes})"
            )
        if args.resume:
            parser.error("--eval and --resume do not go together")
        return
    for dest in sorted(typed & {"split", "plot_count"}):
        parser.error(f"{flag[dest]} applies to --eval only")
    if args.plot_glimpses is not None:
        parser.error("--plot-glimpses needs --eval CKPT")
    if "mc" in typed and not args.test:
        parser.error("--mc applies to --eval, or to training with --test")
    own = {field.name for field in settings_of(get_algorithm(args.algo).config_class())}
    every = {field.name for a in ALGORITHMS.values() for field in settings_of(a.config_class())}
    for dest in sorted(typed & every - own):
        parser.error(
            f"{flag[dest]} does not apply to --algo {args.algo}; its settings: "
            f"python train.py --algo {args.algo} --help"
        )


# --------------------------------------------------------------------------- training


def resumed_config(stored: Any, given: Any, typed: set[str], parser: argparse.ArgumentParser):
    """The stored config, with only run-length/device settings taken from the command line.

    Those are taken when typed (``--device cpu`` moves a GPU run to the CPU even though
    ``cpu`` is the default). A flag that changes anything else (and differs from its
    default) is refused: a resumed run must stay the run it was.
    """
    from agents.cli_common import device_name

    overridable = getattr(stored, "RESUME_OVERRIDABLE", ())
    for field in settings_of(type(stored)):
        new, old = getattr(given, field.name), getattr(stored, field.name)
        if field.name in overridable:
            if field.name in typed:
                setattr(stored, field.name, new)
        elif new != old and new != default_of(field):
            parser.error(
                f"--resume: {field.name}={new!r} differs from the checkpoint's "
                f"{old!r}; drop the flag or start a new run"
            )
    try:
        device_name(stored.device)  # the check --device gets, for the checkpoint's device
    except argparse.ArgumentTypeError as error:
        parser.error(
            f"--resume: the run trained on {stored.device!r}: {error}; "
            "add --device cpu to carry it on here"
        )
    return stored


def run_training(
    args: argparse.Namespace, parser: argparse.ArgumentParser, typed: set[str], launch: Launch
) -> int:
    algorithm = get_algorithm(args.algo)
    config_class = algorithm.config_class()
    config = config_from_args(config_class, args, algo=args.algo)
    untouched = dict(vars(config))
    config = config.with_task_defaults(typed)
    changed = {key: value for key, value in vars(config).items() if untouched[key] != value}
    if changed and launch.is_main:
        settings = ", ".join(f"{key}={value!r}" for key, value in changed.items())
        print(f"{config.env_id} defaults: {settings}", file=sys.stderr)
    module = algorithm.load_module()
    resumable = hasattr(module, "stored_config")
    out_dir = args.out
    if args.resume:
        if out_dir is None:
            parser.error("--resume needs --out DIR (the run to carry on)")
        if not resumable:
            parser.error(f"--resume: --algo {args.algo} runs cannot be resumed; they start afresh")
        config = resumed_config(module.stored_config(out_dir), config, typed, parser)
    else:
        out_dir = out_dir or default_run_dir(config.env_id, args.algo)
        if (out_dir / module.RUN_FILE).exists():
            carry_on = "add --resume or " if resumable else ""
            parser.error(f"{out_dir} already holds a run; {carry_on}choose another --out")
    try:
        config.validate(world_size=launch.world_size)
    except ValueError as error:
        parser.error(str(error))
    if launch.is_main:
        print(f"run folder: {out_dir}", file=sys.stderr)
    # Rank 0 alone writes the run folder, so it alone holds it.
    with run_folder_lock(out_dir) if launch.is_main else contextlib.nullcontext():
        if not args.resume and (out_dir / module.RUN_FILE).exists():  # written since the check
            raise RunFolderBusy(f"{out_dir} now holds a run started by another process")
        summary = module.train(
            config, out_dir, resume=args.resume, progress_bar=not args.no_progress
        )
    if not launch.is_main:  # rank 0 reports and runs --test
        return 130 if summary["interrupted"] else 0
    print(summary["text"])
    if summary["interrupted"]:
        if resumable:
            print(f"saved {out_dir / module.RUN_FILE}; carry on with --out {out_dir} --resume")
        return 130
    if args.test:
        # Scored as --eval scores it, in batches of this command's --eval-batch-size.
        return run_evaluation(Path(summary["checkpoint"]), "test", args, {"eval_batch_size"})
    return 0


# --------------------------------------------------------------------------- evaluation


def run_evaluation(
    path: Path,
    split: str,
    args: argparse.Namespace,
    typed: set[str],
    report_dir: Path | None = None,
) -> int:
    """Score any algorithm's run on ``split``; the typed ``EVAL_OVERRIDES`` replace its task.
    The reports go beside the checkpoint, or to ``report_dir`` (a shipped agent's)."""
    import torch

    from agents.evaluation import score_run

    torch.set_num_threads(choose_threads(args.threads if "threads" in typed else None)[0])
    scored = score_run(
        path,
        split,
        mc=args.mc,
        device=args.device,
        precision=getattr(args, "precision", None) or "auto",
        overrides={dest: getattr(args, dest) for dest in typed & set(EVAL_OVERRIDES)},
    )
    result, loaded = scored.result, scored.loaded
    report = scored.report()
    # eval-{split}.json is the latest score; the second file keeps each checkpoint's score
    # per path count, so a later --mc 10 run never overwrites the one-path figure.
    folder, stem = report_dir or loaded.checkpoint.parent, loaded.checkpoint.stem
    out_file, kept_file = (
        folder / f"eval-{split}.json",
        folder / f"eval-{split}-{stem}-mc{args.mc}.json",
    )
    for file in (out_file, kept_file):
        write_json_atomic(file, report)
    paths = "one path" if args.mc == 1 else f"{args.mc} sampled paths"
    if result.per_class_accuracy == []:  # Catch: no classes, its accuracy is the catch rate
        figure = f"catch rate {result.accuracy:.2f}% ({result.n} games"
    else:
        figure = f"error {result.error:.2f}% (accuracy {result.accuracy:.2f}%, {result.n} images"
    print(f"{split} {figure}, {paths}); wrote {out_file} and {kept_file.name}")
    if args.plot_glimpses is not None:
        from agents.visualize import plot_glimpse_paths

        written = plot_glimpse_paths(
            loaded.policy,
            scored.env_id,
            split,
            args.plot_glimpses,
            count=args.plot_count,
            seed=scored.seed,
            **scored.env_kwargs,
        )
        print(f"wrote {written}")
    return 0


def evaluate_target(target: str, args: argparse.Namespace, typed: set[str]) -> int:
    """``--eval TARGET``: a run's checkpoint, or ``pretrained:ENV_ID``, a shipped agent (its
    file's hash checked first; its reports go to ``runs/pretrained/ENV_ID/``, not into the
    installed package)."""
    if not is_pretrained(target):
        return run_evaluation(Path(target), args.split, args, typed)
    path = resolve(target)
    report_dir = Path("runs") / "pretrained" / pretrained_id(target)
    print(f"{target}: {path} (sha256 verified)", file=sys.stderr)
    return run_evaluation(path, args.split, args, typed, report_dir=report_dir)


def main(argv: list[str] | None = None) -> int:
    chosen = argparse.ArgumentParser(add_help=False)
    chosen.add_argument("--algo")
    parser = build_parser(chosen.parse_known_args(argv)[0].algo)
    args = parser.parse_args(argv)
    typed = typed_options(parser, args, argv)
    refuse_unread_flags(parser, args, typed)
    try:
        launch = Launch.from_environment()  # one process, or one of torchrun's ranks
    except ValueError as error:
        parser.error(str(error))
    if args.eval is not None and launch.world_size > 1:
        parser.error("--eval scores in one process; run it without torchrun")
    from agents.checkpoint import CheckpointError

    try:
        if args.eval is not None:
            return evaluate_target(args.eval, args, typed)
        return run_training(args, parser, typed, launch)
    except (CheckpointError, DataError, LaunchError, PretrainedError, RunFolderBusy) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except RankLost as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
