"""``benchmarks/benchmark_runs.py``: one run from its commands to its record; reuse and resume.

The runs are played by a stand-in for ``train.py`` (no training): it logs its command line and
writes what the real one leaves in a run folder. Told to, it stops once half-way (exit 130,
as ``train.py`` on a SIGTERM), so that the next attempt must carry on (REINFORCE) or start
again (SB3).
"""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

import pytest

from benchmarks import benchmark_runs
from benchmarks.benchmark_runs import Job, Setup, eval_command, run_job, train_command
from benchmarks.lineup import LINEUP
from benchmarks.protocol import task_protocol
from benchmarks.run_records import read_record

FAKE_TRAIN = r"""
import json, os, sys
from pathlib import Path

argv = sys.argv[1:]
with open(os.environ["FAKE_CALLS"], "a") as calls:
    calls.write(json.dumps(argv) + "\n")
def value(flag):
    return argv[argv.index(flag) + 1]
if "--eval" in argv:
    target = Path(value("--eval"))
    folder = target.parent if target.suffix == ".pt" else target
    (folder / "eval-test.json").write_text(json.dumps({"accuracy": 91.25, "n": 10000}))
    sys.exit(0)
out = Path(value("--out"))
out.mkdir(parents=True, exist_ok=True)
every = int(value("--curve-every"))
stop_once = os.environ.get("FAKE_STOP_ONCE")
stopping = stop_once is not None and not Path(stop_once).exists()
if value("--algo") == "reinforce":
    from agents.checkpoint import save_checkpoint
    from agents.reinforce_config import ReinforceConfig
    config = ReinforceConfig(loss=value("--loss"), max_images=int(value("--max-images")))
    steps = int(value("--max-images")) * 6
    payload = {"algo": "reinforce", "config": config.to_dict(), "model_config": {}, "model": {}}
    save_checkpoint(out / "last.pt", payload)
    (out / "metrics.csv").write_text(f"images,minutes,images_per_second\n{steps // 6},1.5,900\n")
else:
    steps = int(value("--total-timesteps"))
    result = {"timesteps": steps, "minutes": 2.0, "steps_per_second": 5000.0}
    config = {"algo": value("--algo"), "track": "reward-only", "action_type": "box",
              "num_envs": 256, "policy": "MultiInputPolicy", "hyperparams": {}, "result": result}
    (out / "config.json").write_text(json.dumps(config))
    (out / "model.zip").write_bytes(b"model")
if stopping:
    Path(stop_once).write_text("stopped once")
    sys.exit(130)
points = "".join(f"{every * k},{k * 0.1},{50 + k}\n" for k in range(1, steps // every + 1))
(out / "curve.csv").write_text("steps,minutes,val_accuracy\n" + points)
"""


@pytest.fixture
def fake(tmp_path, monkeypatch):
    script = tmp_path / "fake_train.py"
    script.write_text(FAKE_TRAIN)
    calls = tmp_path / "calls.jsonl"
    monkeypatch.setenv("FAKE_CALLS", str(calls))
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[1]))
    setup = Setup(tmp_path / "runs", tmp_path / "records", threads=1, parallel=2,
                  train_script=script)  # fmt: skip

    def read_calls() -> list[list[str]]:
        if not calls.exists():
            return []
        return [json.loads(line) for line in calls.read_text().splitlines()]

    return setup, read_calls


def job(entry: str, seed: int = 0) -> Job:
    return Job(task_protocol("mnist"), LINEUP[entry], seed)


