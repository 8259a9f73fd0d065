"""``agents.pretrained``: packing a run as a shipped agent, its sidecar, the hash check, and
``train.py --eval pretrained:ID`` reproducing the sidecar's score.

A tiny Catch run (no MNIST needed) is trained in-process and packed into a temporary
folder, which ``$RAM_ENV_PRETRAINED_DIR`` (or ``directory=``) points at.
"""

from __future__ import annotations

import datetime
import json
import shlex
import shutil
from fnmatch import fnmatch
from pathlib import Path

import pytest
import torch
from PIL import Image

import train
from agents import pretrained, reinforce
from agents.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from agents.pretrained import PretrainedError

ROOT = Path(__file__).resolve().parents[1]
CATCH = "GlimpseCatch-v0"
COMMAND = "python train.py --algo reinforce --env GlimpseCatch-v0 --max-images 256"
CATCH_TINY = ["--env", CATCH, "--hidden-size", "32", "--batch-size", "128"]
CATCH_TINY += ["--max-images", "256", "--eval-batch-size", "2500", "--no-progress"]
CATCH_TINY += ["--threads", "1"]


def run(argv: list) -> int:
    return train.main([str(arg) for arg in argv])


@pytest.fixture(scope="module")
def catch_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("catch-run")
    assert run([*CATCH_TINY, "--out", out]) == 0
    return out


@pytest.fixture(scope="module")
def shipped(catch_run, tmp_path_factory) -> Path:
    """A folder of shipped agents holding the tiny Catch run, packed."""
    folder = tmp_path_factory.mktemp("shipped")
    pretrained.pack(catch_run / "best.pt", CATCH, command=COMMAND, out_dir=folder)
    return folder


@pytest.fixture
def copy_of_shipped(shipped, tmp_path) -> Path:
    """A copy to damage."""
    return Path(shutil.copytree(shipped, tmp_path / "copy"))


def test_sidecar_records_file_run_score_and_source(shipped, catch_run):
    sidecar = json.loads((shipped / f"{CATCH}.json").read_text())
    packed = shipped / f"{CATCH}.pt"
    assert sidecar["id"] == CATCH and sidecar["file"] == packed.name
    assert sidecar["sha256"] == pretrained.sha256_of(packed)
    assert sidecar["bytes"] == packed.stat().st_size
    source = load_checkpoint(catch_run / "best.pt")
    assert sidecar["config"] == source["config"] and sidecar["command"] == COMMAND
    assert sidecar["source"]["file"] == "best.pt"  # no path of the packing machine
    assert sidecar["source"]["sha256"] == pretrained.sha256_of(catch_run / "best.pt")
    assert sidecar["source"]["progress"] == source["progress"]
    (score,) = sidecar["scores"]
    assert (score["split"], score["n"], score["mc"]) == ("test", 10_000, 1)
    assert score["accuracy"] + score["error"] == pytest.approx(100.0)
    assert sidecar["metric"] == "catch rate"
    assert sidecar["torch_version"] == torch.__version__
    assert datetime.datetime.fromisoformat(sidecar["packed_at"]).tzinfo is not None
    assert [path.name for path in shipped.iterdir() if path.name.startswith(".")] == []


def test_packed_file_is_fp16_and_holds_only_what_playing_needs(shipped, catch_run):
    packed = torch.load(shipped / f"{CATCH}.pt", weights_only=True)
    source = load_checkpoint(catch_run / "best.pt")
    assert not {"optimizer", "rng", "progress"} & set(packed)
    assert packed["model_config"] == source["model_config"]
    assert packed["model"].keys() == source["model"].keys()
    for name, weight in packed["model"].items():
        assert weight.dtype == torch.float16, name
        assert torch.equal(weight, source["model"][name].half()), name
    # fp16 weights and no optimiser moments: well under a third of the training checkpoint
    size, source_size = (shipped / f"{CATCH}.pt").stat().st_size, (catch_run / "best.pt").stat()
    assert size < source_size.st_size / 3


