"""``benchmarks/scaling.py``: the commands it times, the all-reduce it measures and the
scaling model it predicts with (the timed training runs need MNIST and minutes: not here)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from benchmarks import scaling


def test_one_side_is_one_process_and_the_other_torchrun_with_one_thread_each(tmp_path):
    one = scaling.train_command(1, ["--algo", "reinforce"], tmp_path)
    two = scaling.train_command(2, ["--algo", "reinforce"], tmp_path)
    assert one[:2] == [sys.executable, "train.py"]
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    assert two[:6] == [*launcher, "--nproc-per-node", "2"]
    for command in (one, two):
        assert command[command.index("--threads") + 1] == "1"
        assert Path(command[command.index("--out") + 1]) == tmp_path


def test_the_ring_all_reduce_model():
    four_mb, ten_gbit = 4e6, 10e9 / 8
    assert scaling.ring_allreduce_seconds(four_mb, 1, ten_gbit, 1e-5) == 0.0
    # 2 ranks: each sends and receives the whole buffer once, in 2 messages.
    assert scaling.ring_allreduce_seconds(four_mb, 2, ten_gbit, 1e-5) == pytest.approx(
        four_mb / ten_gbit + 2e-5
    )
    # Many ranks: the volume tends to twice the buffer, the latency grows with N.
    many = scaling.ring_allreduce_seconds(four_mb, 1000, ten_gbit, 0.0)
    assert many == pytest.approx(2 * four_mb / ten_gbit, rel=1e-2)


def test_efficiency_falls_as_the_all_reduce_grows_against_each_ranks_share():
    assert scaling.predicted_efficiency(0.1, 0.0, 16) == 1.0
    # Each of 10 ranks computes 10 ms of a 100 ms update, then waits 10 ms: half efficient.
    assert scaling.predicted_efficiency(0.1, 0.01, 10) == pytest.approx(0.5)


def test_flag_values_are_read_in_both_spellings():
    assert scaling._flag_value(["--batch-size", "512"], "--batch-size", 1024) == 512
    assert scaling._flag_value(["--batch-size=256"], "--batch-size", 1024) == 256
    assert scaling._flag_value(["--lr", "1"], "--batch-size", 1024) == 1024


def test_the_all_reduce_is_timed_over_two_gloo_processes():
    seconds = scaling.allreduce_seconds(10_000)
    assert 0.0 < seconds < 1.0


def test_the_apart_side_runs_one_process_each_on_its_share_of_the_batch(tmp_path, monkeypatch):
    started = []
    monkeypatch.setattr(scaling, "_run_together", lambda commands, outs: started.append(commands))
    flags = ["--algo", "reinforce", "--batch-size", "512", "--seed=3", "--epochs", "2"]
    scaling.run_apart(2, flags, 512)
    (commands,) = started
    assert len(commands) == 2
    for index, command in enumerate(commands):
        assert command[:2] == [sys.executable, "train.py"]
        assert command.count("--batch-size") == 1 and not any("--seed=" in f for f in command)
        assert command[command.index("--batch-size") + 1] == "256"
        assert command[command.index("--seed") + 1] == str(3 + index)
        assert command[command.index("--epochs") + 1] == "2"
    assert (
        commands[0][commands[0].index("--out") + 1] != commands[1][commands[1].index("--out") + 1]
    )