def test_commands_hold_the_budget_the_curve_and_the_entry_flags(tmp_path):
    mnist = task_protocol("mnist")
    command = train_command(job("reinforce-reward", 3), tmp_path / "run", threads=1)
    assert command[:5] == ["train.py", "--algo", "reinforce", "--loss", "reinforce"]
    assert command[command.index("--max-images") + 1] == str(-(-mnist.budget_steps // 6))
    assert command[command.index("--curve-every") + 1] == str(mnist.curve_every)
    assert command[command.index("--seed") + 1] == "3"
    command = train_command(job("sac-history"), tmp_path / "run", threads=1)
    assert command[command.index("--total-timesteps") + 1] == str(mnist.budget_steps)
    assert "--val-images" in command and "--max-images" not in command
    assert "--curve-every" not in train_command(job("ppo"), tmp_path, 1, curve=False)
    assert eval_command(job("reinforce-hybrid"), tmp_path / "run", 1)[2].endswith("run/last.pt")
    assert eval_command(job("ppo"), tmp_path / "run", 1)[2].endswith("run")


@pytest.mark.parametrize("entry", ["reinforce-hybrid", "ppo-history"])
def test_a_run_is_trained_scored_recorded_then_reused(fake, entry):
    setup, calls = fake
    assert run_job(job(entry), setup, threading.Event(), log=lambda text: None) == "done"
    record = read_record(job(entry).record_file(setup.records_dir))
    mnist = task_protocol("mnist")
    assert record.entry == entry and record.track == LINEUP[entry].track
    assert record.budget_steps == mnist.budget_steps and record.reduced_budget == mnist.reduced
    assert record.test_accuracy == 91.25 and record.test_images == 10_000
    assert [point.steps for point in record.curve] == mnist.curve_steps()
    assert record.command[:2] == ("python", "train.py") and record.resumed == 0
    assert record.hardware["runs_side_by_side"] == 2 and record.versions["python"]
    assert len(calls()) == 2  # train, then score
    assert run_job(job(entry), setup, threading.Event(), log=lambda text: None) == "reused"
    assert len(calls()) == 2  # nothing run again


def test_a_stopped_reinforce_run_resumes_and_an_sb3_run_starts_again(fake, monkeypatch, tmp_path):
    setup, calls = fake
    quiet = {"log": lambda text: None}
    for entry, resumes in (("reinforce-reward", True), ("a2c-history", False)):
        monkeypatch.setenv("FAKE_STOP_ONCE", str(tmp_path / f"stopped-{entry}"))
        before = len(calls())
        assert run_job(job(entry), setup, threading.Event(), **quiet) == "failed"
        run_dir = job(entry).run_dir(setup.runs_dir)
        assert run_dir.exists() and not (run_dir / benchmark_runs.STATE_FILE).exists()
        (run_dir / "left-over").write_text("from the stopped attempt")
        assert run_job(job(entry), setup, threading.Event(), **quiet) == "done"
        second = calls()[before + 1]
        assert ("--resume" in second) == resumes
        assert (run_dir / "left-over").exists() == resumes  # an SB3 run starts afresh
        record = read_record(job(entry).record_file(setup.records_dir))
        assert record.resumed == int(resumes)


def test_a_stop_request_stops_before_a_run_starts(fake):
    setup, calls = fake
    stop = threading.Event()
    stop.set()
    assert run_job(job("ppo"), setup, stop, log=lambda text: None) == "stopped"
    assert calls() == []


def test_a_run_whose_track_differs_from_its_entry_is_not_recorded(fake, monkeypatch):
    setup, _ = fake
    hybrid_ppo = LINEUP["recurrent-ppo"]  # the stand-in reports reward-only for SB3 runs
    messages = []
    outcome = run_job(Job(task_protocol("mnist"), hybrid_ppo, 0), setup, threading.Event(),
                      log=messages.append)  # fmt: skip
    assert outcome == "failed"
    assert "trained in the reward-only track, but recurrent-ppo is hybrid" in messages[-1]
    assert not list(setup.records_dir.glob("*.json"))


def test_git_commit_and_versions_are_recorded():
    commit = benchmark_runs.git_commit()
    assert commit == "" or len(commit.split("+")[0]) == 40
    versions = benchmark_runs.versions()
    assert versions["python"] == ".".join(map(str, sys.version_info[:3]))
    assert set(benchmark_runs.VERSIONED) <= set(versions)