def test_fp16_weights_load_as_the_models_fp32(shipped):
    checkpoint = load_checkpoint(shipped / f"{CATCH}.pt")
    model = reinforce.load_model(checkpoint)
    for name, value in model.state_dict().items():
        assert value.dtype == torch.float32, name
        assert torch.equal(value, checkpoint["model"][name].float()), name
    name = next(iter(checkpoint["model"]))
    checkpoint["model"][name] = checkpoint["model"][name].to(torch.int32)
    with pytest.raises(CheckpointError, match=f"{name} is torch.int32, the model's is"):
        reinforce.load_model(checkpoint)


def test_eval_pretrained_reproduces_the_sidecar_score(shipped, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(pretrained.DIR_VARIABLE, str(shipped))
    monkeypatch.chdir(tmp_path)  # the reports go to runs/pretrained/ID/ here
    picture = tmp_path / "games.png"
    flags = ["--split", "test", "--plot-glimpses", picture, "--plot-count", 1]
    assert run(["--eval", f"pretrained:{CATCH}", *flags]) == 0
    report = json.loads((tmp_path / "runs" / "pretrained" / CATCH / "eval-test.json").read_text())
    (score,) = json.loads((shipped / f"{CATCH}.json").read_text())["scores"]
    assert (report["n"], report["mc"], report["accuracy"]) == (10_000, 1, score["accuracy"])
    assert report["checkpoint"] == str(shipped / f"{CATCH}.pt")
    assert sorted(path.name for path in shipped.iterdir()) == [f"{CATCH}.json", f"{CATCH}.pt"]
    assert "sha256 verified" in capsys.readouterr().err
    with Image.open(picture) as image:
        assert image.size[0] > 0


def test_a_changed_byte_is_refused_naming_the_mismatch(copy_of_shipped, monkeypatch, capsys):
    packed = copy_of_shipped / f"{CATCH}.pt"
    data = bytearray(packed.read_bytes())
    data[len(data) // 2] ^= 0x01
    packed.write_bytes(bytes(data))
    with pytest.raises(PretrainedError, match="does not match its sidecar: sha256"):
        pretrained.resolve(f"pretrained:{CATCH}", copy_of_shipped)
    monkeypatch.setenv(pretrained.DIR_VARIABLE, str(copy_of_shipped))
    assert run(["--eval", f"pretrained:{CATCH}"]) == 2
    assert "does not match its sidecar" in capsys.readouterr().err


def test_unknown_or_missing_agents_are_clear_errors(copy_of_shipped, monkeypatch, capsys):
    with pytest.raises(PretrainedError, match=f"for 'GlimpseMNIST-v0'.*shipped: {CATCH}"):
        pretrained.resolve("pretrained:GlimpseMNIST-v0", copy_of_shipped)
    monkeypatch.setenv(pretrained.DIR_VARIABLE, str(copy_of_shipped))
    assert run(["--eval", "pretrained:../GlimpseCatch-v0"]) == 2
    assert f"shipped: {CATCH}" in capsys.readouterr().err
    (copy_of_shipped / f"{CATCH}.pt").unlink()
    with pytest.raises(PretrainedError, match="is missing, though its sidecar"):
        pretrained.resolve(f"pretrained:{CATCH}")
    with pytest.raises(PretrainedError, match="shipped: none yet"):
        pretrained.resolve(f"pretrained:{CATCH}", copy_of_shipped / "empty")


def test_list_shows_each_agent_and_how_to_try_it(shipped, copy_of_shipped, tmp_path, capsys):
    assert pretrained.main(["--dir", str(shipped), "list"]) == 0
    out = capsys.readouterr().out
    assert f"{CATCH}: test catch rate" in out
    assert f"python train.py --eval pretrained:{CATCH} --split test" in out
    assert COMMAND in out
    (copy_of_shipped / f"{CATCH}.pt").write_bytes(b"not the agent")
    assert pretrained.main(["--dir", str(copy_of_shipped), "list"]) == 1
    assert "NOT USABLE" in capsys.readouterr().out
    assert pretrained.main(["--dir", str(tmp_path / "none"), "list"]) == 0
    assert "no trained agents shipped yet" in capsys.readouterr().out


def test_pack_refuses_what_it_cannot_ship(catch_run, tmp_path, capsys):
    best = catch_run / "best.pt"
    with pytest.raises(PretrainedError, match="trained on 'GlimpseCatch-v0', not on"):
        pretrained.pack(best, "GlimpseMNIST-v0", command=COMMAND, out_dir=tmp_path)
    with pytest.raises(PretrainedError, match="not a registered env id"):
        pretrained.pack(best, "Catch-v9", command=COMMAND, out_dir=tmp_path)
    with pytest.raises(PretrainedError, match="--command"):
        pretrained.pack(best, CATCH, command=" ", out_dir=tmp_path)
    other = save_checkpoint(
        tmp_path / "a2c.pt",
        {"algo": "a2c", "config": {"env_id": CATCH}, "model_config": {}, "model": {}},
    )
    with pytest.raises(PretrainedError, match="'a2c' run; shipped agents are REINFORCE"):
        pretrained.pack(other, CATCH, command=COMMAND, out_dir=tmp_path)
    flags = ["--dir", str(tmp_path), "pack", str(best), "--env", CATCH, "--command", COMMAND]
    assert pretrained.main([*flags, "--mc", "2"]) == 2  # Catch has no posteriors to average
    assert "nothing to average" in capsys.readouterr().err
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a2c.pt"]  # nothing left


def test_weights_beyond_fp16_range_are_refused():
    with pytest.raises(PretrainedError, match="weight w holds values beyond fp16's range"):
        pretrained._fp16_weights({"w": torch.tensor([1.0, 1e6])})


def test_a_non_editable_install_ships_the_agents():
    """The agents' folder is a package of the build and its data patterns cover both files
    ``pack`` writes."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    package = pretrained.PACKAGED_DIR.relative_to(ROOT).as_posix().replace("/", ".")
    assert package in setuptools["packages"]
    patterns = setuptools["package-data"][package]
    for name in (f"{CATCH}.pt", f"{CATCH}.json"):
        assert any(fnmatch(name, pattern) for pattern in patterns), name


@pytest.mark.mnist
def test_mnist_agent_reproduces_its_sampled_paths_score(tmp_path, monkeypatch):
    """``--mc N`` of a shipped classifier reproduces the sidecar's mc-N figure."""
    out = tmp_path / "run"
    tiny = ["--max-images", 64, "--batch-size", 64, "--eval-batch-size", 2500, "--no-progress"]
    assert run([*tiny, "--threads", 1, "--out", out]) == 0
    sidecar = pretrained.pack(
        out / "best.pt", "GlimpseMNIST-v0", command="python train.py", mc=(2,), out_dir=tmp_path
    )
    monkeypatch.setenv(pretrained.DIR_VARIABLE, str(tmp_path))
    monkeypatch.chdir(tmp_path)
    assert run(["--eval", "pretrained:GlimpseMNIST-v0", "--split", "test", "--mc", 2]) == 0
    report = json.loads((tmp_path / "runs/pretrained/GlimpseMNIST-v0/eval-test.json").read_text())
    (score,) = sidecar["scores"]
    assert (score["mc"], score["n"]) == (2, 10_000) and sidecar["metric"] == "accuracy"
    assert report["accuracy"] == score["accuracy"]


def test_the_readme_one_line_command_is_a_train_py_eval_of_a_shipped_agent():
    readme = (ROOT / "README.md").read_text().split("## Try a trained agent")[1]
    line = next(line for line in readme.splitlines() if line.startswith("python train.py"))
    args = train.build_parser().parse_args(shlex.split(line)[2:])
    assert pretrained.is_pretrained(args.eval) and args.split == "test"


def test_every_agent_the_package_ships_matches_its_sidecar():
    """A file packed again without its sidecar (or the other way round) fails here, not in
    a user's ``--eval pretrained:ID``."""
    ids = sorted(path.stem for path in pretrained.PACKAGED_DIR.glob("*.json"))
    assert CATCH in ids and "GlimpseMNIST-v0" in ids
    for env_id in ids:
        assert pretrained.resolve(f"pretrained:{env_id}", pretrained.PACKAGED_DIR).exists()
