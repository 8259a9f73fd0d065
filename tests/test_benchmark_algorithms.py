"""``python -m benchmarks.algorithms``: the runner (parallel, reuse), ``--plan`` and ``--report``
(the page and plots rebuilt from records alone). No training: made-up records, and a
stand-in for ``train.py`` (``tests/test_benchmark_runs.py``)."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import pytest
from PIL import Image

from benchmarks import aggregate, algorithms
from benchmarks.benchmark_report import target_text
from benchmarks.compute_plan import Speed, write_speeds
from benchmarks.protocol import TASK_PROTOCOLS, task_protocol
from benchmarks.run_records import CurvePoint, read_records, write_record
from tests.test_benchmark_runs import FAKE_TRAIN
from tests.test_run_records import make_record

MNIST, TRANSLATED = "GlimpseMNIST-v0", "GlimpseTranslatedMNIST-v0"


def made_up_records(records_dir, entries=("ppo-history", "dqn", "reinforce-hybrid")):
    """Three seeds of a few entries on two tasks, at the planned budgets."""
    for task in (MNIST, TRANSLATED):
        protocol = TASK_PROTOCOLS[task]
        for index, entry in enumerate(entries):
            track = "hybrid" if entry == "reinforce-hybrid" else "reward-only"
            for seed in range(3):
                accuracy = 50.0 + 15.0 * index + seed
                curve = tuple(
                    CurvePoint(steps, 1.0, accuracy * (k + 1) / protocol.curve_points)
                    for k, steps in enumerate(protocol.curve_steps())
                )
                record = make_record(
                    task=task, entry=entry, algo=entry.replace("-hybrid", ""), track=track,
                    seed=seed, budget_steps=protocol.budget_steps, test_accuracy=accuracy,
                    curve=curve, reduced_budget=protocol.reduced,
                )  # fmt: skip
                write_record(record, records_dir)


def fake_train_script(tmp_path, monkeypatch):
    """A stand-in ``train.py`` that logs its calls to ``calls.jsonl`` (no training)."""
    script = tmp_path / "fake_train.py"
    script.write_text(FAKE_TRAIN)
    monkeypatch.setenv("FAKE_CALLS", str(tmp_path / "calls.jsonl"))
    return script


def report_args(tmp_path):
    return [
        "--records-dir", str(tmp_path / "records"), "--out", str(tmp_path / "docs" / "b.md"),
        "--speed-file", str(tmp_path / "speed.json"),
    ]  # fmt: skip


def test_report_rebuilds_the_page_and_plots_from_the_records(tmp_path, monkeypatch):
    monkeypatch.setattr(aggregate, "BOOTSTRAP_REPS", 100)  # the intervals' width is not tested
    made_up_records(tmp_path / "records")
    # Records at other budgets are listed, not aggregated; a longer one explains a miss.
    other = make_record(budget_steps=100_000, test_accuracy=12.0)
    write_record(other, tmp_path / "records")
    longer_curve = (CurvePoint(3_000_192, 9.0, 70.0), CurvePoint(6_000_384, 18.0, 91.5))
    longer = make_record(budget_steps=6_000_000, test_accuracy=91.25, curve=longer_curve)
    write_record(longer, tmp_path / "records")
    assert algorithms.main(["--report", *report_args(tmp_path)]) == 0
    text = (tmp_path / "docs" / "b.md").read_text()
    assert "from 20 run record(s)" in text and "2 at a budget other than the planned one" in text
    assert "### reward only (training never reads the label)" in text
    assert "Tasks: mnist, translated" in text
    assert "| ppo-history | glimpse history (frame stack of T) | 3 |" in text
    assert "| reinforce-hybrid | RAM core (ReLU RNN) | 3 |" in text
    assert "**reduced**" in text  # the planned budgets are below the protocol's
    assert "planned with fewer to fit this machine: translated 3, cluttered60 3" in text
    assert "Target: a reward-only SB3 algorithm with memory" in text
    assert "**not met**. Best: ppo-history, 51.00%" in text
    # Why: the best one's mean curve (10.2% ... 51.0%), then its longer run.
    assert "at 400k, 800k, 1.2M, 1.6M, 2M env steps: 10.2, 20.4, 30.6, 40.8, 51.0%" in text
    assert "still rising (+10.2 points over the budget's last fifth)" in text
    assert (
        "Longer than the budget (not aggregated, not counted for the target): ppo-history at "
        "6M env steps: 91.25% test, mean of 1 run(s) (seeds 0: 91.25%); mean validation 70.0% "
        "at 3M, 91.5% at 6M."
    ) in text
    assert "| ppo-history | glimpse history (frame stack of T) | 3 |" in text  # still 3 seeds
    for plot in ("aggregate.png", "curves.png"):
        path = tmp_path / "docs" / "benchmark" / plot
        with Image.open(path) as picture:
            picture.verify()
        assert f"](benchmark/{plot})" in text
    assert not list((tmp_path / "docs" / "benchmark").glob(".*"))  # no temp files left


def test_report_refuses_seeds_of_one_algorithm_trained_with_other_settings(tmp_path, capsys):
    made_up_records(tmp_path / "records", entries=("reinforce-hybrid",))
    protocol = TASK_PROTOCOLS[MNIST]
    stale = make_record(
        task=MNIST, entry="reinforce-hybrid", algo="reinforce", track="hybrid", seed=3,
        budget_steps=protocol.budget_steps, reduced_budget=protocol.reduced,
    )  # fmt: skip
    write_record(
        replace(stale, settings={**stale.settings, "batch_size": 1024}), tmp_path / "records"
    )
    assert algorithms.main(["--report", *report_args(tmp_path)]) == 1
    error = capsys.readouterr().err
    assert "GlimpseMNIST-v0 reinforce-hybrid: seed 0 trained with batch_size=" in error
    assert "seed 3 with 1024; remove the records of the old settings" in error
    assert not (tmp_path / "docs" / "b.md").exists()


def test_report_without_records_still_shows_the_protocol_and_plan(tmp_path):
    speed = Speed(MNIST, "ppo", 20_000, 5_000.0, 6.0, 1, 1.0, "cpu", "2026-12-05")
    write_speeds(tmp_path / "speed.json", {(MNIST, "ppo"): speed})
    assert algorithms.main(["--report", *report_args(tmp_path)]) == 0
    text = (tmp_path / "docs" / "b.md").read_text()
    assert "No runs recorded yet" in text and "Not measured yet" in text
    assert "## Compute plan" in text and "| ppo | ~" in text and "not measured" in text
    assert "| ppo | 5,000 | 6 |" in text  # the speed table
    assert not (tmp_path / "docs" / "benchmark").exists()  # nothing to plot


def test_runs_go_side_by_side_and_are_reused_the_second_time(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(aggregate, "BOOTSTRAP_REPS", 100)
    script = fake_train_script(tmp_path, monkeypatch)
    argv = [
        "--tasks", "mnist", "--algos", "ppo", "a2c-history", "--seeds", "2", "--parallel", "2",
        "--runs-dir", str(tmp_path / "runs"), "--train-script", str(script),
        *report_args(tmp_path),
    ]  # fmt: skip
    assert algorithms.main(argv) == 0
    records = read_records(tmp_path / "records")
    assert sorted((r.entry, r.seed) for r in records) == [
        ("a2c-history", 0), ("a2c-history", 1), ("ppo", 0), ("ppo", 1),
    ]  # fmt: skip
    assert all(r.hardware["runs_side_by_side"] == 2 for r in records)
    assert "runs: 4 done" in capsys.readouterr().out
    calls = (tmp_path / "calls.jsonl").read_text().count("\n")
    assert algorithms.main(argv) == 0
    assert "runs: 4 reused" in capsys.readouterr().out
    assert (tmp_path / "calls.jsonl").read_text().count("\n") == calls


def test_budget_times_trains_longer_and_records_apart(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(aggregate, "BOOTSTRAP_REPS", 100)
    script = fake_train_script(tmp_path, monkeypatch)
    argv = [
        "--tasks", "mnist", "--algos", "ppo", "--seeds", "1", "--budget-times", "3",
        "--runs-dir", str(tmp_path / "runs"), "--train-script", str(script),
        *report_args(tmp_path),
    ]  # fmt: skip
    assert algorithms.main(argv) == 0
    (record,) = read_records(tmp_path / "records")
    assert record.budget_steps == 3 * TASK_PROTOCOLS[MNIST].budget_steps
    assert record.file_name == "mnist-ppo-seed0-6M.json"
    assert (tmp_path / "runs" / "mnist" / "ppo-seed0-6M").is_dir()
    assert "--total-timesteps 6000000" in " ".join(record.command)
    assert "--curve-every 1200000" in " ".join(record.command)
    text = (tmp_path / "docs" / "b.md").read_text()
    assert "1 at a budget other than the planned one" in text
    assert "No runs recorded yet" in text or "No complete runs yet" in text  # not aggregated


def test_hours_start_only_the_runs_that_fit_and_leave_the_rest(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(aggregate, "BOOTSTRAP_REPS", 100)
    script = fake_train_script(tmp_path, monkeypatch)
    fast = Speed(MNIST, "ppo", 20_000, 1e9, 0.0, 1, 1.0, "cpu", "2026-12-05")  # ~1 min a run
    slow = Speed(MNIST, "a2c", 20_000, 100.0, 0.0, 1, 1.0, "cpu", "2026-12-05")  # ~5.6 h
    write_speeds(tmp_path / "speed.json", {(MNIST, "ppo"): fast, (MNIST, "a2c"): slow})
    argv = [
        "--tasks", "mnist", "--algos", "ppo", "a2c", "dqn", "--seeds", "1", "--hours", "1",
        "--runs-dir", str(tmp_path / "runs"), "--train-script", str(script),
        *report_args(tmp_path),
    ]  # fmt: skip
    assert algorithms.main(argv) == 0
    assert [r.entry for r in read_records(tmp_path / "records")] == ["ppo"]
    out = capsys.readouterr().out
    assert "mnist a2c seed 0: left for later" in out  # too long for the hour
    assert "mnist dqn seed 0: left for later" in out  # never measured
    assert "runs: 1 done, 2 left for later" in out


def test_plan_lists_what_is_left_in_hours(tmp_path, capsys):
    speed = Speed(MNIST, "ppo", 20_000, 5_000.0, 6.0, 1, 1.0, "cpu", "2026-12-05")
    write_speeds(tmp_path / "speed.json", {(MNIST, "ppo"): speed})
    done = replace(make_record(entry="ppo", algo="ppo"),
                   budget_steps=task_protocol("mnist").budget_steps)  # fmt: skip
    write_record(done, tmp_path / "records")
    argv = ["--plan", "--tasks", "mnist", "--algos", "ppo", "dqn", "--seeds", "3"]
    assert algorithms.main([*argv, "--parallel", "2", *report_args(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "ppo" in out and "2 run(s) to do" in out  # seed 0 is recorded
    assert "dqn" in out and "not measured" in out
    assert "5 run(s) to do" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--tasks", "cifar"], "unknown task 'cifar'"),
        (["--parallel", "0"], "--parallel must be at least 1"),
        (["--hours", "0"], "--hours must be above 0"),
        (["--budget-times", "0"], "--budget-times must be at least 1"),
        (["--report", "--budget-times", "2"], "--budget-times picks runs"),
        (["--algos", "reinforce-hybrid", "--tracks", "reward-only"], "no algorithm"),
        (["--report", "--plan"], "not allowed with"),
    ],
)
def test_bad_arguments_are_refused(argv, message, capsys):
    with pytest.raises(SystemExit):
        algorithms.parse_args(argv)
    assert message in capsys.readouterr().err


def test_the_reports_import_without_matplotlib_and_plotting_then_fails():
    # matplotlib comes with the agents extra; the report modules import without it, and a
    # plot then fails loudly instead of falling back to another drawing.
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"
        "import benchmarks.algorithms, benchmarks.benchmark_report, benchmarks.paper_tables\n"
        "import benchmarks.plotting\n"
        "try:\n"
        "    benchmarks.plotting.pyplot()\n"
        "except ImportError:\n"
        "    print('no matplotlib')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "no matplotlib"


@pytest.mark.parametrize(
    ("seeds", "verdict"),
    [(5, "**met**"), (3, "**not met yet** (the mean needs all 5 planned seeds, 3 run)")],
)
def test_the_target_is_met_only_by_a_mean_over_every_planned_seed(seeds, verdict):
    protocol = TASK_PROTOCOLS[MNIST]
    records = [
        make_record(
            task=MNIST,
            entry="dqn-history",
            algo="dqn-history",
            seed=seed,
            budget_steps=protocol.budget_steps,
            test_accuracy=90.0 + seed,
            reduced_budget=protocol.reduced,
        )
        for seed in range(seeds)
    ]
    text = target_text(records, records)
    accuracies = ", ".join(f"{90.0 + seed:.2f}" for seed in range(seeds))
    assert f"env steps: {verdict}. Best: dqn-history" in text
    assert f"(mean of {seeds} run(s): {accuracies}%)" in text
    assert ("Why:" in text) == (seeds < protocol.seeds)
