"""``docs/benchmark.md`` and its plots, rebuilt from the run records alone.

The page: the protocol (tracks, budgets per task, seeds, scoring, normalisation, hardware),
per track the aggregate over tasks and seeds (rliable: IQM with 95% stratified-bootstrap
CIs, performance profiles, IQM learning curves), the reward-only memory target on
GlimpseMNIST-v0, a table per task, the lineup with its settings, the compute plan, and every
run. The plots (``docs/benchmark/*.png``, matplotlib through ``benchmarks.plotting``, written
atomically) are drawn only where there are runs to draw.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from agents.tracks import REWARD_ONLY, TRACK_TITLES, TRACKS
from benchmarks import aggregate
from benchmarks.compute_plan import (
    PLANNED_PARALLEL,
    SESSION_HOURS,
    PlannedCost,
    Speed,
    planned_cost,
    sessions,
)
from benchmarks.lineup import LINEUP
from benchmarks.protocol import (
    CHANCE,
    FULL_SEEDS,
    TASK_PROTOCOLS,
    TaskProtocol,
    steps_label,
)
from benchmarks.run_records import RecordError, RunRecord

TARGET_TASK = "GlimpseMNIST-v0"
TARGET_ACCURACY = 90.0  # % test accuracy: a reward-only SB3 algorithm with memory
PLOT_DIR = "benchmark"  # beside the page


@dataclass(frozen=True)
class TrackResult:
    """One track's aggregate: the tasks it spans and, per complete entry, its runs."""

    track: str
    tasks: list[str]  # env ids with runs in this track
    runs: dict[str, dict[str, list[RunRecord]]]  # entries with runs on all of them
    iqm: dict[str, aggregate.Interval]
    incomplete: list[str]  # entries with runs in the track but not on every task


# Settings of a run that are not the algorithm's: they may differ between its seeds.
RUN_MECHANICS = ("seed", "device", "threads", "eval_batch_size")


def current_records(records: list[RunRecord]) -> list[RunRecord]:
    """The records at each task's planned budget (others are kept, but not aggregated);
    ``RecordError`` where the seeds of one algorithm on one task trained with different
    settings (records left from before the algorithm's settings changed)."""
    current = [
        record
        for record in records
        if record.task in TASK_PROTOCOLS
        and record.budget_steps == TASK_PROTOCOLS[record.task].budget_steps
    ]
    check_same_settings(current)
    return current


def check_same_settings(records: list[RunRecord]) -> None:
    """``RecordError`` naming the first setting in which two seeds of one (task, entry,
    budget) differ, and the records to remove and run again."""
    first: dict[tuple[str, str, int], RunRecord] = {}
    for record in sorted(records, key=lambda r: r.seed):
        key = (record.task, record.entry, record.budget_steps)
        reference = first.setdefault(key, record)
        for name in sorted(set(reference.settings) | set(record.settings)):
            if name in RUN_MECHANICS:
                continue
            ours, theirs = reference.settings.get(name), record.settings.get(name)
            if ours != theirs:
                raise RecordError(
                    f"{record.task} {record.entry}: seed {reference.seed} trained with "
                    f"{name}={ours!r}, seed {record.seed} with {theirs!r}; remove the records "
                    "of the old settings and run them again"
                )


def track_result(records: list[RunRecord], track: str) -> TrackResult:
    in_track = [record for record in records if record.track == track]
    tasks = [task for task in TASK_PROTOCOLS if any(r.task == task for r in in_track)]
    runs = aggregate.complete_entries(in_track, tasks) if tasks else {}
    entries = {record.entry for record in in_track}
    iqm = aggregate.iqm_intervals(aggregate.score_matrices(runs, tasks))
    return TrackResult(
        track, tasks, _in_lineup_order(runs), iqm, _lineup_sorted(entries - set(runs))
    )


def _in_lineup_order(table: dict) -> dict:
    order = {name: index for index, name in enumerate(LINEUP)}
    return dict(sorted(table.items(), key=lambda item: order.get(item[0], len(order))))


