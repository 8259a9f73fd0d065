"""``train.py``: flag checking, tiny end-to-end runs, resuming, evaluation, reproducibility.

Runs go through ``train.main(argv)`` in-process (fast). Tests that train or evaluate need
the real MNIST data and are marked ``mnist``.
"""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import train
from agents import precision, reinforce
from agents.checkpoint import load_checkpoint, save_checkpoint
from agents.ram_policy import RAMPolicy
from agents.registry import ALGORITHMS, get_algorithm
from agents.reinforce_config import CATCH_DEFAULTS
from agents.run_lock import run_folder_lock
from agents.settings import config_from_args, default_of, flag_of, settings_of
from agents.visualize import record_paths
from ram_env.scoring import make_eval_env, path_batches

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--batch-size", "64", "--eval-batch-size", "2500", "--no-progress", "--threads", "1"]
TIMING_COLUMNS = {"minutes", "images_per_second"}


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Small models run best on one thread, and a busy machine cannot stall it."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def run(argv: list[str]) -> int:
    return train.main([str(arg) for arg in argv])


def read_metrics(folder) -> list[dict[str, str]]:
    with (folder / "metrics.csv").open(newline="") as file:
        return list(csv.DictReader(file))


def without_timing(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{k: v for k, v in row.items() if k not in TIMING_COLUMNS} for row in rows]


# --------------------------------------------------------------------------- bad flags


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--epochs", "-1"], "positive integer"),
        (["--epochs", "0"], "positive integer"),
        (["--glimpse-size", "0"], "positive integer"),
        (["--glimpses", "two"], "positive integer"),
        (["--env", "NoSuchEnv-v0"], "unknown env id"),
        (["--lr", "abc"], "positive number"),
        (["--lr", "nan"], "positive number"),
        (["--std", "0"], "positive number"),
        (["--train-minutes", "-5"], "positive number"),
        (["--seed", "-3"], "non-negative integer"),
        (["--weight-decay", "-0.1"], "non-negative number"),
        (["--mc", "0"], "positive integer"),
        (["--core", "cnn"], "invalid choice"),
        (["--first-location", "corner"], "invalid choice"),
        (["--algo", "muzero"], "invalid choice"),
        (["--device", "tpu:9"], "device"),
        (["--batch-size", "100", "--num-envs", "30"], "not a multiple"),
        (["--resume"], "needs --out"),
        (["--plot-glimpses", "x.gif"], "needs --eval"),
        (["--algo", "ppo", "--core", "lstm"], "--core does not apply to --algo ppo"),
        (["--algo", "a2c", "--batch-size", "64"], "--batch-size does not apply to --algo a2c"),
        (["--algo", "dqn", "--epochs", "3"], "--epochs does not apply to --algo dqn"),
        (["--reward", "dense"], "--reward does not apply to --algo reinforce"),
        (["--hyperparams", "{}"], "--hyperparams does not apply to --algo reinforce"),
        (["--algo", "dqn", "--action-type", "box"], "dqn cannot use action type 'box'"),
        (["--eval", "x.pt", "--resume"], "--resume does not apply to --eval"),
        (["--split", "validation"], "--split applies to --eval only"),
        (["--mc", "3"], "--mc applies to --eval, or to training with --test"),
        (["--eval", "x.pt", "--lr", "0.1"], "--lr does not apply to --eval"),
        (["--eval", "x.pt", "--algo", "ppo"], "--algo does not apply to --eval"),
        (
            ["--algo", "recurrent-ppo", "--lr", "1e-4", "--hyperparams", '{"learning_rate": 1}'],
            "--lr and --hyperparams both set learning_rate",
        ),
    ],
)
def test_bad_flags_are_rejected_with_a_message(flags, message, capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        run(flags + ["--out", tmp_path / "run"] if "--resume" not in flags else flags)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    "algo, shown, hidden",
    [
        ("ppo", ["--total-timesteps", "--hyperparams", "--lr", "ppo: PPO"], ["--location-weight"]),
        ("recurrent-ppo", ["--core", "--hidden-size", "supervised_coef"], ["--std", "--epochs"]),
        ("reinforce", ["--location-weight", "--std", "--epochs"], ["--hyperparams", "--reward"]),
    ],
)
def test_algo_help_shows_that_algorithms_own_settings(algo, shown, hidden, capsys):
    with pytest.raises(SystemExit):
        run(["--algo", algo, "--help"])
    text = capsys.readouterr().out
    for flag in shown:
        assert flag in text, flag
    for flag in hidden:
        assert flag not in text, flag


