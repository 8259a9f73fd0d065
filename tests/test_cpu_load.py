"""The default torch thread count: cores busy with other work are left out."""

from __future__ import annotations

import pytest

from agents import cpu_load
from agents.launch import Launch


def stat_text(busy: int, idle: int, iowait: int = 0, cpus: int = 2) -> str:
    """A ``/proc/stat`` with ``busy`` ticks split over user and system, and ``cpus`` cpu lines."""
    summary = f"cpu  {busy - busy // 3} 0 {busy // 3} {idle} {iowait} 0 0 0 7 0"
    per_cpu = [f"cpu{index} 1 0 1 1 0 0 0 0 0 0" for index in range(cpus)]
    return "\n".join([summary, *per_cpu, "intr 12345 0 0", "ctxt 999", "cpufreq 1"]) + "\n"


def test_cpu_ticks_reads_the_summary_line_and_counts_cpus() -> None:
    busy, total, cpus = cpu_load.cpu_ticks(stat_text(busy=600, idle=300, iowait=100, cpus=4))
    assert (busy, total, cpus) == (600, 1000, 4)  # guest time (7) is already in user


@pytest.mark.parametrize("text", ["", "intr 1 2\n", "cpu  1 2 3\n"])
def test_cpu_ticks_refuses_text_without_a_summary(text: str) -> None:
    with pytest.raises(ValueError, match="'cpu' summary line"):
        cpu_load.cpu_ticks(text)


def test_busy_cores_is_the_busy_share_of_the_sample_times_the_cpus(tmp_path, monkeypatch) -> None:
    stat = tmp_path / "stat"
    stat.write_text(stat_text(busy=1000, idle=1000))
    # over the sample, 150 of 200 ticks busy on 2 cpus: 1.5 cores
    monkeypatch.setattr(
        cpu_load.time, "sleep", lambda _s: stat.write_text(stat_text(busy=1150, idle=1050))
    )
    assert cpu_load.busy_cores(stat=stat) == pytest.approx(1.5)


def test_busy_cores_is_zero_where_there_is_no_proc_stat(tmp_path) -> None:
    assert cpu_load.busy_cores(sample_s=0.0, stat=tmp_path / "missing") == 0.0
    garbled = tmp_path / "stat"
    garbled.write_text("not a stat file\n")
    assert cpu_load.busy_cores(sample_s=0.0, stat=garbled) == 0.0


@pytest.mark.parametrize(
    "cores, busy, local_processes, threads",
    [
        (2, 0.1, 1, 2),  # idle: every core
        (2, 0.9, 1, 1),  # one core training elsewhere: the other
        (2, 2.0, 1, 1),  # all busy: still one thread
        (2, 0.4, 1, 2),  # a passing blip is not a busy core
        (16, 0.0, 1, 4),  # at most 4
        (16, 14.0, 1, 2),
        (16, 0.0, 2, 4),
        (8, 2.0, 2, 3),  # 6 free cores shared by 2 processes
    ],
)
def test_default_threads_leaves_busy_cores_out(
    cores: int, busy: float, local_processes: int, threads: int
) -> None:
    launch = Launch(local_world_size=local_processes)
    assert launch.default_threads(cpu_count=cores, busy_cores=busy) == threads


def test_choose_threads_keeps_a_requested_count_without_measuring(monkeypatch) -> None:
    monkeypatch.setattr(cpu_load, "busy_cores", lambda: pytest.fail("measured the machine"))
    assert cpu_load.choose_threads(3) == (3, "--threads")


def test_choose_threads_measures_a_lone_process_and_says_what_it_found(monkeypatch) -> None:
    monkeypatch.setattr(cpu_load, "busy_cores", lambda: 1.2)
    monkeypatch.setattr(Launch, "cpu_count", staticmethod(lambda: 2))
    threads, reason = cpu_load.choose_threads(None)
    assert threads == 1
    assert reason == "--threads unset: 2 cores, 1.2 busy with other work"


def test_choose_threads_does_not_measure_under_torchrun(monkeypatch) -> None:
    # ranks that start together would count each other as busy
    monkeypatch.setattr(cpu_load, "busy_cores", lambda: pytest.fail("measured the machine"))
    monkeypatch.setattr(Launch, "cpu_count", staticmethod(lambda: 8))
    threads, _ = cpu_load.choose_threads(None, Launch(1, 2, 1, 2))
    assert threads == 4


def test_busy_cores_reads_this_machine() -> None:
    if not cpu_load.PROC_STAT.exists():
        pytest.skip("no /proc/stat here")
    cpus = cpu_load.cpu_ticks(cpu_load.PROC_STAT.read_text())[2]
    assert 0.0 <= cpu_load.busy_cores(sample_s=0.05) <= cpus
