"""Trained agents shipped with the package: packed from finished runs, verified when used.

A shipped agent is two files in ``agents/pretrained_models/`` (package data, installed with
the package), named by the env id it plays:

- ``ENV_ID.pt``: a REINFORCE checkpoint holding only what playing needs (the model config
  and its weights in fp16, the run's config and precision; no optimiser or random states),
  read by ``agents.reinforce.load`` with ``torch.load(weights_only=True)`` like any run's;
- ``ENV_ID.json``, its sidecar: the file's SHA-256, the run's config and the command that
  trained it, the score the packed weights get on the test split (measured by
  ``agents.evaluation.score_run``, the path ``train.py --eval`` takes), the source
  checkpoint's path and SHA-256, the torch version and the date.

    python -m agents.pretrained list
    python -m agents.pretrained pack RUN/best.pt --env GlimpseMNIST-v0 --command "python ..."
    python train.py --eval pretrained:GlimpseMNIST-v0 --split test

``resolve("pretrained:ENV_ID")`` checks the file against its sidecar's hash before it is
used. ``$RAM_ENV_PRETRAINED_DIR`` names another folder of agents (packing to try one out,
the tests). No torch at module level: ``list`` and ``resolve`` need none.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agents.cli_common import positive_int
from ram_env.atomic import write_json_atomic
from ram_env.data import SPLITS

PREFIX = "pretrained:"
DIR_VARIABLE = "RAM_ENV_PRETRAINED_DIR"
PACKAGED_DIR = Path(__file__).resolve().parent / "pretrained_models"
SIDECAR_FORMAT = "ram-env-pretrained"
SIDECAR_VERSION = 1
SIDECAR_KEYS = ("format", "version", "id", "file", "sha256", "scores", "command", "config")
# What playing a packed agent needs; the rest of a training checkpoint stays behind.
KEPT_ENTRIES = ("algo", "track", "config", "precision", "model_config")


class PretrainedError(RuntimeError):
    """A shipped agent is unknown, missing, altered, or cannot be packed."""


def models_dir() -> Path:
    """The folder of shipped agents: ``$RAM_ENV_PRETRAINED_DIR``, else the package's own."""
    override = os.environ.get(DIR_VARIABLE)
    return Path(override).expanduser() if override else PACKAGED_DIR


def is_pretrained(target: str | os.PathLike) -> bool:
    """Whether an ``--eval`` target names a shipped agent (``pretrained:ENV_ID``)."""
    return str(target).startswith(PREFIX)


def pretrained_id(target: str) -> str:
    """The env id of ``pretrained:ENV_ID``."""
    if not is_pretrained(target):
        raise PretrainedError(f"{target!r} does not name a shipped agent ({PREFIX}ENV_ID)")
    return target[len(PREFIX) :]


def shipped_ids(directory: Path | None = None) -> list[str]:
    """The env ids with a shipped agent (a sidecar) in ``directory`` (``models_dir()``)."""
    directory = models_dir() if directory is None else Path(directory)
    if not directory.is_dir():
        return []
    return sorted(path.stem for path in directory.glob("*.json") if not path.name.startswith("."))


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file's bytes, as hex."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _unknown(env_id: str, directory: Path) -> PretrainedError:
    shipped = shipped_ids(directory)
    listed = ", ".join(shipped) if shipped else "none yet"
    return PretrainedError(
        f"no trained agent is shipped for {env_id!r} (in {directory}); shipped: {listed}"
    )


def read_sidecar(env_id: str, directory: Path | None = None) -> dict[str, Any]:
    """The sidecar of the agent shipped for ``env_id``, checked for its entries."""
    directory = models_dir() if directory is None else Path(directory)
    if env_id not in shipped_ids(directory):
        raise _unknown(env_id, directory)
    path = directory / f"{env_id}.json"
    try:
        sidecar = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PretrainedError(f"cannot read the sidecar {path}: {error}") from error
    if not isinstance(sidecar, dict) or sidecar.get("format") != SIDECAR_FORMAT:
        raise PretrainedError(f"{path} is not a ram-env pretrained-agent sidecar")
    missing = [key for key in SIDECAR_KEYS if key not in sidecar]
    if missing:
        raise PretrainedError(f"the sidecar {path} lacks the entries {missing}")
    if sidecar["id"] != env_id or sidecar["file"] != f"{env_id}.pt":
        raise PretrainedError(
            f"the sidecar {path} describes {sidecar['id']!r} ({sidecar['file']}), not {env_id!r}"
        )
    return sidecar


