"""``docs/results.md`` written from the records: per task, the paper's RAM rows against our
best paper-faithful and best overall settings, with the gaps and where the agents look; a
summary; an appendix of every run; and per task a plot of test error against glimpses.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path
from typing import Any

from benchmarks.paper_gap import gap_lines, glimpses_text, mean_images, millions, pair_lines
from benchmarks.paper_records import (
    RUN_FLAGS,
    Choice,
    Setting,
    budget_text,
    choices,
    command_flags,
    command_tokens,
    earlier_devices,
    extended_budgets,
    longest_budgets,
    settings_of,
)
from benchmarks.paper_rows import SEED_TABLE_SEEDS, TASKS, VARIANTS, Row, Task

COLUMNS = (
    "| glimpses | paper | ours | setting | one path | mc 10 | runs (seed: one path) | budget | "
    "minutes | images | hardware | command |",
    "|---|---:|---|---|---:|---:|---|---|---:|---:|---|---|",
)
APPENDIX_COLUMNS = (
    "| glimpses | locations | setting | paper | ours | mc 10 | minutes | images | seed | "
    "hardware | status | command |",
    "|---:|---|---|---:|---:|---:|---:|---:|---:|---|---|---|",
)


def minutes_cell(record: dict[str, Any]) -> str:
    """The minutes a row trained, and the budgets it was extended from, if it was."""
    cell = f"{record['minutes']:.1f}"
    budgets = extended_budgets(record)
    if budgets:
        cell += " (extended from " + ", then ".join(f"{m:g}" for m in budgets) + ")"
    return cell


def hardware(record: dict[str, Any]) -> str:
    """Where a row trained, for the report; a run carried on from other devices names those
    first."""
    device = record["device"]
    if device == "cpu":
        cores = record["machine"].split(", ")[-1]
        where = f"CPU ({cores}, {record['threads']} thread(s))"
    else:
        where = f"GPU ({device.split(': ', 1)[-1]})"
    before = []
    for earlier in earlier_devices(record):
        if earlier == "cpu":
            before.append("CPU")
        else:  # "cuda" from a checkpoint's config, or "cuda: <name>" from a row's record
            before.append(f"GPU ({earlier.split(': ', 1)[1]})" if ": " in earlier else "GPU")
    return ", then ".join([*before, where])


def headline_glimpses(task: Task) -> int:
    """The glimpse count of a task's summary line: its target's, else the env's (6)."""
    return task.target[0] if task.target else 6


def chosen_rows(choices: list) -> set[str]:
    """The row names of the settings a task's tables show (faithful and best overall)."""
    return {
        setting.record["row"]
        for choice in choices
        for setting in (choice.faithful, choice.best)
        if setting is not None
    }


