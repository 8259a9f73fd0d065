"""Data-parallel training (``agents.distributed``, ``agents.launch``, ``agents.batch_rows``):
two gloo ranks on 127.0.0.1 make the update one process makes on the whole batch, score a
split as one process does, name the checkpoint to carry on from when a rank dies; under
torchrun only rank 0 writes and ``--resume`` carries a run on.

The ranks are processes started with ``torch.multiprocessing`` (synthetic images, no MNIST)
or by torchrun itself (``train.py`` end to end, on MNIST).
"""

from __future__ import annotations

import csv
import faulthandler
import os
import socket
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import gymnasium
import numpy as np
import pytest
import torch
import torch.multiprocessing as mp

import ram_env  # noqa: F401
import train
from agents import distributed
from agents.batch_rows import BatchRows
from agents.checkpoint import load_checkpoint
from agents.evaluation import evaluate
from agents.launch import Launch, LaunchError, RankLost
from agents.learning_curve import read_curve
from agents.ram_policy import RAMPolicy, RecurrentAttentionModel
from agents.reinforce import ReinforceConfig, make_optimizer, update

ROOT = Path(__file__).resolve().parents[1]
BATCH = 16
# One update per case, on the whole batch in one process and split over two ranks.
CASES = {
    "hybrid": {},
    "class sampled (--loss reinforce)": {"loss": "reinforce"},
    "random locations, lstm": {"locations": "random", "core": "lstm"},
    "two rollouts per update": {"num_envs": 8},
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def launch_as(rank: int, world_size: int, port: int) -> None:
    """The environment torchrun gives rank ``rank`` of ``world_size`` on one machine."""
    os.environ.update(
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
        RANK=str(rank),
        WORLD_SIZE=str(world_size),
        LOCAL_RANK=str(rank),
        LOCAL_WORLD_SIZE=str(world_size),
    )


def make_env(num_envs: int, split: str = "train") -> gymnasium.vector.VectorEnv:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (40, 28, 28), dtype=np.uint8)
    return gymnasium.make_vec(
        "GlimpseMNIST-v0",
        num_envs=num_envs,
        vectorization_mode="vector_entry_point",
        autoreset_mode=gymnasium.vector.AutoresetMode.DISABLED,
        split=split,
        images=images,
        labels=np.arange(40) % 10,
    )


def first_update(config: ReinforceConfig, ranks: distributed.Ranks) -> dict[str, torch.Tensor]:
    """Gradients, weights after the step and the batch's stats of update 0 on this rank."""
    env = make_env(config.envs_per_rank(ranks.world_size))
    torch.manual_seed(config.seed)
    model = RecurrentAttentionModel.from_spaces(
        env.single_observation_space,
        env.single_action_space,
        core=config.core,
        locations=config.locations,
    )
    stats = ranks.mean(update(model, make_optimizer(model, config), env, config, 0, ranks))
    result = {"stats": stats}
    for name, parameter in model.named_parameters():
        result[f"weight {name}"] = parameter.detach().clone()
        if parameter.grad is not None:
            result[f"grad {name}"] = parameter.grad.clone()
    return result


def scores(ranks: distributed.Ranks) -> dict[str, object]:
    """A fixed model's scores of a 40-image split (5 batches of 8, so unequal shares)."""
    env = make_env(8, split="test")
    torch.manual_seed(0)
    spaces = env.single_observation_space, env.single_action_space
    model = RecurrentAttentionModel.from_spaces(*spaces)
    one_path = evaluate(RAMPolicy(model), env, seed=1, shard=ranks)
    sampled = evaluate(RAMPolicy(model, sample_paths=True), env, mc=3, seed=1, shard=ranks)
    return {"one path": one_path, "mc 3": sampled}


def config_of(case: dict) -> ReinforceConfig:
    return ReinforceConfig(batch_size=BATCH, seed=3, precision="fp32", **case)