def test_a_setting_shared_by_two_algorithms_is_one_flag():
    """Configs that share a setting name give it the same flag, type and choices, so the
    one flag the parser makes for it parses the same for every algorithm."""
    seen: dict[str, tuple] = {}
    for algorithm in ALGORITHMS.values():
        for field in settings_of(algorithm.config_class()):
            meta = field.metadata
            spelled = (flag_of(field), meta["type"], meta["choices"], field.type == "bool")
            assert seen.setdefault(field.name, spelled) == spelled, (algorithm.name, field.name)


@pytest.mark.parametrize("algo", sorted(ALGORITHMS))
def test_every_algorithm_parses_its_defaults_into_its_config(algo):
    parser = train.build_parser(algo)
    args = parser.parse_args(["--algo", algo])
    config_class = get_algorithm(algo).config_class()
    config = config_from_args(config_class, args, algo=algo)
    for field in settings_of(config_class):
        assert getattr(config, field.name) == default_of(field), field.name


def test_help_imports_neither_torch_nor_sb3():
    """``--help`` builds the parser from torch-free modules (so it starts at once)."""
    script = (
        "import sys, runpy; sys.argv = ['train.py', '--help']\n"
        "try:\n    runpy.run_path('train.py', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "heavy = ('torch', 'stable_baselines3', 'sb3_contrib', 'tqdm')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & set(heavy)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "--algo" in result.stdout and result.stdout.splitlines()[-1] == "[]"


@pytest.mark.parametrize(
    "algo, flags, hyperparams",
    [
        ("ppo", ["--lr", "1e-4", "--lr-schedule", "linear"], {"learning_rate": 1e-4}),
        ("recurrent-ppo", ["--core", "gru", "--hidden-size", "32"], {}),
    ],
)
def test_reinforce_flags_an_sb3_algorithm_reads_are_passed_on(algo, flags, hyperparams):
    parser = train.build_parser(algo)
    argv = ["--algo", algo, *flags]
    args = parser.parse_args(argv)
    train.refuse_unread_flags(parser, args, train.typed_options(parser, args, argv))
    config_class = get_algorithm(algo).config_class()
    overrides = replace(config_from_args(config_class, args), algo=algo).overrides()
    assert hyperparams.items() <= overrides.items()
    if algo == "ppo":
        assert overrides["lr_schedule"] == "linear"
    else:
        assert overrides["policy_kwargs"] == {"core": "gru", "hidden_size": 32}


@pytest.mark.mnist
def test_an_sb3_run_records_the_learning_rate_it_was_given(tmp_path):
    out = tmp_path / "run"
    flags = ["--algo", "a2c", "--lr", "2e-4", "--total-timesteps", "64", "--val-images", "0"]
    assert run([*flags, "--out", out, "--no-progress", "--threads", "1"]) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["hyperparams"]["learning_rate"] == 2e-4


def test_a_file_that_is_no_checkpoint_is_a_clear_error(capsys, tmp_path):
    (tmp_path / "notes.pt").write_text("hello")
    assert run(["--eval", tmp_path / "notes.pt"]) == 2
    assert "not a checkpoint" in capsys.readouterr().err


def test_missing_checkpoint_is_a_clear_error(capsys, tmp_path):
    assert run(["--eval", tmp_path / "nope.pt"]) == 2
    err = capsys.readouterr().err
    assert "checkpoint not found" in err and "Traceback" not in err


def test_corrupt_checkpoint_is_a_clear_error(capsys, tmp_path):
    path = tmp_path / "best.pt"
    path.write_bytes(b"PK\x03\x04 definitely not a zip")
    assert run(["--eval", path]) == 2
    err = capsys.readouterr().err
    assert "cannot read checkpoint" in err and "Traceback" not in err


def test_checkpoint_of_another_shape_is_a_clear_error(capsys, tmp_path):
    model = reinforce.RecurrentAttentionModel(reinforce.RAMConfig(1, 8, 10))
    path = save_checkpoint(
        tmp_path / "best.pt",
        {
            "algo": "reinforce",
            "config": reinforce.ReinforceConfig().to_dict(),
            "model_config": {**model.config.to_dict(), "hidden_size": 64},
            "model": model.state_dict(),
        },
    )
    assert run(["--eval", path]) == 2
    assert "does not fit" in capsys.readouterr().err


# --------------------------------------------------------------------------- real runs


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """One tiny training run shared by the tests that only read its outputs."""
    out = tmp_path_factory.mktemp("tiny")
    assert run(["--max-images", 256, "--out", out, *TINY]) == 0
    return out


@pytest.mark.mnist
def test_tiny_run_writes_metrics_and_checkpoints(tiny_run):
    rows = read_metrics(tiny_run)
    assert len(rows) == 1 and rows[0]["images"] == "256" and rows[0]["epoch"] == "1"
    assert 0.0 <= float(rows[0]["val_accuracy"]) <= 100.0
    for name in ("last.pt", "best.pt"):
        checkpoint = torch.load(tiny_run / name, weights_only=True)
        assert checkpoint["config"]["max_images"] == 256
        assert checkpoint["track"] == "hybrid"  # the default --loss reads the label
        assert checkpoint["progress"]["updates"] == 4
        assert isinstance(checkpoint["rng"]["torch"], torch.Tensor)


@pytest.mark.mnist
def test_eval_writes_json(tiny_run, capsys):
    assert run(["--eval", tiny_run / "best.pt", "--split", "test", "--mc", 2]) == 0
    report = json.loads((tiny_run / "eval-test.json").read_text())
    assert report["n"] == 10000 and report["mc"] == 2
    assert report["error"] == pytest.approx(100.0 - report["accuracy"])
    assert "test error" in capsys.readouterr().out


@pytest.mark.mnist
def test_auto_trains_an_lstm_in_bf16_and_eval_plays_it_so(tmp_path, monkeypatch):
    """On a CPU with bf16 products, ``auto`` runs the LSTM core in bf16 (the RNN in fp32);
    the checkpoint records it and ``--eval`` plays in it unless asked otherwise."""
    monkeypatch.setattr(precision, "cpu_runs_bf16_natively", lambda: True)
    for core, expected in (("lstm", "bf16"), ("rnn", "fp32")):
        out = tmp_path / core
        assert run(["--max-images", 128, "--out", out, "--core", core, *TINY]) == 0
        assert torch.load(out / "best.pt", weights_only=True)["precision"] == expected
        assert run(["--eval", out / "best.pt", "--split", "validation"]) == 0
        assert json.loads((out / "eval-validation.json").read_text())["precision"] == expected


@pytest.mark.mnist
def test_compile_flag_compiles_the_step(tmp_path, monkeypatch):
    compiled = []
    monkeypatch.setattr(reinforce, "compile_step", lambda model, device: compiled.append(device))
    assert run(["--max-images", 64, "--out", tmp_path / "plain", *TINY]) == 0
    assert compiled == []
    assert run(["--max-images", 64, "--out", tmp_path / "compiled", "--compile", *TINY]) == 0
    assert compiled == ["cpu"]


@pytest.mark.mnist
def test_eval_plays_in_the_precision_asked(tiny_run):
    """An fp32 checkpoint scored in bf16: the report says so, and the score stays close
    (the same checkpoint, matrix products rounded to bfloat16)."""
    flags = ["--eval", tiny_run / "best.pt", "--split", "validation"]
    assert run(flags) == 0
    full = json.loads((tiny_run / "eval-validation.json").read_text())
    assert run([*flags, "--precision", "bf16"]) == 0
    mixed = json.loads((tiny_run / "eval-validation.json").read_text())
    assert (full["precision"], mixed["precision"]) == ("fp32", "bf16")
    assert abs(full["accuracy"] - mixed["accuracy"]) < 2.0


@pytest.mark.mnist
def test_eval_flags_that_apply_are_used(tiny_run, capsys):
    """``--glimpses``/``--seed`` change what is scored and are recorded; ``--env`` too,
    and an env whose glimpses do not fit the model is a clear error, not a silent MNIST."""
    flags = ["--eval", tiny_run / "best.pt", "--split", "validation"]
    assert run([*flags, "--glimpses", 2, "--seed", 5]) == 0
    report = json.loads((tiny_run / "eval-validation.json").read_text())
    assert report["env_kwargs"] == {"num_glimpses": 2} and report["seed"] == 5
    assert run([*flags, "--env", "GlimpseTranslatedMNIST-v0"]) == 2
    assert "the model expects glimpses (1, 8, 8)" in capsys.readouterr().err


@pytest.mark.mnist
def test_eval_keeps_each_path_count(tiny_run):
    assert run(["--eval", tiny_run / "best.pt", "--split", "test"]) == 0
    assert run(["--eval", tiny_run / "best.pt", "--split", "test", "--mc", 2]) == 0
    one_path = json.loads((tiny_run / "eval-test-best-mc1.json").read_text())
    two_paths = json.loads((tiny_run / "eval-test-best-mc2.json").read_text())
    latest = json.loads((tiny_run / "eval-test.json").read_text())
    assert (one_path["mc"], two_paths["mc"]) == (1, 2)
    assert latest == two_paths


@pytest.mark.mnist
def test_plot_glimpses(tiny_run):
    """The .png is one row per digit of its T frames, 4 white pixels apart; each frame is the
    one ``record_paths`` draws for that digit (the first locations ``--eval`` uses), and the
    last is labelled at its top left, green when the prediction is right, red when wrong."""
    picture = tiny_run / "paths.png"
    flags = ["--split", "validation", "--plot-glimpses", picture, "--plot-count", 2]
    assert run(["--eval", tiny_run / "last.pt", *flags]) == 0
    checkpoint = load_checkpoint(tiny_run / "last.pt")
    config = reinforce.ReinforceConfig.from_dict(checkpoint["config"])
    policy = RAMPolicy(reinforce.load_model(checkpoint))
    frames, outcomes = record_paths(
        policy, config.env_id, "validation", [0, 1], config.seed, **config.env_kwargs()
    )
    with Image.open(picture) as image:
        grid = np.asarray(image.convert("RGB"))
    height, width = frames[0][0].shape[:2]
    steps = len(frames[0])
    assert steps == 6  # the env's glimpses: one frame each
    assert grid.shape == (2 * height + 4, steps * width + (steps - 1) * 4, 3)
    assert (grid[height : height + 4] == 255).all()  # the gap between the two rows
    for row, (digit, (label, prediction)) in enumerate(zip(frames, outcomes, strict=True)):
        top = row * (height + 4)
        for t, frame in enumerate(digit):
            left = t * (width + 4)
            shown = grid[top : top + height, left : left + width]
            if t < steps - 1:
                np.testing.assert_array_equal(shown, frame)
                continue
            changed = (shown != frame).any(-1)
            assert changed.any() and not changed[24:].any()  # the label, at the top only
            text = shown[changed].astype(int)
            greener = float((text[:, 1] > text[:, 0]).mean())
            assert (greener > 0.5) == (label == prediction), (label, prediction, greener)


@pytest.mark.mnist
def test_existing_run_needs_resume(tiny_run, capsys):
    with pytest.raises(SystemExit):
        run(["--max-images", 256, "--out", tiny_run, *TINY])
    assert "--resume" in capsys.readouterr().err


@pytest.mark.mnist
def test_a_run_folder_in_training_is_refused_to_a_second_process(tiny_run, capsys):
    checkpoint = tiny_run / "last.pt"
    before = checkpoint.stat().st_mtime_ns
    with run_folder_lock(tiny_run):  # as a live training process holds it
        assert run(["--out", tiny_run, "--resume", "--max-images", 512, *TINY]) == 2
    assert f"another process is training in {tiny_run}" in capsys.readouterr().err
    assert checkpoint.stat().st_mtime_ns == before


@pytest.mark.mnist
def test_resume_refuses_a_changed_setting(tiny_run, capsys):
    with pytest.raises(SystemExit):
        run(["--out", tiny_run, "--resume", "--lr", "0.5", *TINY])
    assert "differs from the checkpoint" in capsys.readouterr().err


def _resume(stored: reinforce.ReinforceConfig, argv: list[str]) -> reinforce.ReinforceConfig:
    """The config ``train.py --resume ARGV`` would carry on a run saved with ``stored``."""
    argv = ["--resume", "--out", "run", *argv]
    parser = train.build_parser()
    args = parser.parse_args(argv)
    typed = train.typed_options(parser, args, argv)
    given = config_from_args(reinforce.ReinforceConfig, args)
    return train.resumed_config(stored, given, typed, parser)


def test_resume_takes_typed_run_length_and_device_even_at_their_defaults(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    stored = reinforce.ReinforceConfig(epochs=600, device="cuda", threads=1, lr=3e-3)
    resumed = _resume(stored, ["--device", "cpu", "--epochs", "200", "--threads", "2"])
    assert (resumed.device, resumed.epochs, resumed.threads) == ("cpu", 200, 2)
    assert resumed.lr == 3e-3  # the run's own settings stay
    kept = _resume(reinforce.ReinforceConfig(epochs=600), [])
    assert kept.epochs == 600  # not typed: the checkpoint's


def test_resuming_a_gpu_run_without_cuda_says_how(monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(SystemExit):
        _resume(reinforce.ReinforceConfig(device="cuda"), [])
    assert "add --device cpu" in capsys.readouterr().err


@pytest.mark.mnist
def test_same_seed_same_metrics_and_exact_resume_after_sigint(tmp_path, monkeypatch):
    straight, interrupted = tmp_path / "straight", tmp_path / "interrupted"
    assert run(["--max-images", 384, "--out", straight, *TINY]) == 0
    assert run(["--max-images", 384, "--out", tmp_path / "again", *TINY]) == 0
    assert without_timing(read_metrics(straight)) == without_timing(
        read_metrics(tmp_path / "again")
    )

    real_update, calls = reinforce.update, []

    def update_then_ctrl_c(*args, **kwargs):
        calls.append(1)
        stats = real_update(*args, **kwargs)
        if len(calls) == 2:
            signal.raise_signal(signal.SIGINT)  # as if Ctrl-C were pressed now
        return stats

    monkeypatch.setattr(reinforce, "update", update_then_ctrl_c)
    assert run(["--max-images", 384, "--out", interrupted, *TINY]) == 130
    assert load_checkpoint(interrupted / "last.pt")["progress"]["updates"] == 2
    monkeypatch.setattr(reinforce, "update", real_update)
    assert run(["--out", interrupted, "--resume", *TINY]) == 0
    final = [load_checkpoint(folder / "last.pt") for folder in (straight, interrupted)]
    assert final[1]["progress"]["updates"] == 6
    for name, tensor in final[0]["model"].items():
        assert torch.equal(tensor, final[1]["model"][name]), name
    assert [row["images"] for row in read_metrics(interrupted)] == ["128", "384"]


@pytest.mark.mnist
def test_random_locations_run_end_to_end(tmp_path, capsys):
    """``--locations random`` trains, is stored in the checkpoint and is evaluated as such."""
    out = tmp_path / "random"
    assert run(["--max-images", 128, "--locations", "random", "--out", out, *TINY]) == 0
    checkpoint = torch.load(out / "best.pt", weights_only=True)
    assert checkpoint["model_config"]["locations"] == "random"
    assert run(["--eval", out / "best.pt", "--split", "validation"]) == 0
    assert "validation error" in capsys.readouterr().out


@pytest.mark.mnist
def test_centre_first_location_trains_and_is_evaluated_as_such(tmp_path, capsys):
    """``--first-location center`` reaches the env in training, the checkpoint and ``--eval``."""
    out = tmp_path / "centre"
    flags = ["--max-images", 128, "--glimpses", 2, "--first-location", "center"]
    assert run([*flags, "--out", out, *TINY]) == 0
    checkpoint = load_checkpoint(out / "best.pt")
    config = reinforce.ReinforceConfig.from_dict(checkpoint["config"])
    assert config.env_kwargs() == {"num_glimpses": 2, "first_location": "center"}
    env = make_eval_env(config.env_id, "validation", 50, **config.env_kwargs())
    policy = RAMPolicy(reinforce.load_model(checkpoint))
    batch = next(path_batches(policy, env, paths=1, seed=3))
    assert np.array_equal(batch.first_locations, np.zeros((50, 2)))
    assert run(["--eval", out / "best.pt", "--split", "validation"]) == 0
    assert "validation error" in capsys.readouterr().out


def test_checkpoints_from_before_first_location_keep_the_random_first_glimpse():
    stored = reinforce.ReinforceConfig().to_dict()
    del stored["first_location"]
    assert "first_location" not in reinforce.ReinforceConfig.from_dict(stored).env_kwargs()


# --------------------------------------------------------------------------- Catch


CATCH_TINY = ["--env", "GlimpseCatch-v0", "--hidden-size", "32", "--no-progress", "--threads", "1"]


@pytest.fixture(scope="module")
def catch_run(tmp_path_factory):
    """A tiny REINFORCE run on GlimpseCatch-v0 with Catch's own defaults (no MNIST needed)."""
    out = tmp_path_factory.mktemp("catch")
    flags = ["--max-images", 256, "--batch-size", 128, "--eval-batch-size", 2500]
    assert run([*CATCH_TINY, *flags, "--out", out]) == 0
    return out


def test_catch_trains_with_its_own_defaults(catch_run, capsys):
    checkpoint = load_checkpoint(catch_run / "last.pt")
    config = checkpoint["config"]
    assert config["core"] == "lstm" and config["loss"] == "reinforce"
    assert config["batch_size"] == 128  # typed: kept
    assert config["entropy_weight"] == CATCH_DEFAULTS["entropy_weight"]
    assert checkpoint["model_config"]["num_classes"] == 3  # the moves
    rows = read_metrics(catch_run)
    assert rows[-1]["images"] == "256" and 0 <= float(rows[-1]["val_accuracy"]) <= 100


def test_catch_defaults_are_printed_and_shown_in_help(tmp_path, capsys):
    with pytest.raises(SystemExit):
        run(["--help"])
    assert "GlimpseCatch-v0 the defaults are" in capsys.readouterr().out
    flags = ["--max-images", 64, "--batch-size", 64, "--eval-batch-size", 5000]
    assert run([*CATCH_TINY, *flags, "--out", tmp_path / "run"]) == 0
    printed = capsys.readouterr().err
    line = printed.split("GlimpseCatch-v0 defaults: ")[1].splitlines()[0]
    assert "core='lstm'" in line and "loss='reinforce'" in line
    assert "batch_size" not in line  # typed: not replaced


def test_catch_eval_reports_the_catch_rate_and_draws_games(catch_run, capsys):
    picture = catch_run / "games.gif"
    flags = ["--split", "test", "--plot-glimpses", picture, "--plot-count", 2]
    assert run(["--eval", catch_run / "best.pt", *flags]) == 0
    out = capsys.readouterr().out
    assert "test catch rate" in out and "10000 games" in out
    report = json.loads((catch_run / "eval-test.json").read_text())
    assert report["n"] == 10_000 and report["per_class_accuracy"] == []
    with Image.open(picture) as image:
        assert image.n_frames == 24  # 23 glimpses and the ball in the bottom row
    assert run(["--eval", catch_run / "best.pt", "--mc", 2]) == 2
    assert "nothing to average" in capsys.readouterr().err


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--loss", "hybrid"], "has no labels"),
        (["--glimpses", "5"], "--glimpses does not apply"),
    ],
)
def test_catch_refuses_what_it_cannot_run(flags, message, tmp_path, capsys):
    with pytest.raises(SystemExit):
        run([*CATCH_TINY, *flags, "--out", tmp_path / "run"])
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("algo", ["recurrent-ppo", "ppo"])
def test_sb3_agents_play_catch(algo, tmp_path, capsys):
    """The RAM recurrent policy under RecurrentPPO (LSTM core, moves scored every step, no
    supervised step) and the feed-forward glimpse agent, end to end."""
    out = tmp_path / algo
    flags = ["--total-timesteps", 800, "--num-envs", 8, "--val-images", 100]
    flags += ["--hidden-size", 32] if algo == "recurrent-ppo" else []
    assert run(["--algo", algo, *CATCH_TINY[:2], *flags, "--no-progress", "--out", out]) == 0
    config = json.loads((out / "config.json").read_text())
    if algo == "recurrent-ppo":
        assert config["policy_kwargs"]["core"] == "lstm"
        assert config["policy_kwargs"]["classify_steps"] == "all"
        assert config["hyperparams"]["supervised_coef"] == 0.0
    assert config["num_glimpses"] == 23
    assert run(["--eval", out, "--split", "validation"]) == 0
    assert "validation catch rate" in capsys.readouterr().out