def report(args: argparse.Namespace, records: dict[str, list[dict[str, Any]]]) -> str:
    settings = settings_of(records)
    picked = {task.name: choices(task, settings) for task in TASKS.values()}
    shown = {
        id(setting)
        for task_choices in picked.values()
        for choice in task_choices
        for setting in (choice.faithful, choice.best)
        if setting is not None
    }
    longest = {id(setting) for setting in longest_budgets(settings)}
    seed_tables = " and ".join(task.name for task in TASKS.values() if task.seed_table)
    lines = [
        "# The paper's tables, reproduced",
        "",
        "Test error (%) on the fixed 10,000 test canvases of each task, the paper's RAM rows",
        "against ours. *one path*: the agent follows the mean of its location policy (as the",
        "paper scores); *mc 10*: the class posteriors of 10 sampled paths averaged",
        "(`train.py --eval RUN/best.pt --split test --mc 10`). This page is written by",
        "`python -m benchmarks.paper_tables --report-only` from the records in",
        "`docs/results/rows/` (one JSON file per scored run); edit those, not this page.",
        "",
        "- A **setting** is one training command; its runs differ in seed and hardware only.",
        "  *one path* and *mc 10* are the means over its runs, and every run is listed.",
        "- **paper-faithful**: the paper's model (ReLU RNN core) and losses on the paper's",
        "  task, the first glimpse at a random place: uniform over the image (the env's",
        "  default) or normal around the centre (`--first-location gaussian`); the paper says",
        "  only that it is random. Training settings (batch, LR, location std and weight,",
        "  weight decay) are free. The LSTM core (`--core lstm`), a class asked of the earlier",
        "  glimpses (`--glimpse-classification-weight`) and a first glimpse at the centre",
        "  (`--first-location center`) are not paper-faithful.",
        "- **best overall**: the lowest mean one-path error of any setting. Both are chosen",
        "  among the longest budget of each setting (the same command up to `--train-minutes`",
        "  and `--epochs`); the records hold no validation score, so the choice is made on",
        "  test and flatters the chosen line a little.",
        f"- **seed tables** ({seed_tables}): a row's figure is the mean of its best",
        f"  setting with {SEED_TABLE_SEEDS} or more seeds; a row with no such setting yet shows",
        "  its best setting of fewer seeds (its *runs* cell says how many). One command",
        "  trains a row's seeds, one after another, e.g. `python -m benchmarks.paper_tables",
        "  --only translated --glimpses 8 --variant lstm-b512-wd0.1-std0.15 --minutes none",
        "  --epochs 500 --precision fp32 --seed 0 1 2` (a setting of epochs alone sees the",
        "  same images anywhere; `--precision fp32` keeps it one setting on machines where",
        "  `auto` would train in bf16).",
        "- **budget**: `--train-minutes` (wall clock, validation included) and the `--epochs`",
        "  cap; the LR decays over whichever ends first. *extended from*: trained to each",
        "  earlier budget, then resumed (`--resume`) with the next, so the cosine LR restarted",
        "  part-way; the command from scratch gives a similar, not the same, run.",
        "- **hardware**: where the run trained (a run resumed elsewhere names both machines;",
        "  its minutes add both). GPU runs were trained several at a time on one GPU by",
        "  `bash benchmarks/gpu.sh paper-rows`, sharing the machine's CPU cores for the envs.",
        "- **command**: the recorded `train.py` command, with `--out` left out, `S` for the",
        "  seed where a setting has several, and the flags whose default has changed since",
        "  filled in with the value the run had (`--weight-decay 0`, `--std 0.15`).",
        "",
        "Every run, including those superseded by a longer budget or a better setting, is in",
        "the [appendix](#appendix-every-run).",
        "",
        "## Summary",
        "",
        f"One line per task at its headline glimpse count ({_headline_text()}).",
        "",
        "| task | " + COLUMNS[0][2:],
        "|---" + COLUMNS[1],
    ]
    for task in TASKS.values():
        for choice in picked[task.name]:
            if choice.row.glimpses == headline_glimpses(task) and not choice.row.random_locations:
                lines += [f"| {task.name} {line}" for line in choice_lines(choice)]
    lines.append("")
    for task in TASKS.values():
        lines += [f"## {task.title}", "", f"`{task.env_id}`", ""]
        if task.target:
            lines += [f"Target: {task.target[1]}% or less with {task.target[0]} glimpses.", ""]
        if task.paper_others:
            others = "; ".join(f"{name} {error:.2f}" for name, error in task.paper_others)
            lines += [f"The paper's other models: {others}.", ""]
        lines += list(COLUMNS)
        for choice in picked[task.name]:
            lines += choice_lines(choice)
        lines += ["", f"![test error against glimpses](results/{task.name}.png)", ""]
        lines += gap_lines(picked[task.name])
        lines += gif_lines(args, task, chosen_rows(picked[task.name]), "Where the agent looks")
    lines += pair_lines(settings, hardware, budget_cell)
    lines += [
        "## Appendix: every run",
        "",
        "Every stored run, task by task: those of the settings above, those superseded by a",
        "longer budget of the same setting, and the other settings tried. *minutes* is the",
        "time trained, *images* the training images seen; the command is the recorded one",
        "(`--weight-decay 0` and `--std 0.15` filled in as above). The flags each setting adds",
        "to `train.py`'s defaults (`benchmarks/paper_tables.py --variant NAME`):",
        "",
        *[f"- {name}: `{' '.join(flags)}`" for name, flags in VARIANTS.items() if flags],
        "",
    ]
    for task in TASKS.values():
        mine = [setting for setting in settings if setting.record["task"] == task.name]
        mine.sort(key=_appendix_order)
        lines += [f"### {task.title}", "", *APPENDIX_COLUMNS]
        for setting in mine:
            if id(setting) in shown:
                why = "in the tables above"
            elif id(setting) in longest:
                why = "superseded by a better setting"
            else:
                why = "superseded by a longer budget"
            lines += [appendix_line(setting.row, run, why) for run in setting.runs]
        lines.append("")
        rows = {setting.record["row"] for setting in mine} - chosen_rows(picked[task.name])
        lines += gif_lines(args, task, rows, "Where the other settings look")
    lines += [
        "## History",
        "",
        "How these runs came about and what else was tried, in the order it happened:",
        "[paper-tables-notes.md](paper-tables-notes.md) (these tables) and",
        "[mnist-default-run.md](mnist-default-run.md) (how `train.py`'s defaults were chosen).",
    ]
    return "\n".join(lines)