def rank_worker(rank: int, world_size: int, port: int, out: str) -> None:
    """Rank ``rank``: every case's first update and the scores; rank 0 saves them."""
    launch_as(rank, world_size, port)
    torch.set_num_threads(1)
    ranks = distributed.join("cpu", Path(out) / "last.pt")
    results = {name: first_update(config_of(case), ranks) for name, case in CASES.items()}
    scored = scores(ranks)
    if ranks.is_main:
        torch.save({"updates": results, "scores": scored}, Path(out) / "rank0.pt")
    ranks.leave()


def lost_rank_worker(rank: int, world_size: int, port: int, out: str) -> None:
    """Rank 1 dies after the first all-reduce; rank 0 writes what its next one raises."""
    launch_as(rank, world_size, port)
    ranks = distributed.join("cpu", Path(out) / "last.pt")
    ranks.max(1.0)
    if rank == 1:
        os._exit(0)  # gone without a goodbye to the group, as a killed process (status 0,
        # or torch.multiprocessing would end rank 0 before it answers)
    try:
        ranks.max(2.0)
    except RankLost as error:
        (Path(out) / "message.txt").write_text(str(error))


def late_leaver_worker(rank: int, world_size: int, port: int, out: str) -> None:
    """Rank 1 reaches ``leave`` a second after rank 0; each writes when it got there and
    when its ``leave`` returned."""
    launch_as(rank, world_size, port)
    ranks = distributed.join("cpu", Path(out) / "last.pt")
    ranks.max(1.0)
    if rank == 1:
        time.sleep(1.0)
    arrived = time.time()
    ranks.leave()
    (Path(out) / f"rank{rank}.txt").write_text(f"{arrived} {time.time()}")


def logged_rank(rank: int, worker: Callable, world_size: int, port: int, out: str) -> None:
    """``worker`` as rank ``rank``, its stderr (Python tracebacks, gloo's C++ aborts) in
    ``rank<N>.stderr`` under ``out``."""
    log = open(Path(out) / f"rank{rank}.stderr", "w")  # noqa: SIM115 (open until exit)
    os.dup2(log.fileno(), 2)
    faulthandler.enable(log)
    worker(rank, world_size, port, out)


def spawn_ranks(worker: Callable, out: Path, world_size: int = 2) -> None:
    """Run ``worker`` as ``world_size`` ranks. A rank that raises or exits with an error
    fails the test with every rank's stderr. A rank killed by a signal (gloo, rarely, aborts a
    rank as the group is taken down) is reported in a warning with that stderr and the
    ranks start once more; a second kill fails the test."""
    for last_try in (False, True):
        try:
            mp.spawn(
                logged_rank, args=(worker, world_size, free_port(), str(out)), nprocs=world_size
            )
            return
        except (mp.ProcessExitedException, mp.ProcessRaisedException) as error:
            logs = (out / f"rank{rank}.stderr" for rank in range(world_size))
            tails = [
                "".join(log.read_text().splitlines(True)[-15:]) for log in logs if log.exists()
            ]
            report = f"{error}; the ranks' stderr:\n" + "\n".join(tails)
            if last_try or getattr(error, "signal_name", None) is None:
                pytest.fail(report)
            warnings.warn(f"a rank was killed, starting the ranks again: {report}", stacklevel=2)


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("two-ranks")
    spawn_ranks(rank_worker, out)
    return torch.load(out / "rank0.pt", weights_only=False)


@pytest.mark.parametrize("case", CASES)
def test_the_first_update_on_two_ranks_is_the_update_of_one_process(two_ranks, case):
    split = two_ranks["updates"][case]
    whole = first_update(config_of(CASES[case]), distributed.Ranks.single())
    assert split.keys() == whole.keys()
    assert any(name.startswith("grad") for name in whole)
    for name, value in whole.items():
        if name.startswith("weight"):
            # Adam divides each gradient by its own size, so a gradient near 0 whose last
            # bits differ moves its weight differently by up to the LR (4e-3); seen: 2e-5.
            assert torch.allclose(split[name], value, rtol=0, atol=1e-4), name
        else:  # equal up to the order of float additions: seen 3e-7 of the largest
            scale = max(value.abs().max().item(), 1e-3)
            assert torch.allclose(split[name], value, rtol=0, atol=1e-5 * scale), name