def _lineup_sorted(names: set[str]) -> list[str]:
    return list(_in_lineup_order(dict.fromkeys(names)))


# --------------------------------------------------------------------------- text pieces


def _interval(interval: aggregate.Interval) -> str:
    return f"{interval.value:.3f} [{interval.low:.3f}, {interval.high:.3f}]"


def _mean_sd(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.fmean(values):.2f} ± {statistics.stdev(values):.2f}"


def _short(task: str) -> str:
    return TASK_PROTOCOLS[task].name


def protocol_table() -> str:
    lines = [
        "| task | env id | glimpses | budget (env steps) | seeds | curve points | "
        "paper RAM accuracy (%) |",
        "|---|---|---:|---|---:|---|---:|",
    ]
    for task in TASK_PROTOCOLS.values():
        budget = f"{task.budget_steps:,}"
        if task.reduced:
            budget += f" (**reduced**; full: {task.full_steps:,})"
        points = ", ".join(steps_label(steps) for steps in task.curve_steps())
        lines.append(
            f"| {task.name} | `{task.env_id}` | {task.glimpses} | {budget} | {task.seeds} | "
            f"{points} | {task.paper_accuracy:.2f} |"
        )
    return "\n".join(lines)


def seeds_text() -> str:
    """The seeds the protocol asks for, and the tasks planned with fewer."""
    fewer = [task for task in TASK_PROTOCOLS.values() if task.seeds < FULL_SEEDS]
    text = f"**Seeds.** The protocol asks for {FULL_SEEDS} seeds per algorithm and task"
    if not fewer:
        return text + "."
    shown = ", ".join(f"{task.name} {task.seeds}" for task in fewer)
    return (
        f"{text}; planned with fewer to fit this machine: {shown} (their means carry wider "
        "intervals)."
    )


def hardware_text(records: list[RunRecord]) -> str:
    if not records:
        return "No runs recorded yet"
    seen: dict[str, int] = {}
    for record in records:
        hw = record.hardware
        text = (
            f"{hw.get('processor', '?')} ({hw.get('machine', '?')}, {hw.get('cpus', '?')} "
            f"cores), {hw.get('threads', '?')} torch thread(s) per run, "
            f"{hw.get('runs_side_by_side', '?')} run(s) side by side, {hw.get('device', 'cpu')}"
        )
        seen[text] = seen.get(text, 0) + 1
    return "; ".join(f"{text}: {count} run(s)" for text, count in seen.items())


def aggregate_table(result: TrackResult) -> str:
    head = " | ".join(f"{_short(task)} test accuracy (%)" for task in result.tasks)
    lines = [
        f"| algorithm | memory | runs per task | normalised IQM [95% CI] | {head} |",
        "|---|---|---:|---|" + "---:|" * len(result.tasks),
    ]
    ranked = sorted(result.runs, key=lambda entry: -result.iqm[entry].value)
    for entry in ranked:
        by_task = result.runs[entry]
        accuracies = " | ".join(
            _mean_sd([run.test_accuracy for run in by_task[task]]) for task in result.tasks
        )
        lines.append(
            f"| {entry} | {LINEUP[entry].memory if entry in LINEUP else '?'} | "
            f"{len(by_task[result.tasks[0]])} | {_interval(result.iqm[entry])} | {accuracies} |"
        )
    return "\n".join(lines)