def _headline_text() -> str:
    return ", ".join(f"{task.name} {headline_glimpses(task)}" for task in TASKS.values())


def _appendix_order(setting: Setting) -> tuple[Any, ...]:
    record = setting.record
    return (
        record["glimpses"],
        record["random_locations"],
        record["variant"] != "paper",
        record["variant"],
        setting.budget,
        record["scored_at"],
    )


def choice_lines(choice: Choice) -> list[str]:
    """A paper row's lines in a task's table: paper-faithful, then best overall if other."""
    row = choice.row
    head = f"| {glimpses_text(row)} | {row.paper_error:.2f} |"
    if choice.best is None:
        return [f"{head} not run | | | | | | | | | |"]
    if choice.faithful is choice.best:
        return [f"{head} paper-faithful, best overall | {setting_cells(choice.best)} |"]
    lines = []
    if choice.faithful is None:
        lines.append(f"{head} paper-faithful: not run | | | | | | | | | |")
    else:
        lines.append(f"{head} paper-faithful | {setting_cells(choice.faithful)} |")
    lines.append(f"{head} best overall | {setting_cells(choice.best)} |")
    return lines


def setting_cells(setting: Setting) -> str:
    runs = setting.runs
    mc = setting.mc_errors
    if not mc:
        mc_cell = "-"
    elif len(mc) < len(runs):
        mc_cell = f"{statistics.fmean(mc):.2f} ({len(mc)} of {len(runs)} runs)"
    else:
        mc_cell = f"{statistics.fmean(mc):.2f}"
    if len(runs) == 1:
        runs_cell = f"seed {runs[0]['seed']}"
    else:
        runs_cell = ", ".join(f"{run['seed']}: {run['error']:.2f}" for run in runs)
    minutes = [run["minutes"] for run in runs]
    minutes_text = f"{min(minutes):.1f}"
    if max(minutes) - min(minutes) >= 0.05:
        minutes_text += f"-{max(minutes):.1f}"
    hardware_counts: dict[str, int] = {}
    for run in runs:
        hardware_counts[hardware(run)] = hardware_counts.get(hardware(run), 0) + 1
    hardware_text = "; ".join(
        name if len(hardware_counts) == 1 else f"{name} x{count}"
        for name, count in hardware_counts.items()
    )
    cells = [
        setting.record["variant"],
        f"**{setting.error:.2f}**",
        mc_cell,
        runs_cell,
        budget_cell(setting),
        minutes_text,
        millions(mean_images(setting)),
        hardware_text,
        f"`{setting_command(setting)}`",
    ]
    return " | ".join(cells)


def budget_cell(setting: Setting) -> str:
    minutes, epochs, _ = setting.budget
    cell = budget_text(minutes, epochs)
    budgets = extended_budgets(setting.record)
    if budgets:
        cell += ", extended from " + ", then ".join(f"{m:g}" for m in budgets)
    return cell


def setting_command(setting: Setting) -> str:
    """The command of a setting's runs: ``--out`` and ``--no-progress`` left out, ``S`` for
    the seed where there are several, hardware flags only where every run had the same."""
    tokens = command_tokens(setting.record)
    each = [command_flags(command_tokens(run)) for run in setting.runs]
    shown: list[str] = []
    skip = False
    for index, token in enumerate(tokens):
        if skip:
            skip = False
            continue
        value = tokens[index + 1] if index + 1 < len(tokens) else ""
        takes_value = token.startswith("--") and value and not value.startswith("--")
        if token == "--seed" and setting.seeds > 1:
            shown += ["--seed", "S"]
            skip = True
            continue
        if token in ("--out", "--no-progress") or (
            token in RUN_FLAGS and len({flags.get(token) for flags in each}) > 1
        ):
            skip = bool(takes_value)
            continue
        shown.append(token)
    return " ".join(shown)


