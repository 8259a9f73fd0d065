"""``benchmarks/run_records.py``: the record of one benchmark run, written atomically, read back
strictly."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from benchmarks.run_records import (
    CurvePoint,
    RecordError,
    RunRecord,
    read_record,
    read_records,
    record_name,
    write_record,
)


def make_record(**changes) -> RunRecord:
    """A valid record of a made-up run (no training)."""
    fields = dict(
        task="GlimpseMNIST-v0", entry="ppo-history", algo="ppo-history", track="reward-only",
        seed=0, budget_steps=3_000_000, reduced_budget=True, steps=3_000_192, minutes=12.5,
        wall_seconds=800.0, test_accuracy=88.5, test_images=10_000,
        curve=(CurvePoint(600_192, 2.5, 40.0), CurvePoint(3_000_192, 12.5, 88.0)),
        command=("python", "train.py", "--algo", "ppo-history"),
        eval_command=("python", "train.py", "--eval", "RUN"),
        settings={"num_envs": 256}, hardware={"cpus": 2}, versions={"python": "3.11"},
        commit="abc", date="2026-12-05",
    )  # fmt: skip
    fields.update(changes)
    return RunRecord(**fields)


def test_a_record_is_named_by_task_entry_seed_and_budget():
    assert make_record().file_name == "mnist-ppo-history-seed0-3M.json"
    assert record_name("GlimpseClutteredMNIST100-v0", "dqn", 4, 1_500_000) == (
        "cluttered100-dqn-seed4-1.5M.json"
    )


def test_write_then_read_gives_the_same_record(tmp_path):
    record = make_record()
    path = write_record(record, tmp_path)
    assert path == tmp_path / record.file_name
    assert read_record(path) == record
    assert read_records(tmp_path) == [record]
    assert not list(tmp_path.glob(".*tmp"))  # the atomic write left no temp file
    assert record.steps_per_second == pytest.approx(3_000_192 / 750.0)


def test_records_are_read_sorted_and_a_missing_folder_holds_none(tmp_path):
    for seed in (2, 0, 1):
        write_record(make_record(seed=seed), tmp_path)
    assert [record.seed for record in read_records(tmp_path)] == [0, 1, 2]
    assert read_records(tmp_path / "absent") == []


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda data: data.pop("test_accuracy"), "missing fields \\['test_accuracy'\\]"),
        (lambda data: data.update(extra=1), "unknown fields \\['extra'\\]"),
        (lambda data: data.update(track="supervised"), "unknown track 'supervised'"),
        (lambda data: data.update(task="CartPole-v1"), "unknown task 'CartPole-v1'"),
        (lambda data: data.update(test_accuracy=120.0), "not a percentage"),
        (lambda data: data.update(seed="0"), "seed is '0'"),
        (lambda data: data.update(reduced_budget=1), "reduced_budget is 1"),
        (lambda data: data.update(format="other/1"), "format 'other/1'"),
        (lambda data: data["curve"][0].pop("val_accuracy"), "val_accuracy"),
    ],
)
def test_a_bad_record_is_refused_naming_the_file_and_the_problem(tmp_path, change, message):
    data = make_record().to_dict()
    data = json.loads(json.dumps(data))
    change(data)
    path = tmp_path / make_record().file_name
    path.write_text(json.dumps(data))
    with pytest.raises(RecordError, match=message) as error:
        read_record(path)
    assert str(path) in str(error.value)


def test_a_record_under_another_name_and_garbage_are_refused(tmp_path):
    path = write_record(make_record(), tmp_path)
    moved = path.rename(tmp_path / "mnist-ppo-history-seed1-3M.json")
    with pytest.raises(RecordError, match="holds the record of mnist-ppo-history-seed0-3M"):
        read_record(moved)
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(RecordError, match="broken.json: unreadable"):
        read_record(tmp_path / "broken.json")


def test_a_failed_write_keeps_the_old_record(tmp_path, monkeypatch):
    record = make_record()
    write_record(record, tmp_path)
    monkeypatch.setattr(RunRecord, "to_dict", lambda self: {"not": object()})
    with pytest.raises(TypeError):
        write_record(replace(record, test_accuracy=50.0), tmp_path)
    monkeypatch.undo()
    assert read_records(tmp_path) == [record]


def test_a_bad_curve_point_is_refused(tmp_path):
    data = json.loads(json.dumps(make_record().to_dict()))
    data["curve"][1]["val_accuracy"] = 101.0
    path = tmp_path / make_record().file_name
    path.write_text(json.dumps(data))
    with pytest.raises(RecordError, match="val_accuracy 101.0 is not a percentage"):
        read_record(path)


ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
@pytest.mark.parametrize("folder", ["docs/benchmark/runs", "docs/results/rows"])
def test_the_records_folders_are_not_ignored_by_git(folder):
    # The records are what the pages are rebuilt from: an ignore rule would drop them silently.
    probe = ROOT / folder / "any-run.json"
    done = subprocess.run(["git", "check-ignore", "-q", str(probe)], cwd=ROOT)
    assert done.returncode == 1, f"{folder} is ignored by .gitignore"