def task_table(task: TaskProtocol, records: list[RunRecord]) -> str:
    lines = [
        "| algorithm | track | memory | runs | env steps | minutes | steps/s | "
        "test accuracy (%) | normalised IQM [95% CI] |",
        "|---|---|---|---:|---:|---:|---:|---:|---|",
    ]
    by_entry = aggregate.runs_by_task(record for record in records if record.task == task.env_id)
    scores = {
        entry: np.array([[task.normalised(run.test_accuracy)] for run in tasks[task.env_id]])
        for entry, tasks in by_entry.items()
    }
    iqm = aggregate.iqm_intervals(scores)
    for entry, tasks in _in_lineup_order(by_entry).items():
        runs = tasks[task.env_id]
        memory = LINEUP[entry].memory if entry in LINEUP else "?"
        lines.append(
            f"| {entry} | {runs[0].track} | {memory} | {len(runs)} | "
            f"{statistics.fmean(run.steps for run in runs):,.0f} | "
            f"{statistics.fmean(run.minutes for run in runs):.1f} | "
            f"{statistics.fmean(run.steps_per_second for run in runs):,.0f} | "
            f"{_mean_sd([run.test_accuracy for run in runs])} | {_interval(iqm[entry])} |"
        )
    return "\n".join(lines)


def target_text(current: list[RunRecord], records: list[RunRecord]) -> str:
    """Whether a reward-only SB3 algorithm with memory reached the target on MNIST (from the
    ``current`` records, at the planned budget), and if not, why, in numbers (``_why_not``)."""
    candidates = _target_task_accuracies(current, _target_candidates())
    budget = TASK_PROTOCOLS[TARGET_TASK].budget_steps
    if not candidates:
        return (
            f"Target: a reward-only SB3 algorithm with memory at >= {TARGET_ACCURACY:g}% test "
            f"accuracy on `{TARGET_TASK}` within its budget ({budget:,} env steps). "
            "Not measured yet: no run of one is recorded."
        )
    best = max(candidates, key=lambda name: statistics.fmean(candidates[name]))
    mean, runs = statistics.fmean(candidates[best]), len(candidates[best])
    planned = TASK_PROTOCOLS[TARGET_TASK].seeds
    met = mean >= TARGET_ACCURACY and runs >= planned  # a mean over every planned seed
    if met:
        verdict = "**met**"
    elif mean >= TARGET_ACCURACY:
        verdict = f"**not met yet** (the mean needs all {planned} planned seeds, {runs} run)"
    else:
        verdict = "**not met**"
    seeds = ", ".join(f"{value:.2f}" for value in candidates[best])
    others = ", ".join(
        f"{name} {statistics.fmean(values):.2f}%" for name, values in candidates.items()
    )
    text = (
        f"Target: a reward-only SB3 algorithm with memory at >= {TARGET_ACCURACY:g}% test "
        f"accuracy on `{TARGET_TASK}` within {budget:,} env steps: {verdict}. Best: {best}, "
        f"{mean:.2f}% (mean of {runs} run(s): {seeds}%). All: {others}."
    )
    return text if met else f"{text}\n\n{_why_not(best, current, records)}"


def _target_candidates() -> list[str]:
    return [
        name
        for name, entry in LINEUP.items()
        if not entry.is_reinforce and entry.has_memory and entry.track == REWARD_ONLY
    ]


def _target_task_accuracies(records: list[RunRecord], names: list[str]) -> dict[str, list[float]]:
    """The test accuracies on the target task of each of ``names`` with runs there."""
    accuracies = {
        name: [r.test_accuracy for r in records if r.entry == name and r.task == TARGET_TASK]
        for name in names
    }
    return {name: values for name, values in accuracies.items() if values}


def _mean_curve(runs: list[RunRecord]) -> list[float] | None:
    """The runs' mean validation accuracy at each curve point; None unless they all have the
    same, non-empty number of points."""
    lengths = {len(run.curve) for run in runs}
    if len(lengths) != 1 or not runs[0].curve:
        return None
    return [
        statistics.fmean(run.curve[k].val_accuracy for run in runs)
        for k in range(len(runs[0].curve))
    ]


