"""``benchmarks/train_threads.py``: its settings parse or are refused by name, and it runs
``train.py`` end to end under each (the timings themselves are not checked)."""

from __future__ import annotations

import argparse
import sys

import pytest

from benchmarks import train_threads


@pytest.mark.parametrize(
    "text, setting",
    [("1", (1, None)), ("2:passive", (2, "passive")), ("4:ACTIVE", (4, "active")),
     ("auto", (None, None)), ("auto:passive", (None, "passive"))],
)  # fmt: skip
def test_settings_parse(text: str, setting: tuple) -> None:
    assert train_threads.parse_setting(text) == setting


@pytest.mark.parametrize(
    "text, message",
    [("0", "whole number >= 1 or auto"), ("two", "whole number"), ("2:lazy", "policy of")],
)
def test_bad_settings_are_named(text: str, message: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=message):
        train_threads.parse_setting(text)


def test_thread_flags_belong_to_the_settings(monkeypatch, capsys) -> None:
    flags = ["train_threads", "--settings", "1", "--", "--algo", "reinforce", "--threads", "2"]
    monkeypatch.setattr(sys, "argv", flags)
    with pytest.raises(SystemExit):
        train_threads.main()
    assert "leave both unset" in capsys.readouterr().err


@pytest.mark.mnist
def test_each_setting_trains_and_is_reported(monkeypatch, capsys) -> None:
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    flags = ["--algo", "reinforce", "--max-images", "256", "--batch-size", "128", "--epochs", "1"]
    argv = ["train_threads", "--settings", "1", "auto:passive", "--rounds", "1", "--", *flags]
    monkeypatch.setattr(sys, "argv", argv)
    train_threads.main()
    report = capsys.readouterr().out
    assert "         1: median" in report and "auto:passive: median" in report
    assert "time / 1: 1.00" in report
