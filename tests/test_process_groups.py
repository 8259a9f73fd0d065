"""The process groups of ``benchmarks/gpu.sh``: its training commands stop the process groups
they started, with everything in them, and nothing else, also when the script itself is
stopped. The snippets source the script, which then only defines its functions."""

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HELPER = ROOT / "benchmarks" / "gpu.sh"
TIMEOUT_S = 60

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


def alive(pid: int) -> bool:
    """Whether the process is there and not a zombie (its state is the field after ``(comm)``)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def read_pids(folder: Path, names: list[str], timeout: float = 30.0) -> dict[str, int]:
    """The pids the snippet's processes write to ``folder/NAME``, once all have written."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        texts = {name: (folder / name).read_text() for name in names if (folder / name).exists()}
        if len(texts) == len(names) and all(text.endswith("\n") for text in texts.values()):
            return {name: int(text) for name, text in texts.items()}
        time.sleep(0.05)
    pytest.fail(f"the snippet's processes did not all start: {sorted(os.listdir(folder))}")


@pytest.fixture
def decoy():
    """``sleep 60`` started here, as the groups' processes are: by name it is one of them."""
    process = subprocess.Popen(["sleep", "60"])
    yield process
    process.kill()  # by its own pid: it is this test's child
    process.wait(timeout=30)


def test_stop_groups_ends_each_group_with_its_grandchildren_and_nothing_else(
    tmp_path, decoy, run_bounded
):
    # Group one: a parent and a grandchild, as paper_tables.py and its train.py; both end on
    # SIGTERM. Group two ignores SIGTERM, so that only the SIGKILL after the grace ends it.
    snippet = f"""
        set -u
        source {HELPER}
        start_group bash -c 'sleep 60 & echo $! >"$1/grandchild"; echo $$ >"$1/parent"; wait' \
            _ "$1" >/dev/null 2>&1  # (not this snippet's pipes: a failure shows at once)
        start_group bash -c 'trap "" TERM; sleep 60 & echo $! >"$1/stubborn"; wait' _ "$1" \
            >/dev/null 2>&1
        while [[ ! -s $1/grandchild || ! -s $1/parent || ! -s $1/stubborn ]]; do sleep 0.05; done
        groups_running && echo "running: ${{#group_pids[@]}} groups"
        start=$SECONDS
        stop_groups 2
        groups_running || echo "stopped in $((SECONDS - start)) s"
    """
    result = run_bounded(["bash", "-c", snippet, "_", str(tmp_path)], TIMEOUT_S)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "running: 2 groups" in result.stdout
    assert "stopped in" in result.stdout, result.stdout + result.stderr
    assert "SIGKILL" in result.stderr  # the stubborn group, after its 2 s of grace
    pids = read_pids(tmp_path, ["grandchild", "parent", "stubborn"], timeout=1)
    assert not any(alive(pid) for pid in pids.values()), pids
    assert decoy.poll() is None, "stop_groups ended a process it did not start"


def test_a_stopped_script_stops_its_groups_too(tmp_path, decoy):
    # The script runs in a session of its own, as run_bounded starts it, and gets a SIGTERM
    # to its group as a time-bounded caller sends: its trap stops the group it started, which
    # is not in the script's group and so is not reached by that signal itself.
    snippet = f"""
        set -u
        source {HELPER}
        stop_groups_on_signals 5
        start_group sleep 60
        echo "${{group_pids[0]}}" >"$1/run"
        while :; do sleep 0.1; done
    """
    with subprocess.Popen(
        ["bash", "-c", snippet, "_", str(tmp_path)], start_new_session=True
    ) as script:
        run = None
        try:
            run = read_pids(tmp_path, ["run"])["run"]
            assert os.getpgid(run) == run != os.getpgid(script.pid)  # a group of its own
            os.killpg(script.pid, signal.SIGTERM)
            assert script.wait(timeout=TIMEOUT_S) == 143
        finally:
            if script.poll() is None:
                os.killpg(script.pid, signal.SIGKILL)  # this test's own script only
                script.wait(timeout=30)
            if run is not None and alive(run):  # the group that script started, if left
                os.killpg(run, signal.SIGKILL)
    assert not alive(run), "the run outlived the script that started it"
    assert decoy.poll() is None
