"""``benchmarks/train_speed.py`` still runs end to end: both loops on a task of each kind
(one scale, several), for a fraction of a second (the timings themselves are not checked)."""

from __future__ import annotations

import argparse

import pytest

from benchmarks import train_speed


@pytest.mark.mnist
@pytest.mark.parametrize("env_id", ["GlimpseMNIST-v0", "GlimpseTranslatedMNIST-v0"])
def test_both_loops_train_and_report(env_id, capsys):
    args = argparse.Namespace(
        glimpses=None, glimpse_size=None, scales=None, core="rnn", batch_size=16,
        threads=1, rounds=1, seconds=0.05, compile=False,
    )  # fmt: skip
    train_speed.measure(env_id, args, "fp32", peak=1.0)
    report = capsys.readouterr().out
    for loop in ("trainer", "env-free"):
        assert f"  {loop}" in report and "images/s" in report
    assert "ratio trainer/env-free" in report
