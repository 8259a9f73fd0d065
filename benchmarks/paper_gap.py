"""How far the paper's own model (the ReLU RNN core) is from the paper's figures, and why.

The results page shows, under each task's table, its paper-faithful lines against the paper
and against the best overall line (error and training images), and once, the runs where the
two cores trained side by side at an equal budget: settings whose commands differ in
``--core`` alone, trained for the same budget on the same hardware. Both are read from the
scored runs' records, so the page says only what the runs measured.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol


class ScoredSetting(Protocol):
    """What this module reads of ``paper_records.Setting``."""

    runs: tuple[dict[str, Any], ...]

    @property
    def record(self) -> dict[str, Any]: ...

    @property
    def flags(self) -> dict[str, str]: ...

    @property
    def shared_flags(self) -> dict[str, str]: ...

    @property
    def error(self) -> float: ...

    @property
    def budget(self) -> tuple[float, int, int]: ...


class PaperRow(Protocol):
    glimpses: int
    random_locations: bool

    @property
    def paper_error(self) -> float | None: ...


class RowChoice(Protocol):
    """What this module reads of ``paper_records.Choice``."""

    row: PaperRow
    faithful: ScoredSetting | None
    best: ScoredSetting | None


def mean_images(setting: ScoredSetting) -> float:
    return statistics.fmean(run["images"] for run in setting.runs)


def millions(images: float) -> str:
    return f"{images / 1e6:.1f}M"


def glimpses_text(row: PaperRow) -> str:
    return f"{row.glimpses}, random locations" if row.random_locations else str(row.glimpses)


def gap_lines(choices: Sequence[RowChoice]) -> list[str]:
    """A task's paper-faithful lines against the paper and the best overall line."""
    rows = [choice for choice in choices if choice.faithful is not None]
    if not rows:
        return []
    over = [
        choice
        for choice in rows
        if choice.row.paper_error is not None
        and choice.faithful is not None
        and choice.faithful.error > choice.row.paper_error
    ]
    lines = [
        "The paper's model (ReLU RNN core; gap: paper-faithful minus paper, in points):",
        "",
        "| glimpses | paper | paper-faithful | gap | its images | best overall | its images |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for choice in rows:
        faithful, best, paper = choice.faithful, choice.best, choice.row.paper_error
        assert faithful is not None and best is not None
        gap = "-" if paper is None else f"{faithful.error - paper:+.2f}"
        lines.append(
            f"| {glimpses_text(choice.row)} | {'-' if paper is None else f'{paper:.2f}'} | "
            f"{faithful.error:.2f} | {gap} | {millions(mean_images(faithful))} | "
            f"{best.error:.2f} | {millions(mean_images(best))} |"
        )
    lines.append("")
    if not over:
        lines += ["At or under the paper at every glimpse count.", ""]
        return lines
    ratios = [
        mean_images(choice.best) / mean_images(choice.faithful)
        for choice in over
        if choice.best is not None
        and choice.faithful is not None
        and choice.best is not choice.faithful
    ]
    why = (
        f"Above the paper at {len(over)} of {len(rows)} glimpse counts. Budget: the "
        "paper-faithful lines above the paper trained on "
        + ", ".join(millions(mean_images(c.faithful)) for c in over if c.faithful is not None)
        + " images"
    )
    if ratios:
        why += (
            f", {min(ratios):.1f}-{max(ratios):.1f} times fewer than the best overall line"
            if len(ratios) > 1
            else f", {ratios[0]:.1f} times fewer than the best overall line"
        )
    lines += [why + ". Core: see the side-by-side runs of the two cores below.", ""]
    return lines


def hardware_of(setting: ScoredSetting, where: Callable[[dict[str, Any]], str]) -> str:
    return "; ".join(sorted({where(run) for run in setting.runs}))


def flags_but_core(setting: ScoredSetting) -> tuple[tuple[str, str], ...]:
    """A setting's command without its core and the flags its runs may differ in."""
    return tuple(sorted((f, v) for f, v in setting.shared_flags.items() if f != "--core"))


def core_of(setting: ScoredSetting) -> str:
    return setting.flags.get("--core", "rnn")


def core_pairs(
    settings: Iterable[ScoredSetting], where: Callable[[dict[str, Any]], str]
) -> list[tuple[ScoredSetting, ScoredSetting]]:
    """(RNN, LSTM) settings of one row that differ in ``--core`` alone, with the same budget
    and the same hardware: the two cores trained side by side."""
    by_key: dict[tuple[Any, ...], dict[str, ScoredSetting]] = {}
    for setting in settings:
        record = setting.record
        key = (
            record["task"],
            record["glimpses"],
            record["random_locations"],
            flags_but_core(setting),
            setting.budget,
            hardware_of(setting, where),
        )
        by_key.setdefault(key, {})[core_of(setting)] = setting
    pairs = [
        (cores["rnn"], cores["lstm"]) for cores in by_key.values() if {"rnn", "lstm"} <= set(cores)
    ]
    return sorted(pairs, key=lambda pair: (pair[0].record["task"], pair[0].record["glimpses"]))


def seeds_text(rnn: ScoredSetting, lstm: ScoredSetting) -> str:
    """The seeds of a pair's runs, once where both cores ran the same."""
    texts = []
    for setting in (rnn, lstm):
        seeds = sorted(run["seed"] for run in setting.runs)
        texts.append(("seed " if len(seeds) == 1 else "seeds ") + ", ".join(map(str, seeds)))
    return texts[0] if texts[0] == texts[1] else f"{texts[0]}; {texts[1]}"


def pair_lines(
    settings: Iterable[ScoredSetting],
    where: Callable[[dict[str, Any]], str],
    budget: Callable[[ScoredSetting], str],
) -> list[str]:
    """The section on the two cores trained side by side."""
    pairs = core_pairs(settings, where)
    lines = [
        "## The paper's core against the LSTM, side by side",
        "",
        "Settings whose commands differ in `--core` alone, trained for the same budget on the",
        "same hardware (mean one-path test error over each setting's runs).",
        "",
    ]
    if not pairs:
        return [*lines, "No such pair has been run yet.", ""]
    lines += [
        "| task | glimpses | settings | budget | hardware | runs | RNN | LSTM "
        "| images (RNN, LSTM) |",
        "|---|---|---|---|---|---|---:|---:|---|",
    ]
    for rnn, lstm in pairs:
        record = rnn.record
        glimpses = f"{record['glimpses']}" + (", random" if record["random_locations"] else "")
        lines.append(
            f"| {record['task']} | {glimpses} | {record['variant']}, {lstm.record['variant']} | "
            f"{budget(rnn)} | {hardware_of(rnn, where)} | {seeds_text(rnn, lstm)} | "
            f"{rnn.error:.2f} | {lstm.error:.2f} | "
            f"{millions(mean_images(rnn))}, {millions(mean_images(lstm))} |"
        )
    ahead = sum(lstm.error < rnn.error for rnn, lstm in pairs)
    lines += ["", f"The LSTM core is ahead in {ahead} of {len(pairs)} pairs.", ""]
    return lines