def appendix_line(row: Row, record: dict[str, Any], why: str) -> str:
    paper = "" if row.paper_error is None else f"{row.paper_error:.2f}"
    where = "random" if row.random_locations else "learned"
    mc = "-" if record["error_mc"] is None else f"{record['error_mc']:.2f}"
    return (
        f"| {row.glimpses} | {where} | {row.variant} | {paper} | {record['error']:.2f} | "
        f"{mc} | {minutes_cell(record)} | {record['images']:,} | {record['seed']} | "
        f"{hardware(record)} | {why} | `{' '.join(command_tokens(record))}` |"
    )


def gif_lines(args: argparse.Namespace, task: Task, rows: set[str], title: str) -> list[str]:
    """The glimpse-path pictures of some rows of a task, where they were drawn."""
    folder = args.out.parent / "results"
    gifs = [folder / f"{row}-paths.gif" for row in sorted(rows)]
    gifs = [gif for gif in gifs if gif.exists()]
    if not gifs:
        return []
    return [
        f"{title} (test digits; green: right, red: wrong):",
        "",
        *[f"![{gif.stem}](results/{gif.name})" for gif in gifs],
        "",
    ]


def error_plot(task: Task, picked: list[Choice], path: Path) -> Path:
    """Test error against glimpses: the paper's RAM rows and ours (the paper-faithful and the
    best overall settings of the tables: mean over runs, each run a small dot)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    from benchmarks.plotting import pyplot, save_png

    plt = pyplot()
    figure, axis = plt.subplots(figsize=(7.5, 4.8))
    glimpses = sorted(task.paper_errors)
    axis.plot(
        glimpses,
        [task.paper_errors[g] for g in glimpses],
        "s--",
        color="black",
        label="paper (Mnih et al. 2014)",
    )
    everything = [task.paper_errors[g] for g in glimpses]
    learned = [choice for choice in picked if not choice.row.random_locations]
    # Best overall first and hollow, so that where it is the paper-faithful setting too the
    # two marks show one inside the other.
    kinds = (
        ("best overall", "best", {"color": "#d62728", "marker": "^", "linestyle": ":"}, 0.09),
        ("paper-faithful", "faithful", {"color": "#1f77b4", "marker": "o"}, -0.09),
    )
    for label, attribute, style, offset in kinds:
        points = [
            (choice.row.glimpses, getattr(choice, attribute))
            for choice in learned
            if getattr(choice, attribute) is not None
        ]
        if not points:
            continue
        hollow = {"markersize": 10, "markerfacecolor": "none"} if attribute == "best" else {}
        axis.plot(
            [g for g, _ in points],
            [setting.error for _, setting in points],
            label=f"ours, {label} (mean over its runs)",
            **style,
            **hollow,
        )
        for g, setting in points:
            errors = [run["error"] for run in setting.runs]
            everything += errors
            faithful = next(c.faithful for c in learned if c.row.glimpses == g)
            if attribute == "best" and setting is faithful:
                continue  # its runs and name are drawn as the paper-faithful setting's
            if len(errors) > 1:
                axis.scatter(
                    [g + offset] * len(errors), errors, color=style["color"], s=9, alpha=0.5
                )
            if setting.record["variant"] != "paper":
                axis.annotate(
                    setting.record["variant"],
                    (g, setting.error),
                    textcoords="offset points",
                    xytext=(9, -12 if attribute == "faithful" else -3),
                    fontsize=7,
                    color=style["color"],
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8},
                )
    axis.set_yscale("log")
    axis.set_ylim(min(everything) / 1.3, max(everything) * 1.3)
    axis.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 1.5, 2.0, 3.0, 5.0, 7.0)))
    axis.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.yaxis.set_minor_formatter(NullFormatter())
    axis.set_xticks(glimpses)
    axis.set_xlim(glimpses[0] - 0.5, glimpses[-1] + 0.8)
    axis.set_xlabel("glimpses")
    axis.set_ylabel("test error (%), one path (log scale)")
    axis.set_title(task.title, fontsize=10)
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(fontsize=8, title="labels: our setting, where not paper", title_fontsize=7)
    figure.tight_layout()
    return save_png(figure, path)