def test_two_ranks_score_a_split_as_one_process_does(two_ranks):
    whole = scores(distributed.Ranks.single())
    for name, result in whole.items():
        assert two_ranks["scores"][name] == result, name


def test_a_lost_rank_names_the_checkpoint_to_resume_from(tmp_path):
    spawn_ranks(lost_rank_worker, tmp_path)  # both end
    message = (tmp_path / "message.txt").read_text()
    assert "rank 0 of 2 lost contact" in message
    assert str(tmp_path / "last.pt") in message and "--resume" in message


def test_no_rank_takes_the_group_down_before_every_rank_has_finished(tmp_path):
    spawn_ranks(late_leaver_worker, tmp_path)
    first, last = ((tmp_path / f"rank{rank}.txt").read_text().split() for rank in (0, 1))
    assert float(first[1]) >= float(last[0])  # rank 0 left only after rank 1 arrived


# --------------------------------------------------------------------------- pieces


def test_rows_split_a_batch_evenly_and_refuse_what_does_not_split():
    ranks = [distributed.Ranks(Launch(rank, 4, rank, 4), None, None) for rank in range(4)]
    shares = [(r.rows(16).start, r.rows(16).stop) for r in ranks]
    assert shares == [(0, 4), (4, 8), (8, 12), (12, 16)]
    with pytest.raises(LaunchError, match="18 episodes does not split evenly over 4"):
        ranks[0].rows(18)
    assert distributed.Ranks.single().rows(7) == BatchRows.whole(7)


def test_a_share_draws_the_rows_of_the_whole_batch():
    generator = lambda: torch.Generator().manual_seed(5)  # noqa: E731
    cpu = torch.device("cpu")
    probabilities = torch.rand(12, 10).softmax(-1)
    whole = BatchRows.whole(12)
    share = BatchRows(4, 8, 12)
    assert torch.equal(share.normal(2, generator(), cpu), whole.normal(2, generator(), cpu)[4:8])
    assert torch.equal(share.uniform(2, generator(), cpu), whole.uniform(2, generator(), cpu)[4:8])
    assert torch.equal(
        share.categorical(probabilities[4:8], generator()),
        whole.categorical(probabilities, generator())[4:8],
    )
    # The whole batch draws its classes as torch.multinomial does: earlier runs reproduce.
    expected = torch.multinomial(probabilities, 1, generator=generator()).squeeze(1)
    assert torch.equal(whole.categorical(probabilities, generator()), expected)


def torchrun_environment(rank: str, world_size: str) -> dict[str, str]:
    return {"RANK": rank, "WORLD_SIZE": world_size, "LOCAL_RANK": "0", "LOCAL_WORLD_SIZE": "1"}


@pytest.mark.parametrize(
    "environ, message",
    [
        ({"RANK": "0"}, "RANK set but not WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE"),
        (torchrun_environment("0", "two"), "WORLD_SIZE='two'"),
        (torchrun_environment("2", "2"), "rank 2 of world size 2"),
    ],
)
def test_a_launch_torchrun_did_not_describe_is_refused(environ, message):
    with pytest.raises(ValueError, match=message):
        Launch.from_environment(environ)


def test_launch_without_torchrun_and_threads_per_rank():
    assert Launch.from_environment({}) == Launch(0, 1, 0, 1)
    environ = {"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1", "LOCAL_WORLD_SIZE": "2"}
    launch = Launch.from_environment(environ)
    assert (launch.rank, launch.local_world_size, launch.is_main) == (3, 2, False)
    assert launch.default_threads(cpu_count=16) == 4 and launch.default_threads(cpu_count=2) == 1


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--batch-size", "63"], "batch_size 63 does not split evenly over the 2 ranks"),
        (["--num-envs", "33", "--batch-size", "66"], "num_envs 33 does not split evenly"),
        (["--algo", "ppo"], "--algo ppo trains in one process"),
        (["--eval", "RUN/best.pt"], "--eval scores in one process"),
    ],
)
def test_train_py_refuses_what_does_not_run_over_the_ranks(
    flags, message, monkeypatch, capsys, tmp_path
):
    for name, value in torchrun_environment("0", "2").items():
        monkeypatch.setenv(name, value)
    out = [] if "--eval" in flags else ["--out", str(tmp_path / "run")]
    with pytest.raises(SystemExit) as exit_info:
        train.main([*flags, *out])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


