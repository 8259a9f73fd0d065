"""``benchmarks.catch_baselines``: Catch's scripted baselines and the table of catch rates."""

from __future__ import annotations

import argparse

import numpy as np
import pytest

from benchmarks import catch_baselines
from ram_env.catch_batch import MOVES


def test_scripted_baselines_span_chance_to_the_ceiling():
    scores = catch_baselines.scripted_scores()
    rates = {name: result.accuracy for name, result in scores.items()}
    assert all(result.n == 10_000 and result.split == "test" for result in scores.values())
    assert rates["full-view oracle"] == 100.0  # every game can be won
    assert 4.0 < rates["random"] < 15.0
    assert rates["random"] + 20 < rates["full-view tracker"] < 90.0  # no foresight: misses


def test_moves_toward_a_column():
    paddles = np.array([5, 5, 5, 5])
    moves = catch_baselines.moves_toward(np.array([3, 5, 6, 7]), paddles, width=2)
    assert [MOVES[m] for m in moves] == ["left", "stay", "stay", "right"]
    actions = catch_baselines.box_actions(moves)
    assert actions.shape == (4, 5) and (actions[:, 2:].argmax(1) == moves).all()


def test_the_table_and_its_arguments(capsys):
    assert catch_baselines.main([]) == 0
    table = capsys.readouterr().out
    assert "| full-view oracle | 100.00 |" in table and table.count("\n") == 5
    assert catch_baselines.named_run("ram=runs/x/best.pt")[0] == "ram"
    with pytest.raises(argparse.ArgumentTypeError, match="NAME=PATH"):
        catch_baselines.named_run("runs/x")
