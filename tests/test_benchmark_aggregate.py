"""``benchmarks/aggregate.py``: normalised scores into rliable's matrices, IQM with stratified
bootstrap CIs, performance profiles and curves, on made-up records (no training)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy import stats

from benchmarks import aggregate
from benchmarks.protocol import task_protocol
from benchmarks.run_records import CurvePoint
from tests.test_run_records import make_record

MNIST, TRANSLATED = "GlimpseMNIST-v0", "GlimpseTranslatedMNIST-v0"


def run(entry: str, task: str, seed: int, accuracy: float, curve=(50.0, 80.0)):
    points = tuple(CurvePoint(100 * (k + 1), 1.0, value) for k, value in enumerate(curve))
    return make_record(entry=entry, algo=entry, task=task, seed=seed,
                       test_accuracy=accuracy, curve=points)  # fmt: skip


def test_final_score_is_normalised_by_chance_and_the_paper():
    paper = task_protocol(MNIST).paper_accuracy
    assert aggregate.final_score(run("ppo", MNIST, 0, paper)) == pytest.approx(1.0)
    assert aggregate.final_score(run("ppo", MNIST, 0, 10.0)) == pytest.approx(0.0)
    assert aggregate.final_score(run("ppo", MNIST, 0, 54.44)) == pytest.approx(0.5)


def test_matrices_keep_entries_with_every_task_and_their_common_seeds():
    records = [
        *(run("ppo", MNIST, seed, 60.0 + seed) for seed in range(5)),
        *(run("ppo", TRANSLATED, seed, 40.0 + seed) for seed in (0, 1, 2)),
        *(run("dqn", MNIST, seed, 30.0) for seed in range(3)),  # no translated run
    ]
    runs = aggregate.complete_entries(records, [MNIST, TRANSLATED])
    assert list(runs) == ["ppo"]
    assert [r.seed for r in runs["ppo"][MNIST]] == [0, 1, 2]  # the seeds both tasks have
    matrix = aggregate.score_matrices(runs, [MNIST, TRANSLATED])["ppo"]
    assert matrix.shape == (3, 2)
    assert matrix[2, 1] == pytest.approx(task_protocol(TRANSLATED).normalised(42.0))


def test_iqm_matches_the_trimmed_mean_and_its_interval_holds_it():
    rng = np.random.default_rng(0)
    scores = {"a": rng.uniform(0.2, 0.9, size=(6, 3)), "b": np.full((4, 3), 0.5)}
    result = aggregate.iqm_intervals(scores)
    assert result["a"].value == pytest.approx(stats.trim_mean(scores["a"], 0.25, axis=None))
    assert result["a"].low < result["a"].value < result["a"].high
    assert result["b"] == aggregate.Interval(0.5, 0.5, 0.5)  # no spread, no interval


def test_the_bootstrap_is_seeded_and_independent_of_the_other_entries():
    rng = np.random.default_rng(1)
    scores = {"a": rng.uniform(size=(5, 2)), "b": rng.uniform(size=(5, 2))}
    state = np.random.get_state()
    together = aggregate.iqm_intervals(scores)
    assert np.array_equal(np.random.get_state()[1], state[1])  # the global state is restored
    assert aggregate.iqm_intervals({"b": scores["b"]})["b"] == together["b"]
    assert aggregate.iqm_intervals(scores) == together


def test_performance_profile_is_the_share_of_runs_above_each_threshold():
    scores = {"a": np.array([[0.1, 0.5], [0.7, 0.9]])}
    profiles, intervals = aggregate.performance_profiles(scores)
    taus = aggregate.PROFILE_TAUS
    expected = [(scores["a"] > tau).mean() for tau in taus]
    np.testing.assert_allclose(profiles["a"], expected)
    assert intervals["a"].shape == (2, len(taus))


def test_curves_are_normalised_per_point_and_need_the_same_points_everywhere():
    records = [run("ppo", MNIST, seed, 80.0, curve=(10.0, 98.88)) for seed in range(3)]
    runs = aggregate.complete_entries(records, [MNIST])
    curves = aggregate.curve_matrices(runs, [MNIST])
    assert curves["ppo"].shape == (3, 1, 2)
    estimates, intervals = aggregate.iqm_curves(curves)
    np.testing.assert_allclose(estimates["ppo"], [0.0, 1.0], atol=1e-9)
    short = [*records[:2], replace(records[2], curve=records[2].curve[:1])]
    assert aggregate.curve_matrices(aggregate.complete_entries(short, [MNIST]), [MNIST]) == {}