# --------------------------------------------------------------------------- torchrun


TINY = ["--batch-size", "64", "--eval-batch-size", "2500", "--lr-schedule", "constant"]
TINY += ["--no-progress", "--threads", "1"]


def torchrun(run_bounded, *flags: str) -> None:
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    command += ["--nproc-per-node", "2", str(ROOT / "train.py"), *TINY, *flags]
    done = run_bounded(command, timeout=240, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


def read_metrics(folder: Path) -> list[dict[str, str]]:
    with (folder / "metrics.csv").open(newline="") as file:
        return list(csv.DictReader(file))


@pytest.mark.mnist
def test_torchrun_trains_on_two_ranks_rank_0_alone_writes_and_resume_carries_on(
    tmp_path, run_bounded
):
    run = tmp_path / "two"
    curve = ["--curve-every", "768"]  # a point every 128 images of 6 steps: all ranks score
    torchrun(run_bounded, "--max-images", "128", "--out", str(run), *curve)
    # One writer: a second rank writing would add its own TensorBoard file and metric rows.
    written = sorted(path.name for path in run.iterdir())
    assert written == ["best.pt", "curve.csv", "last.pt", "metrics.csv", "tb"]
    assert len(list((run / "tb").iterdir())) == 1
    assert [row["images"] for row in read_metrics(run)] == ["128"]
    torchrun(run_bounded, "--max-images", "256", "--out", str(run), "--resume", *curve)
    assert [row["images"] for row in read_metrics(run)] == ["128", "256"]
    assert len(list((run / "tb").iterdir())) == 2  # one per run segment

    single = tmp_path / "one"  # the same run in one process, straight through
    assert train.main([*TINY, "--max-images", "256", "--out", str(single), *curve]) == 0
    split, whole = (load_checkpoint(folder / "last.pt") for folder in (run, single))
    assert split["progress"]["updates"] == whole["progress"]["updates"] == 4
    for name, weight in whole["model"].items():
        assert torch.allclose(split["model"][name], weight, atol=1e-4), name
    # Validation at 256 images, scored half by each rank (the training columns average
    # different periods: the resumed run's last one started at 128 images).
    split_row, whole_row = read_metrics(run)[-1], read_metrics(single)[-1]
    accuracies = float(split_row["val_accuracy"]), float(whole_row["val_accuracy"])
    assert accuracies[0] == pytest.approx(accuracies[1], abs=0.05)  # 5 of 10,000 images
    split_curve, whole_curve = read_curve(run), read_curve(single)
    assert [row["steps"] for row in split_curve] == [row["steps"] for row in whole_curve]
    assert [row["steps"] for row in split_curve] == [768, 1536]
    for split_point, whole_point in zip(split_curve, whole_curve, strict=True):
        assert split_point["val_accuracy"] == pytest.approx(whole_point["val_accuracy"], abs=0.05)


@pytest.mark.mnist
def test_torchrun_ranks_stop_together_on_the_time_budget(tmp_path, run_bounded):
    # The ranks agree on the clock every few updates, so the stop lands on one of those.
    run = tmp_path / "budget"
    torchrun(run_bounded, "--train-minutes", "0.02", "--epochs", "1000", "--out", str(run))
    updates = load_checkpoint(run / "last.pt")["progress"]["updates"]
    assert updates > 0 and updates % distributed.AGREE_EVERY_UPDATES == 0
    assert int(read_metrics(run)[-1]["images"]) == updates * 64
