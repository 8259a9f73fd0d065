"""Normalised scores of the benchmark's records, aggregated across tasks and seeds with rliable.

rliable (Agarwal et al. 2021, "Deep RL at the Edge of the Statistical Precipice") gives the
interquartile mean (IQM) over all runs of all tasks, 95% confidence intervals by stratified
bootstrap (runs resampled within each task), and performance profiles (the share of runs
above each normalised score). Its score matrices are ``(runs, tasks)`` per algorithm, with
as many runs on every task: ``score_matrices`` takes, per algorithm, the lowest seeds it has
on every task, as many as its task with the fewest runs has (the page says how many).

The bootstrap is seeded (``BOOTSTRAP_SEED``), so a page rebuilt from the same records shows
the same intervals. rliable is the ``benchmark`` extra (``pip install ".[benchmark]"``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from benchmarks.protocol import task_protocol
from benchmarks.run_records import RunRecord

BOOTSTRAP_REPS = 2_000
BOOTSTRAP_SEED = 0
PROFILE_TAUS = np.linspace(0.0, 1.2, 61)  # normalised scores at which profiles are drawn


@dataclass(frozen=True)
class Interval:
    """A point estimate and its 95% confidence interval."""

    value: float
    low: float
    high: float


def final_score(record: RunRecord) -> float:
    """The run's normalised test score."""
    return task_protocol(record.task).normalised(record.test_accuracy)


def runs_by_task(records: Iterable[RunRecord]) -> dict[str, dict[str, list[RunRecord]]]:
    """entry -> task -> its records, by seed."""
    table: dict[str, dict[str, list[RunRecord]]] = defaultdict(lambda: defaultdict(list))
    for record in sorted(records, key=lambda record: record.seed):
        table[record.entry][record.task].append(record)
    return {entry: dict(tasks) for entry, tasks in table.items()}


def complete_entries(
    records: Iterable[RunRecord], tasks: list[str]
) -> dict[str, dict[str, list[RunRecord]]]:
    """The entries that have runs on every one of ``tasks``, each with the lowest seeds it has
    on all of them, as many on each task (rliable's matrices are rectangular)."""
    chosen = {}
    for entry, by_task in runs_by_task(records).items():
        if not all(by_task.get(task) for task in tasks):
            continue
        seeds = set.intersection(*({run.seed for run in by_task[task]} for task in tasks))
        if not seeds:
            continue
        chosen[entry] = {
            task: [run for run in by_task[task] if run.seed in seeds] for task in tasks
        }
    return chosen


def score_matrices(
    runs: dict[str, dict[str, list[RunRecord]]], tasks: list[str]
) -> dict[str, np.ndarray]:
    """entry -> normalised final scores ``(runs, tasks)``."""
    return {
        entry: np.array([[final_score(run) for run in by_task[task]] for task in tasks]).T
        for entry, by_task in runs.items()
    }


def curve_matrices(
    runs: dict[str, dict[str, list[RunRecord]]], tasks: list[str]
) -> dict[str, np.ndarray]:
    """entry -> normalised validation scores ``(runs, tasks, curve points)``, for the entries
    whose every run has the same number of curve points (the protocol's)."""
    matrices = {}
    for entry, by_task in runs.items():
        lengths = {len(run.curve) for task in tasks for run in by_task[task]}
        if len(lengths) != 1 or not lengths.pop():
            continue
        matrices[entry] = np.array(
            [
                [
                    [task_protocol(task).normalised(point.val_accuracy) for point in run.curve]
                    for run in by_task[task]
                ]
                for task in tasks
            ]
        ).transpose(1, 0, 2)
    return matrices


def _bootstrap(scores: dict[str, np.ndarray], statistic: Callable) -> tuple[dict, dict]:
    """rliable's point estimates and stratified-bootstrap 95% CIs of ``statistic``.

    rliable draws its resamples from NumPy's global generator, so each entry's bootstrap
    runs from ``BOOTSTRAP_SEED`` (an entry's interval does not depend on the others on the
    page), and the global state is restored afterwards.
    """
    from rliable import library

    points, intervals = {}, {}
    state = np.random.get_state()
    try:
        for entry, matrix in scores.items():
            np.random.seed(BOOTSTRAP_SEED)
            point, interval = library.get_interval_estimates(
                {entry: matrix}, statistic, reps=BOOTSTRAP_REPS
            )
            points[entry], intervals[entry] = point[entry], interval[entry]
    finally:
        np.random.set_state(state)
    return points, intervals


def iqm_intervals(scores: dict[str, np.ndarray]) -> dict[str, Interval]:
    """entry -> IQM of its runs over all tasks, with a stratified-bootstrap 95% CI."""
    from rliable import metrics

    points, intervals = _bootstrap(scores, lambda matrix: np.array([metrics.aggregate_iqm(matrix)]))
    return {
        entry: Interval(float(points[entry][0]), *map(float, intervals[entry][:, 0]))
        for entry in scores
    }


def iqm_curves(curves: dict[str, np.ndarray]) -> tuple[dict, dict]:
    """entry -> IQM at each curve point ``(points,)`` and its 95% CIs ``(2, points)``."""
    from rliable import metrics

    def per_point(matrix: np.ndarray) -> np.ndarray:
        points = range(matrix.shape[-1])
        return np.array([metrics.aggregate_iqm(matrix[..., point]) for point in points])

    return _bootstrap(curves, per_point)


def performance_profiles(scores: dict[str, np.ndarray]) -> tuple[dict, dict]:
    """entry -> the share of its runs above each of ``PROFILE_TAUS``, and its 95% CIs."""
    from rliable import library

    return _bootstrap(scores, lambda matrix: library.score_distributions(matrix, PROFILE_TAUS))
