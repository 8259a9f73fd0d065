"""The algorithm benchmark's protocol, declared once: per task the budget in env steps (the same
for every algorithm), the seeds, the learning-curve points, and the normalised score.

* **Budget**: ``budget_steps`` env steps of training per run, whatever the algorithm (an
  episode is T steps, so REINFORCE trains on ``budget_steps / T`` images). ``full_steps`` is
  the budget the protocol asks for; a task planned below it is marked *reduced* wherever it
  is reported.
* **Seeds**: ``seeds`` runs per (task, algorithm), seeds ``0 .. seeds - 1``.
* **Curve**: ``curve_points`` scores of the whole validation split at equal fractions of the
  budget (``train.py --curve-every``); the final score is the final weights' accuracy on
  the 10,000 fixed test canvases, one path each.
* **Normalised score**: ``(accuracy - chance) / (paper RAM accuracy - chance)``: 0 at chance
  (10%), 1 at the paper's RAM with the task's registered glimpse count (Mnih et al. 2014;
  the numbers are ``benchmarks.paper_rows.TASKS``'), above 1 beyond it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from benchmarks.paper_rows import TASKS as PAPER_TASKS
from ram_env.registration import TASKS as REGISTERED

CHANCE = 10.0  # accuracy (%) of a uniform guess among the 10 classes


@dataclass(frozen=True)
class TaskProtocol:
    """One task of the benchmark: a registered env id and how long and often it is run."""

    name: str  # the paper table's name: mnist, translated, cluttered60, cluttered100
    budget_steps: int  # env steps per run, the same for every algorithm
    full_steps: int  # the budget the protocol asks for; budget_steps below it is reduced
    seeds: int  # runs per algorithm
    curve_points: int = 5  # validation scores at equal fractions of the budget

    def __post_init__(self) -> None:
        if self.name not in PAPER_TASKS:
            raise ValueError(f"unknown task {self.name!r}; known: {', '.join(PAPER_TASKS)}")
        if min(self.budget_steps, self.full_steps, self.seeds, self.curve_points) < 1:
            raise ValueError(f"{self.name}: budgets, seeds and curve points must be positive")
        if self.budget_steps % self.curve_points:
            raise ValueError(
                f"{self.name}: the budget {self.budget_steps:,} is not a multiple of "
                f"{self.curve_points} curve points"
            )

    @property
    def env_id(self) -> str:
        return PAPER_TASKS[self.name].env_id

    @property
    def title(self) -> str:
        return PAPER_TASKS[self.name].title

    @property
    def glimpses(self) -> int:
        """The registered env's glimpse count T (the episode length)."""
        return REGISTERED[self.env_id][3]

    @property
    def paper_error(self) -> float:
        """The paper's RAM test error (%) at the registered glimpse count."""
        return PAPER_TASKS[self.name].paper_errors[self.glimpses]

    @property
    def paper_accuracy(self) -> float:
        return 100.0 - self.paper_error

    @property
    def reduced(self) -> bool:
        return self.budget_steps < self.full_steps

    @property
    def curve_every(self) -> int:
        return self.budget_steps // self.curve_points

    def curve_steps(self) -> list[int]:
        """The step counts at which every run's validation accuracy is scored."""
        return [self.curve_every * point for point in range(1, self.curve_points + 1)]

    def reinforce_images(self) -> int:
        """REINFORCE's budget in images (T env steps each)."""
        return math.ceil(self.budget_steps / self.glimpses)

    def normalised(self, accuracy: float) -> float:
        """``(accuracy - chance) / (paper RAM accuracy - chance)``."""
        return normalised_score(accuracy, self.paper_accuracy)


def normalised_score(accuracy: float, paper_accuracy: float, chance: float = CHANCE) -> float:
    """0 at chance, 1 at the paper's accuracy; ``ValueError`` for a meaningless reference."""
    if not paper_accuracy > chance:
        raise ValueError(f"the reference accuracy {paper_accuracy} must exceed chance {chance}")
    if not 0.0 <= accuracy <= 100.0:
        raise ValueError(f"an accuracy is a percentage, got {accuracy}")
    return (accuracy - chance) / (paper_accuracy - chance)


FULL_SEEDS = 5
"""The seeds per (task, algorithm) the protocol asks for; a task planned with fewer says so."""

FULL_STEPS = 10_000_000
"""The protocol's budget per run on every task: 10M env steps (1.7M episodes of 6 glimpses,
33 passes over the 50,000 training images; the paper's RAM trained for longer)."""

TASK_PROTOCOLS: dict[str, TaskProtocol] = {
    task.env_id: task
    for task in (
        TaskProtocol("mnist", budget_steps=2_000_000, full_steps=FULL_STEPS, seeds=5),
        TaskProtocol("translated", budget_steps=1_000_000, full_steps=FULL_STEPS, seeds=3),
        TaskProtocol("cluttered60", budget_steps=1_000_000, full_steps=FULL_STEPS, seeds=3),
        TaskProtocol("cluttered100", budget_steps=1_000_000, full_steps=FULL_STEPS, seeds=3),
    )
}
"""The planned budgets and seeds: about four sessions of 2.5 hours on the 2-core machine with
two runs side by side, at the speeds measured there (the compute plan of
``docs/benchmark.md``). All are reduced from the protocol's ``FULL_STEPS``; the three larger
tasks get 3 seeds, not 5, and half MNIST's budget."""


def task_protocol(name: str) -> TaskProtocol:
    """The task given as an env id or a short name (``mnist``); ``ValueError`` otherwise."""
    for task in TASK_PROTOCOLS.values():
        if name in (task.env_id, task.name):
            return task
    known = ", ".join(f"{task.name} ({task.env_id})" for task in TASK_PROTOCOLS.values())
    raise ValueError(f"unknown task {name!r}; the benchmark's tasks: {known}")


def steps_label(steps: int) -> str:
    """A short, exact spelling of a step count: 3M, 1.5M, 500k, 12.34k, 1024."""
    for unit, suffix in ((1_000_000, "M"), (1_000, "k")):
        if steps >= unit and steps % (unit // 100) == 0:  # two decimals at most: exact
            return f"{steps / unit:.2f}".rstrip("0").rstrip(".") + suffix
    return str(steps)