def _why_not(best: str, current: list[RunRecord], records: list[RunRecord]) -> str:
    """Why the target was missed, from the records: the best candidate's learning curve at
    the budget's end, the same memory trained on the label, and runs at longer budgets."""
    task = TASK_PROTOCOLS[TARGET_TASK]
    reasons = []
    complete = [
        r
        for r in current
        if r.entry == best and r.task == TARGET_TASK and len(r.curve) == task.curve_points
    ]
    means = _mean_curve(complete)
    if means and len(means) > 1:
        rise = means[-1] - means[-2]
        trend = "still rising" if rise > 0 else "flat or falling"
        steps = ", ".join(steps_label(step) for step in task.curve_steps())
        reasons.append(
            f"{best}'s validation accuracy (mean of {len(complete)} run(s)) at {steps} env "
            f"steps: {', '.join(f'{value:.1f}' for value in means)}%, {trend} "
            f"({rise:+.1f} points over the budget's last fifth)."
        )
    memory = LINEUP[best].memory
    with_label = _target_task_accuracies(
        current,
        [
            name
            for name, entry in LINEUP.items()
            if entry.track != REWARD_ONLY and entry.memory == memory and not entry.is_reinforce
        ],
    )
    if with_label:
        shown = ", ".join(
            f"{name} {statistics.fmean(values):.2f}% ({len(values)} run(s))"
            for name, values in with_label.items()
        )
        reasons.append(
            f"The same memory ({memory}) trained on the label in the same budget: {shown}; "
            "what the reward-only runs lack is learning the class from the 0/1 reward."
        )
    candidates = set(_target_candidates())
    longer: dict[tuple[str, int], list[RunRecord]] = {}
    for r in sorted(records, key=lambda r: (r.entry, r.budget_steps, r.seed)):
        if r.task == TARGET_TASK and r.entry in candidates and r.budget_steps > task.budget_steps:
            longer.setdefault((r.entry, r.budget_steps), []).append(r)
    if longer:
        shown = "; ".join(
            _longer_runs_text(entry, budget, runs) for (entry, budget), runs in longer.items()
        )
        reasons.append(
            f"Longer than the budget (not aggregated, not counted for the target): {shown}."
        )
    return "Why: " + " ".join(reasons) if reasons else "Why: no curve or comparison recorded."


def _longer_runs_text(entry: str, budget: int, runs: list[RunRecord]) -> str:
    """One entry's runs at one longer budget: their mean, each seed, the mean curve."""
    seeds = ", ".join(str(r.seed) for r in runs)
    values = ", ".join(f"{r.test_accuracy:.2f}" for r in runs)
    mean = statistics.fmean(r.test_accuracy for r in runs)
    text = (
        f"{entry} at {steps_label(budget)} env steps: {mean:.2f}% test, mean of {len(runs)} "
        f"run(s) (seeds {seeds}: {values}%)"
    )
    means = _mean_curve(runs)
    if means is None:
        return text
    curve = ", ".join(
        f"{value:.1f}% at {steps_label(budget * (k + 1) // len(means))}"
        for k, value in enumerate(means)
    )
    return f"{text}; mean validation {curve}"


def lineup_table() -> str:
    lines = [
        "| algorithm | track | memory | `train.py` | settings |",
        "|---|---|---|---|---|",
    ]
    for entry in LINEUP.values():
        flags = " ".join(["--algo", entry.algo, *entry.flags])
        settings = ", ".join(f"{key} {value:,}" if isinstance(value, int) else f"{key} {value}"
                             for key, value in entry.settings.items())  # fmt: skip
        lines.append(f"| {entry.name} | {entry.track} | {entry.memory} | `{flags}` | {settings} |")
    return "\n".join(lines)