def resolve(target: str, directory: Path | None = None) -> Path:
    """The checkpoint file of ``pretrained:ENV_ID``, after checking its SHA-256 against the
    sidecar's; ``PretrainedError`` saying what is wrong (unknown id, missing file, altered)."""
    directory = models_dir() if directory is None else Path(directory)
    env_id = pretrained_id(target)
    sidecar = read_sidecar(env_id, directory)
    path = directory / sidecar["file"]
    if not path.is_file():
        raise PretrainedError(f"{path} is missing, though its sidecar {env_id}.json is there")
    actual = sha256_of(path)
    if actual != sidecar["sha256"]:
        raise PretrainedError(
            f"{path} does not match its sidecar: sha256 {actual}, the sidecar says "
            f"{sidecar['sha256']} (altered or damaged; reinstall the package or pack it again)"
        )
    return path


# --------------------------------------------------------------------------- packing


def _fp16_weights(weights: dict[str, Any]) -> dict[str, Any]:
    """The model's floating-point tensors in fp16 (other tensors as they are); refused where
    a finite weight is beyond fp16's range and would become infinite."""
    import torch

    packed = {}
    for name, tensor in weights.items():
        if isinstance(tensor, torch.Tensor) and tensor.is_floating_point():
            half = tensor.detach().to(torch.float16)
            if not torch.equal(torch.isfinite(half), torch.isfinite(tensor)):
                raise PretrainedError(
                    f"weight {name} holds values beyond fp16's range (|x| > 65504); "
                    "it cannot be shipped in fp16"
                )
            packed[name] = half
        else:
            packed[name] = tensor
    return packed


