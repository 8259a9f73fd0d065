"""``benchmarks/gpu.sh pack``: what comes back from a GPU machine fits the tool's limit, and
the runs still to be carried on come back first; the script's commands and their usage."""

import os
import tarfile
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu.sh"
KB = 1024
TIMEOUT_S = 60  # packing a few kilobytes takes well under a second


def _run_folder(runs: Path, name: str, scored: bool, **sizes: int) -> None:
    folder = runs / name
    folder.mkdir(parents=True)
    for file, size in sizes.items():
        (folder / f"{file}.pt").write_bytes(os.urandom(size))  # incompressible, like weights
    (folder / "metrics.csv").write_text("epoch,images\n1,512\n")
    if scored:
        (folder / "row.json").write_text("{}")
    (runs / f"{name}.log").write_text("log\n")


def _members(tar: Path) -> set[str]:
    with tarfile.open(tar) as archive:
        return set(archive.getnames())


def test_unscored_runs_come_first_and_scored_ones_shed_last_pt_to_fit(tmp_path, run_bounded):
    runs, out = tmp_path / "runs", tmp_path / "out"
    # Named so that the alphabetical order packs the scored runs first without priority.
    _run_folder(runs, "c-unscored", False, best=300 * KB, last=300 * KB)
    _run_folder(runs, "a-scored", True, best=200 * KB, last=300 * KB)
    _run_folder(runs, "b-scored", True, best=300 * KB, last=100 * KB)
    (runs / "report").mkdir()
    (runs / "a-scored.out").write_text("a-scored: test error 1.00%\n")
    result = run_bounded(["bash", str(SCRIPT), "pack", str(runs), str(out), "1"], TIMEOUT_S)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["a-scored.tar.gz", "c-unscored.tar.gz"]
    assert sum(p.stat().st_size for p in out.iterdir()) <= 1024 * KB
    unscored = _members(out / "c-unscored.tar.gz")
    assert {"c-unscored/last.pt", "c-unscored/best.pt", "c-unscored.log"} <= unscored
    scored = _members(out / "a-scored.tar.gz")
    assert "a-scored/best.pt" in scored and "a-scored/row.json" in scored
    assert "a-scored/last.pt" not in scored and "a-scored.out" in scored
    assert "packed a-scored without last.pt" in result.stderr
    assert "LEFT BEHIND (no room): scored run b-scored" in result.stderr


def test_everything_fits_whole_when_there_is_room(tmp_path, run_bounded):
    runs, out = tmp_path / "runs", tmp_path / "out"
    _run_folder(runs, "a-scored", True, best=10 * KB, last=10 * KB)
    _run_folder(runs, "b-unscored", False, last=10 * KB)
    result = run_bounded(["bash", str(SCRIPT), "pack", str(runs), str(out)], TIMEOUT_S)
    assert result.returncode == 0
    assert "a-scored/last.pt" in _members(out / "a-scored.tar.gz")
    assert "b-unscored/last.pt" in _members(out / "b-unscored.tar.gz")


# Each fails before it sets anything up or starts anything.
@pytest.mark.parametrize(
    "arguments",
    [
        [],
        ["unknown"],
        ["pack"],
        ["pack", "RUNS"],
        ["paper-rows"],
        ["paper-rows", "translated 6"],  # no variant
        ["paper-rows", "translated 6 lstm-b512 - one"],  # a seed that is not a number
        ["paper-rows", "translated 6 lstm-b512 - 1 more"],  # a field too many
        ["paper-rows", "translated 6 lstm-b512", "cluttered60 8"],  # the second row is short
        ["train-runs"],
        ["prepare", "x"],
        ["env-speed", "x"],
    ],
)
def test_usage_error_without_a_command_or_its_arguments(arguments, run_bounded):
    result = run_bounded(["bash", str(SCRIPT), *arguments], TIMEOUT_S)
    assert result.returncode == 2 and "usage: bash benchmarks/gpu.sh" in result.stderr
    assert result.stdout == ""


def test_paper_rows_refuse_an_unknown_precision_before_setting_up(run_bounded):
    environment = {**os.environ, "PRECISION": "fp16"}
    arguments = ["bash", str(SCRIPT), "paper-rows", "translated 6 lstm-b512"]
    result = run_bounded(arguments, TIMEOUT_S, env=environment)
    assert result.returncode == 2 and "PRECISION=fp16 is not auto, fp32 or bf16" in result.stderr
    assert result.stdout == ""


def test_help_names_every_command(run_bounded):
    result = run_bounded(["bash", str(SCRIPT), "help"], TIMEOUT_S)
    assert result.returncode == 0 and result.stderr == ""
    commands = ("prepare", "paper-rows", "train-runs", "pack RUNS OUT [LIMIT_MB]", "env-speed")
    for command in (*commands, "help"):
        assert f"  {command}" in result.stdout