def plan_table(
    speeds: dict[tuple[str, str], Speed], records: list[RunRecord], parallel: int
) -> str:
    tasks = list(TASK_PROTOCOLS.values())
    head = " | ".join(
        f"{task.name}: {task.seeds} x {steps_label(task.budget_steps)}" for task in tasks
    )
    lines = [f"| algorithm | {head} | all tasks |", "|---|" + "---:|" * (len(tasks) + 1)]
    totals = [0.0] * len(tasks)
    unknown = [0] * len(tasks)
    for entry in LINEUP.values():
        costs = [planned_cost(task, entry, speeds, records) for task in tasks]
        cells = []
        for index, cost in enumerate(costs):
            cells.append(_cost_cell(cost))
            if cost.hours is None:
                unknown[index] += 1
            else:
                totals[index] += cost.hours
        known = [cost.hours for cost in costs if cost.hours is not None]
        row_total = f"{sum(known):.2f}" + ("+" if len(known) < len(costs) else "")
        lines.append(f"| {entry.name} | {' | '.join(cells)} | {row_total} |")
    cells = [f"**{hours:.1f}**" + ("+" if unknown[i] else "") for i, hours in enumerate(totals)]
    total = sum(totals)
    lines.append(f"| all | {' | '.join(cells)} | **{total:.1f}**{'+' if any(unknown) else ''} |")
    more = " (and more: some not measured)" if any(unknown) else ""
    runs = sum(task.seeds for task in tasks) * len(LINEUP)
    summary = (
        f"In all {runs} runs, **{total:.1f} run-hours**{more}: "
        f"**{sessions(total, parallel):.1f} sessions** of {SESSION_HOURS:g} h with {parallel} "
        "runs side by side."
    )
    return "\n".join(lines) + "\n\n" + summary


def _cost_cell(cost: PlannedCost) -> str:
    if cost.hours is None:
        return "not measured"
    mark = "" if cost.source == "runs" else "~"
    return f"{mark}{cost.hours:.2f} h ({cost.seconds_per_run / 60:.1f} min/run)"


def speed_table(speeds: dict[tuple[str, str], Speed]) -> str:
    if not speeds:
        return "No speeds measured yet (`python -m benchmarks.algorithms --measure-speed`)."
    tasks = [task for task in TASK_PROTOCOLS if any(key[0] == task for key in speeds)]
    head = " | ".join(f"{_short(task)} steps/s | scoring s" for task in tasks)
    lines = [f"| algorithm | {head} |", "|---|" + "---:|---:|" * len(tasks)]
    for name in LINEUP:
        cells = []
        for task in tasks:
            speed = speeds.get((task, name))
            cells.append(
                "| "
                if speed is None
                else f"{speed.steps_per_second:,.0f} | {speed.eval_seconds:.0f}"
            )
        lines.append(f"| {name} | {' | '.join(cells)} |")
    loads = sorted(speed.load_average for speed in speeds.values())
    dates = sorted({speed.date for speed in speeds.values()})
    lines.append("")
    lines.append(
        f"Measured {', '.join(dates)} on {next(iter(speeds.values())).processor}, one thread "
        f"per run; the machine's 1-minute load average when each started: {loads[0]:.1f} to "
        f"{loads[-1]:.1f}. The machine is shared: with other work on it (a load of 4-6 on its "
        "2 cores) the same runs went about half as fast; two benchmark runs side by side are "
        "taken to keep their single speed (one thread each on 2 cores), which the recorded "
        "runs' wall times check."
    )
    return "\n".join(lines)