def pack(
    checkpoint_path: str | os.PathLike,
    env_id: str,
    *,
    command: str,
    split: str = "test",
    mc: Sequence[int] = (1,),
    out_dir: str | os.PathLike | None = None,
    device: str = "cpu",
) -> dict[str, Any]:
    """Ship the REINFORCE run ``checkpoint_path`` (its ``best.pt``) as the agent for
    ``env_id``: write ``ENV_ID.pt`` (fp16 weights, what playing needs) to ``out_dir``
    (``models_dir()``), score that file on ``split`` with each path count of ``mc`` as
    ``train.py --eval`` would, and write the sidecar ``ENV_ID.json``; return the sidecar.
    ``command`` is the command that trained the run, recorded for users to rerun."""
    import torch

    import ram_env
    from agents.checkpoint import load_checkpoint, save_checkpoint
    from agents.evaluation import score_run

    if env_id not in ram_env.ALL_ENV_IDS:
        known = ", ".join(ram_env.ALL_ENV_IDS)
        raise PretrainedError(f"{env_id!r} is not a registered env id; known: {known}")
    if not command.strip():
        raise PretrainedError("the command that trained the run is needed (--command)")
    if not mc or any(int(count) < 1 for count in mc):
        raise PretrainedError(f"path counts must be positive integers, got {list(mc)}")
    source = Path(checkpoint_path)
    checkpoint = load_checkpoint(source)
    if checkpoint["algo"] != "reinforce":
        raise PretrainedError(
            f"{source} is a {checkpoint['algo']!r} run; shipped agents are REINFORCE runs"
        )
    trained_on = checkpoint["config"].get("env_id")
    if trained_on != env_id:
        raise PretrainedError(f"{source} trained on {trained_on!r}, not on {env_id!r}")
    out_dir = models_dir() if out_dir is None else Path(out_dir)
    packed = {key: checkpoint[key] for key in KEPT_ENTRIES if key in checkpoint}
    packed["model"] = _fp16_weights(checkpoint["model"])
    packed["weights_dtype"] = "float16"
    final = out_dir / f"{env_id}.pt"
    staged = out_dir / f".{env_id}.packing.pt"  # scored before it replaces a shipped agent
    try:
        save_checkpoint(staged, packed)
        scores = []
        for count in mc:
            scored = score_run(staged, split, mc=int(count), device=device)
            scores.append(
                {
                    "split": split,
                    "n": scored.result.n,
                    "mc": scored.result.mc,
                    "accuracy": scored.result.accuracy,
                    "error": scored.result.error,
                    "seed": scored.seed,
                    "precision": scored.loaded.details.get("precision"),
                }
            )
        os.replace(staged, final)
    finally:
        staged.unlink(missing_ok=True)
    sidecar = {
        "format": SIDECAR_FORMAT,
        "version": SIDECAR_VERSION,
        "id": env_id,
        "file": final.name,
        "sha256": sha256_of(final),
        "bytes": final.stat().st_size,
        "weights_dtype": "float16",
        "metric": "catch rate" if env_id in ram_env.CATCH_ENV_IDS else "accuracy",
        "scores": scores,
        "command": command,
        "config": checkpoint["config"],
        "precision": checkpoint.get("precision"),
        "source": {  # the run's checkpoint: its name (a path here means nothing elsewhere)
            "file": source.name,
            "sha256": sha256_of(source),
            "progress": checkpoint.get("progress"),
        },
        "torch_version": torch.__version__,
        "packed_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    write_json_atomic(out_dir / f"{env_id}.json", sidecar)
    return sidecar


# --------------------------------------------------------------------------- command line


def describe(sidecar: dict[str, Any]) -> str:
    """One line per score of a shipped agent, for ``list``."""
    lines = []
    for score in sidecar["scores"]:
        paths = "one path" if score["mc"] == 1 else f"mc {score['mc']}"
        if sidecar.get("metric") == "catch rate":
            figure = f"catch rate {score['accuracy']:.2f}%"
        else:
            figure = f"error {score['error']:.2f}%"
        lines.append(f"{score['split']} {figure} ({paths}, {score['n']} episodes)")
    return "; ".join(lines)


def _list(directory: Path) -> int:
    ids = shipped_ids(directory)
    if not ids:
        print(f"no trained agents shipped yet (in {directory})")
        return 0
    failed = 0
    for env_id in ids:
        try:
            resolve(PREFIX + env_id, directory)
            sidecar = read_sidecar(env_id, directory)
        except PretrainedError as error:
            print(f"{env_id}: NOT USABLE: {error}")
            failed += 1
            continue
        print(f"{env_id}: {describe(sidecar)}")
        print(f"    try it: python train.py --eval {PREFIX}{env_id} --split test")
        print(f"    trained by: {sidecar['command']}")
    return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m agents.pretrained", description="Trained agents shipped with ram-env."
    )
    parser.add_argument(
        "--dir",
        type=Path,
        default=None,
        help=f"folder of shipped agents (default: ${DIR_VARIABLE}, else the package's own)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="the shipped agents, their hashes checked, their scores")
    packing = commands.add_parser(
        "pack", help="ship a REINFORCE run's checkpoint as the agent for an env id"
    )
    packing.add_argument("checkpoint", type=Path, help="the run's best.pt")
    packing.add_argument("--env", required=True, help="the env id it plays (its name)")
    packing.add_argument(
        "--command", dest="train_command", required=True, help="the command that trained it"
    )
    packing.add_argument(
        "--split", choices=SPLITS, default="test", help="split scored into the sidecar"
    )
    packing.add_argument(
        "--mc", type=positive_int, nargs="+", default=[1], help="path counts scored (e.g. 1 10)"
    )
    packing.add_argument("--device", default="cpu", help="device it is scored on")
    packing.add_argument(
        "--threads", type=positive_int, default=None, help="torch threads for scoring"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    directory = models_dir() if args.dir is None else args.dir
    if args.command == "list":
        return _list(directory)
    from agents.checkpoint import CheckpointError
    from ram_env.data import DataError

    try:
        if args.threads is not None:
            import torch

            torch.set_num_threads(args.threads)
        sidecar = pack(
            args.checkpoint,
            args.env,
            command=args.train_command,
            split=args.split,
            mc=args.mc,
            out_dir=directory,
            device=args.device,
        )
    except (PretrainedError, CheckpointError, DataError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {directory / sidecar['file']} ({sidecar['bytes']} bytes) and its sidecar")
    print(f"{sidecar['id']}: {describe(sidecar)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
