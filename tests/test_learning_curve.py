"""``agents/learning_curve.py``: validation accuracy at fixed env-step counts
(``--curve-every``), in both trainers, kept across a resume."""

from __future__ import annotations

import signal

import pytest

import train
from agents import reinforce
from agents.learning_curve import LearningCurve, read_curve

TINY = ["--batch-size", "64", "--eval-batch-size", "2500", "--no-progress", "--threads", "1"]


def run(argv) -> int:
    return train.main([str(arg) for arg in argv])


def test_points_come_at_each_multiple_passed_once(tmp_path):
    curve = LearningCurve(tmp_path, every=100)
    assert not curve.due(99) and curve.due(100)
    curve.record(130, 0.5, 40.0)
    assert not curve.due(199) and curve.due(200)
    curve.record(450, 1.0, 60.0)  # one update passed 300 and 400: one point, at 450
    assert not curve.due(499) and curve.due(500)
    assert read_curve(tmp_path) == [
        {"steps": 130, "minutes": 0.5, "val_accuracy": 40.0},
        {"steps": 450, "minutes": 1.0, "val_accuracy": 60.0},
    ]


def test_a_resume_keeps_the_points_its_checkpoint_covers(tmp_path):
    curve = LearningCurve(tmp_path, every=100)
    for steps in (100, 200, 300):
        curve.record(steps, 0.1, 50.0)
    resumed = LearningCurve(tmp_path, every=100, steps_done=200)
    assert [row["steps"] for row in read_curve(tmp_path)] == [100, 200]
    assert resumed.due(300) and not resumed.due(299)
    LearningCurve(tmp_path, every=100)  # a fresh run starts a fresh curve
    assert read_curve(tmp_path) == []
    with pytest.raises(ValueError, match="positive number of env steps"):
        LearningCurve(tmp_path, every=0)


@pytest.mark.mnist
def test_reinforce_scores_its_curve_and_resumes_it_exactly(tmp_path, monkeypatch):
    """6 updates of 64 episodes of 6 steps: points at 768, 1536 and 2304 env steps, the same
    whether the run went straight or was stopped after update 2 and resumed."""
    flags = ["--max-images", 384, "--curve-every", 768, *TINY]
    straight, stopped = tmp_path / "straight", tmp_path / "stopped"
    assert run([*flags, "--out", straight]) == 0
    assert [row["steps"] for row in read_curve(straight)] == [768, 1536, 2304]
    real_update, calls = reinforce.update, []

    def update_then_ctrl_c(*args, **kwargs):
        calls.append(1)
        stats = real_update(*args, **kwargs)
        if len(calls) == 3:
            signal.raise_signal(signal.SIGINT)
        return stats

    monkeypatch.setattr(reinforce, "update", update_then_ctrl_c)
    assert run([*flags, "--out", stopped]) == 130
    assert [row["steps"] for row in read_curve(stopped)] == [768]
    monkeypatch.setattr(reinforce, "update", real_update)
    assert run(["--out", stopped, "--resume", *TINY]) == 0
    assert read_curve(stopped) == [
        {**row, "minutes": row_stopped["minutes"]}
        for row, row_stopped in zip(read_curve(straight), read_curve(stopped), strict=True)
    ]
    for row in read_curve(straight):
        assert 0.0 <= row["val_accuracy"] <= 100.0


@pytest.mark.mnist
def test_sb3_scores_its_curve_on_the_whole_validation_split(tmp_path):
    out = tmp_path / "a2c"
    flags = ["--algo", "a2c", "--total-timesteps", 192, "--num-envs", 16, "--val-images", 0]
    assert run([*flags, "--curve-every", 96, "--out", out, *TINY[2:]]) == 0
    curve = read_curve(out)
    assert [row["steps"] for row in curve] == [96, 192]
    assert all(0.0 <= row["val_accuracy"] <= 100.0 for row in curve)