def every_run_table(records: list[RunRecord]) -> str:
    lines = [
        "| task | algorithm | track | seed | budget | env steps | minutes | test accuracy (%) | "
        "final validation (%) | resumed | commit |",
        "|---|---|---|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in records:
        budget = steps_label(r.budget_steps) + (" (reduced)" if r.reduced_budget else "")
        final_val = f"{r.curve[-1].val_accuracy:.2f}" if r.curve else ""
        lines.append(
            f"| {_short(r.task) if r.task in TASK_PROTOCOLS else r.task} | {r.entry} | {r.track} | "
            f"{r.seed} | {budget} | {r.steps:,} | {r.minutes:.1f} | {r.test_accuracy:.2f} | "
            f"{final_val} | {r.resumed} | {r.commit[:9]} |"
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------- the plots


def plot_aggregates(results: list[TrackResult], path: Path) -> Path | None:
    """Per track: the IQM with its CI per algorithm, and the performance profiles."""
    from rliable import plot_utils

    from benchmarks.plotting import pyplot, save_png

    shown = [result for result in results if result.runs]
    if not shown:
        return None
    plt = pyplot()
    figure, axes = plt.subplots(len(shown), 2, figsize=(13, 4.2 * len(shown)), squeeze=False)
    for (bars, profile), result in zip(axes, shown, strict=True):
        colours = _colours(list(result.runs))
        ranked = sorted(result.runs, key=lambda entry: result.iqm[entry].value)
        for row, entry in enumerate(ranked):
            interval = result.iqm[entry]
            bars.barh(row, interval.high - interval.low, left=interval.low, height=0.6,
                      color=colours[entry], alpha=0.75)  # fmt: skip
            bars.plot([interval.value] * 2, [row - 0.3, row + 0.3], color="black", linewidth=1.5)
        bars.set_yticks(range(len(ranked)), ranked)
        bars.axvline(1.0, color="grey", linestyle="--", linewidth=1)
        lowest = min(result.iqm[entry].low for entry in ranked)
        highest = max(1.0, *(result.iqm[entry].high for entry in ranked))
        margin = 0.05 * (highest - lowest) + 0.01  # no interval on the frame
        bars.set_xlim(lowest - margin, highest + margin)
        bars.set_xlabel("normalised test score: IQM and 95% CI (1 = the paper's RAM)")
        bars.set_title(f"{result.track}: {', '.join(_short(task) for task in result.tasks)}")
        scores = aggregate.score_matrices(result.runs, result.tasks)
        profiles, cis = aggregate.performance_profiles(scores)
        plot_utils.plot_performance_profiles(
            profiles, aggregate.PROFILE_TAUS, cis, ax=profile, colors=colours,
            xlabel="normalised test score τ", ylabel="share of runs above τ",
            labelsize="medium", ticklabelsize="medium",
        )  # fmt: skip
        profile.legend(fontsize=7, loc="lower left")
    figure.tight_layout()
    return save_png(figure, path)


def plot_curves(results: list[TrackResult], path: Path) -> Path | None:
    """Per track: the IQM of the normalised validation score at each curve point."""
    from rliable import plot_utils

    from benchmarks.plotting import pyplot, save_png

    curves = [(result, aggregate.curve_matrices(result.runs, result.tasks)) for result in results]
    curves = [(result, matrices) for result, matrices in curves if matrices]
    if not curves:
        return None
    plt = pyplot()
    figure, axes = plt.subplots(1, len(curves), figsize=(6.5 * len(curves), 4.6), squeeze=False)
    for axis, (result, matrices) in zip(axes[0], curves, strict=True):
        points = next(iter(matrices.values())).shape[-1]
        fractions = np.arange(1, points + 1) / points
        estimates, intervals = aggregate.iqm_curves(matrices)
        plot_utils.plot_sample_efficiency_curve(
            fractions, estimates, intervals, algorithms=list(matrices), ax=axis,
            colors=_colours(list(matrices)), xlabel="fraction of the budget (env steps)",
            ylabel="normalised validation score (IQM)", labelsize="medium",
            ticklabelsize="medium",
        )  # fmt: skip
        axis.set_title(f"{result.track}: {', '.join(_short(task) for task in result.tasks)}")
        axis.legend(fontsize=7, loc="upper left")
    figure.tight_layout()
    return save_png(figure, path)


def _colours(entries: list[str]) -> dict[str, tuple]:
    """One colour per algorithm of the lineup, the same in every plot."""
    from benchmarks.plotting import pyplot

    palette = pyplot().get_cmap("tab20").colors
    order = list(LINEUP)
    return {entry: palette[order.index(entry) % len(palette)] if entry in order else "grey"
            for entry in entries}  # fmt: skip


# --------------------------------------------------------------------------- the page


def page(
    records: list[RunRecord],
    results: list[TrackResult],
    speeds: dict[tuple[str, str], Speed],
    plots: dict[str, Path | None],
    out: Path,
    parallel: int = PLANNED_PARALLEL,
) -> str:
    """The Markdown of ``docs/benchmark.md``: ``results`` are the tracks' aggregates of the
    ``records`` at the planned budgets (``track_result``)."""
    current = current_records(records)
    sections = []
    for result in results:
        if not result.runs:
            sections.append(f"### {TRACK_TITLES[result.track]}\n\nNo complete runs yet.")
            continue
        missing = ""
        if result.incomplete:
            missing = (
                f"\n\nNot in the aggregate (no run on some of these tasks): "
                f"{', '.join(result.incomplete)}; see the tables per task."
            )
        sections.append(
            f"### {TRACK_TITLES[result.track]}\n\nTasks: "
            f"{', '.join(_short(task) for task in result.tasks)}; every algorithm with runs on "
            f"all of them, each with its lowest seeds, as many on every task.\n\n"
            f"{aggregate_table(result)}{missing}"
        )
    figures = "\n\n".join(
        f"![{name}]({path.relative_to(out.parent)})" for name, path in plots.items() if path
    )
    tasks = "\n\n".join(
        f"### {task.title} (`{task.env_id}`), {steps_label(task.budget_steps)} env steps"
        + (" (reduced)" if task.reduced else "")
        + "\n\n"
        + (
            task_table(task, current)
            if any(r.task == task.env_id for r in current)
            else "No runs yet."
        )
        for task in TASK_PROTOCOLS.values()
    )
    other_budgets = len(records) - len(current)
    others = (
        f" ({other_budgets} at a budget other than the planned one: listed at the end only)"
        if other_budgets
        else ""
    )
    return f"""# Algorithms on the glimpse tasks

Generated by `python -m benchmarks.algorithms --report` from {len(records)} run record(s) in
[`docs/benchmark/runs/`](benchmark/runs/){others}.
Each record is one run: `python train.py ...` with the task's budget and a seed, then
`python train.py --eval RUN --split test`.

## Protocol

**Tracks.** Every run is in one of two tracks, told from the settings it trained with:
*reward only*: training never reads the label, the only signal is the reward (1 for the
right class at the last step); *hybrid*: the label the env reveals at the episode's end may
train the classifier by cross-entropy, as in the paper. An algorithm that reads the label is
hybrid. Algorithms are compared within a track.

**Budget.** The same number of env steps for every algorithm on a task (an episode is T
steps; REINFORCE trains on budget / T images). The protocol asks for
{steps_label(next(iter(TASK_PROTOCOLS.values())).full_steps)} env steps per run; the budgets below
fit this machine (see the compute plan) and are marked **reduced** where below it.

{seeds_text()}

{protocol_table()}

The four classification tasks of the paper's tables; its dynamic task, `GlimpseCatch-v0`,
has no label and scores a catch rate, and is compared apart (`benchmarks.catch_baselines`).

**Scores.** The final weights, scored on the 10,000 fixed test canvases, each once, along the
policy's deterministic path (`ram_env.evaluate`). The learning curve: the whole validation
split (10,000 fixed canvases) scored at each curve point, i.e. at the first update at or past
each step count (`train.py --curve-every`). **Normalised score**: (accuracy - {CHANCE:g}) /
(paper RAM accuracy - {CHANCE:g}): 0 at chance, 1 at the paper's RAM with the task's glimpse
count (Mnih et al. 2014; the accuracies in the table above).

**Aggregates** (rliable): the interquartile mean (IQM) of the normalised scores over all
runs of all tasks, with 95% confidence intervals from a stratified bootstrap (runs resampled
within each task; {aggregate.BOOTSTRAP_REPS:,} resamples, seeded so the page rebuilds the
same), and performance profiles (the share of runs above each score).

**Hardware.** {hardware_text(records)}.

## Results

{target_text(current, records)}

{(chr(10) * 2).join(sections)}

{figures}

## Results per task

{tasks}

## Algorithms

Every SB3 algorithm of `agents/sb3_registry.py` and the hand-written RAM in both tracks.
*Memory*: what the policy keeps of the episode's earlier glimpses ("none": it sees one
glimpse at a time). The `-history` algorithms see the episode's glimpses so far (frame
stacking, `agents/glimpse_history.py`). Off-policy algorithms (SAC, TD3, DQN) step 256
envs at a time with one gradient step of 256 transitions after each (`train_freq 1`,
`gradient_steps 1`: each transition replayed about once), so that they get through the
budget at a few thousand steps per second; at one gradient step per transition they would
need hours per run. DQN takes 4 gradient steps (each transition replayed about 4 times)
and moves its target network every 1,000 of them (`target_update_interval` counts env
steps over the 256 envs); its epsilon falls to 0.02 over the first 5% of the budget, so
that most of its data comes from where its greedy policy looks (its 810 actions are every
(cell, cell, class) triple). SAC and TD3 choose the class as the argmax of 10 continuous
scores, a reward that is a step function of their action: TD3's actor ends with every score
at the bounds (ties go to the first class), SAC's critic stays flat at the chance reward;
`python -m benchmarks.critic_check RUN` shows both for a run.

{lineup_table()}

## Compute plan

Hours of the planned runs on this machine: seeds x (budget / measured env steps per second
+ the curve's and the test's scorings + start-up), from the wall time of recorded runs where
there are some, else (marked ~) from the short speed measurements below. Runs go
{parallel} side by side, one thread each (`--parallel {parallel}`); a stopped benchmark
carries on where it was (finished runs are reused, REINFORCE runs resume from `last.pt`, an
SB3 run under way starts again).

{plan_table(speeds, current, parallel)}

Speeds (`python -m benchmarks.algorithms --measure-speed`: {_speed_steps_text()}):

{speed_table(speeds)}

## Running it

```bash
python -m benchmarks.algorithms --tasks mnist --parallel 2       # every algorithm, planned seeds
python -m benchmarks.algorithms --tasks mnist --algos ppo-history --seeds 5
python -m benchmarks.algorithms --parallel 2 --hours 2.5         # only the runs that end in 2.5 h
python -m benchmarks.algorithms --plan --tasks mnist translated  # what is left, in hours
python -m benchmarks.algorithms --tasks mnist --algos ppo --budget-times 3  # 3x the budget
python -m benchmarks.algorithms --report                         # this page, from the records
```

Runs go to `runs/benchmark/TASK/ALGO-seedS-BUDGET/` (scratch), records to
`docs/benchmark/runs/` (commit them). Runs at another budget (`--budget-times`) are
recorded under their own budget, listed in the last table and never aggregated. Stop with
Ctrl-C or a SIGTERM: the runs under way save and stop, and the same command carries on later.

## Every run

{every_run_table(records) if records else "None yet."}
"""


def _speed_steps_text() -> str:
    from benchmarks.compute_plan import REINFORCE_UPDATES, SPEED_STEPS

    return (
        f"{SPEED_STEPS:,} env steps per SB3 run, {REINFORCE_UPDATES} updates per REINFORCE run, "
        "no validation; the scoring column is the test split's scoring, process start-up included"
    )


def write_report(out: Path, records: list[RunRecord], speeds: dict[tuple[str, str], Speed]) -> Path:
    """Write the page and its plots (the plots only where there are runs to draw)."""
    from ram_env.atomic import write_atomic

    current = current_records(records)
    results = [track_result(current, track) for track in TRACKS]
    plot_dir = out.parent / PLOT_DIR
    plots = {
        "normalised scores: IQM with 95% CIs and performance profiles": plot_aggregates(
            results, plot_dir / "aggregate.png"
        ),
        "IQM learning curves": plot_curves(results, plot_dir / "curves.png"),
    }
    text = page(records, results, speeds, plots, out)
    write_atomic(out, lambda file: file.write(text.encode()))
    return out
