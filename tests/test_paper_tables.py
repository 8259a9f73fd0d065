"""``benchmarks/paper_tables.py``: which rows it runs, and the report it writes from runs."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from PIL import Image

from agents.reinforce_config import ReinforceConfig
from benchmarks import paper_records, paper_report, paper_rows, paper_tables

# What a scored run's record holds besides its row, scores, budget and command.
RECORDED = {
    "device": "cpu", "machine": "x86_64, 2 cores", "threads": 1,
    "scored_at": "2026-11-26T12:00:00Z",
}  # fmt: skip


def test_every_paper_row_is_there_once():
    rows = paper_rows.all_rows("paper")
    names = [row.name for row in rows]
    assert len(names) == len(set(names)) == 6 + 3 + 4 + 3
    assert "cluttered60-g6-random" in names and "cluttered100-g8" in names
    random_row = next(row for row in rows if row.random_locations)
    assert random_row.paper_error == 14.4
    assert "--glimpses 6 --locations random" in " ".join(random_row.train_flags())


def test_selection_by_task_glimpses_and_control():
    args = paper_tables.parse_args(["--only", "cluttered60", "--glimpses", "6"])
    assert [row.name for row in paper_tables.selected_rows(args)] == [
        "cluttered60-g6",
        "cluttered60-g6-random",
    ]
    args = paper_tables.parse_args(["--only", "cluttered60", "--random", "exclude"])
    assert [row.glimpses for row in paper_tables.selected_rows(args)] == [4, 6, 8]
    args = paper_tables.parse_args(["--only", "mnist", "--variant", "lstm"])
    rows = paper_tables.selected_rows(args)
    assert rows[0].name == "mnist-g2-lstm" and "--core lstm" in " ".join(rows[0].train_flags())


@pytest.mark.parametrize("flags", [["--minutes", "0"], ["--mc", "1"], ["--only", "svhn"]])
def test_bad_arguments_are_refused(flags, capsys):
    with pytest.raises(SystemExit):
        paper_tables.parse_args(flags)
    assert "error" in capsys.readouterr().err


def test_report_and_plots_from_recorded_rows(tmp_path):
    run = tmp_path / "runs" / "translated-g6-seed0"
    run.mkdir(parents=True)
    record = {
        "row": "translated-g6", "task": "translated", "glimpses": 6,
        "random_locations": False, "variant": "paper", "seed": 0, "error": 1.84,
        "error_mc": 1.31, "mc": 10, "minutes": 12.0, "budget_minutes": 12.0,
        "images": 1_500_000, **RECORDED,
        "command": "python train.py --algo reinforce --env GlimpseTranslatedMNIST-v0",
    }  # fmt: skip
    (run / paper_records.ROW_FILE).write_text(json.dumps(record))
    longer = tmp_path / "runs" / "translated-g6-seed1"
    longer.mkdir()
    longer_record = {
        **record, "seed": 1, "minutes": 50.0, "budget_minutes": 50.0, "error": 1.10,
        "error_mc": 0.90,
    }  # fmt: skip
    (longer / paper_records.ROW_FILE).write_text(json.dumps(longer_record))
    out = tmp_path / "docs" / "results.md"
    argv = ["--report-only", "--runs-dir", str(tmp_path / "runs"), "--out", str(out)]
    argv += ["--records-dir", str(tmp_path / "records")]
    assert paper_tables.main(argv) == 0
    text = out.read_text()
    short_line = "| 6 | learned | paper | 1.22 | 1.84 | 1.31 | 12.0 | 1,500,000 | 0 |"
    long_line = "| 6 | learned | paper | 1.22 | 1.10 | 0.90 | 50.0 | 1,500,000 | 1 |"
    assert short_line in text and long_line in text  # every run of a row has its line
    assert text.index(short_line) < text.index(long_line)
    # The two seeds of one command are one setting: their mean, and each seed's score.
    setting = "| 6 | 1.22 | paper-faithful, best overall | paper | **1.47** |"
    assert setting in text and "| 0: 1.84, 1: 1.10 | 200 epochs |" in text
    assert text.index(setting) < text.index("## Appendix")
    assert "| 4 | 1.54 | not run |" in text
    assert "Target: 3.0% or less with 6 glimpses" in text
    for task in paper_rows.TASKS:
        _assert_png(out.parent / "results" / f"{task}.png")


def _assert_png(path: Path) -> None:
    """A complete PNG of a sensible size (its pixels are matplotlib's business)."""
    with Image.open(path) as picture:
        picture.verify()
    with Image.open(path) as picture:
        assert picture.format == "PNG"
        width, height = picture.size
        assert 600 <= width <= 2000 and 400 <= height <= 1500
    assert not list(path.parent.glob(f".{path.name}.*"))  # no temp file left beside it


def test_of_equal_runs_the_newest_comes_last(tmp_path):
    # Two 10-minute runs of one row and seed (an old setting kept under another folder
    # name, then a re-run): they are listed in the order they were scored, the re-run last,
    # whichever file name sorts first.
    base = {
        "row": "mnist-g3", "task": "mnist", "glimpses": 3, "random_locations": False,
        "variant": "paper", "seed": 0, "error_mc": 1.0, "mc": 10, "budget_minutes": 10.0,
        "images": 1, "command": "python train.py --algo reinforce",
    }  # fmt: skip
    runs = (
        ("mnist-g3-seed0", 2.26, 10.003, "2026-11-26T13:00:00Z"),
        ("mnist-g3-seed0-old", 2.89, 10.005, "2026-11-25T09:00:00Z"),
    )
    for name, error, minutes, scored_at in runs:
        record = {**base, "error": error, "minutes": minutes, "scored_at": scored_at}
        (tmp_path / f"{name}.json").write_text(json.dumps(record))
    assert [run["error"] for run in paper_records.read_records(tmp_path)["mnist-g3"]] == [
        2.89,
        2.26,
    ]


def test_scored_runs_outlive_their_run_folders(tmp_path):
    # A new machine has no runs/: the report must still show every run scored before, and
    # two settings run in turn in one folder (same budget) keep a record each.
    base = {
        "row": "mnist-g6", "task": "mnist", "glimpses": 6, "random_locations": False,
        "variant": "paper", "seed": 0, "error_mc": 0.7, "mc": 10, "minutes": 10.0,
        "budget_minutes": 10.0, "images": 5_000_000, **RECORDED,
    }  # fmt: skip
    run = tmp_path / "runs" / "mnist-g6-seed0"
    run.mkdir(parents=True)
    out, records = tmp_path / "results.md", tmp_path / "records"
    argv = ["--report-only", "--runs-dir", str(tmp_path / "runs"), "--out", str(out)]
    argv += ["--records-dir", str(records)]
    for batch, error in ((512, 1.80), (1024, 1.48)):
        command = f"python train.py --batch-size {batch} --out runs/paper-tables/mnist-g6-seed0"
        record = {**base, "error": error, "command": command}
        (run / paper_records.ROW_FILE).write_text(json.dumps(record))
        assert paper_tables.main(argv) == 0
    assert paper_tables.main(argv) == 0  # kept once, however often the report is written
    assert len(list(records.glob("mnist-g6-seed0-10min-*.json"))) == 2
    (run / paper_records.ROW_FILE).unlink()
    run.rmdir()
    assert paper_tables.main(argv) == 0
    text = out.read_text()
    assert "| 6 | learned | paper | 1.12 | 1.80 | 0.70 |" in text
    assert "| 6 | learned | paper | 1.12 | 1.48 | 0.70 |" in text


def test_report_names_the_hardware_of_each_row(tmp_path):
    base = {
        "task": "cluttered60", "glimpses": 6, "random_locations": False, "seed": 0,
        "error": 6.05, "error_mc": 3.68, "mc": 10, "minutes": 7.0, "budget_minutes": 7.0,
        "images": 4_566_016, "command": "python train.py --algo reinforce", **RECORDED,
    }  # fmt: skip
    rows = {
        "cluttered60-g6-lstm-b512-seed0-cuda": {
            **base, "row": "cluttered60-g6-lstm-b512", "variant": "lstm-b512",
            "machine": "x86_64, 16 cores", "device": "cuda: NVIDIA H200",
        },
        "cluttered60-g6-seed0": {**base, "row": "cluttered60-g6", "variant": "paper"},
    }  # fmt: skip
    for name, record in rows.items():
        (tmp_path / "runs" / name).mkdir(parents=True)
        (tmp_path / "runs" / name / paper_records.ROW_FILE).write_text(json.dumps(record))
    out = tmp_path / "results.md"
    argv = ["--report-only", "--runs-dir", str(tmp_path / "runs"), "--out", str(out)]
    argv += ["--records-dir", str(tmp_path / "records")]
    assert paper_tables.main(argv) == 0
    text = out.read_text()
    assert "| 6 | learned | lstm-b512 | 4.08 | 6.05 | 3.68 |" in text
    assert "| 0 | GPU (NVIDIA H200) |" in text
    assert "| 0 | CPU (2 cores, 1 thread(s)) |" in text
    # Written after a run of another setting, the page is the same: paper rows first, and
    # "not run" only for the paper setting's rows.
    assert "| 4 | 4.96 | not run |" in text
    assert paper_tables.main([*argv, "--variant", "lstm-b512"]) == 0
    assert out.read_text() == text
    assert "lstm-b512 | 4.96 | not run" not in text


def test_gpu_runs_get_their_own_folder(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(
        paper_tables, "run_logged", lambda command, log, threads: calls.append(command) or (1, 0)
    )
    args = paper_tables.parse_args(["--device", "cuda", "--runs-dir", str(tmp_path)])
    row = paper_rows.Row(paper_rows.TASKS["translated"], 6, variant="lstm-b512")
    # The stubbed training "fails": nothing scored.
    assert not paper_tables.run_row(args, row, seed=0)
    command = calls[0]
    assert command[command.index("--device") + 1] == "cuda"
    run_dir = tmp_path / "translated-g6-lstm-b512-seed0-cuda"
    assert command[command.index("--out") + 1] == str(run_dir)
    flags = " ".join(command)
    assert "--glimpses 6 --core lstm --batch-size 512 --lr 3e-3" in flags


def _resume_row(tmp_path: Path, monkeypatch, minutes: str, checkpoint_minutes: float) -> Path:
    """Resume a row (its training stubbed out) whose last.pt was trained to a budget."""
    from agents.checkpoint import save_checkpoint

    run_dir = tmp_path / "translated-g6-seed0"
    config = {"train_minutes": checkpoint_minutes}
    payload = {"algo": "reinforce", "config": config, "model_config": {}, "model": {}}
    save_checkpoint(run_dir / "last.pt", payload)
    monkeypatch.setattr(paper_tables, "run_logged", lambda command, log, threads: (1, 0))
    args = paper_tables.parse_args(["--minutes", minutes, "--runs-dir", str(tmp_path)])
    assert not paper_tables.run_row(args, paper_rows.Row(paper_rows.TASKS["translated"], 6), seed=0)
    return run_dir / paper_tables.EXTENDED_FILE


def test_a_resume_with_a_longer_budget_is_marked_extended(tmp_path, monkeypatch):
    assert not _resume_row(tmp_path, monkeypatch, "7.0", 7.0).exists()  # same budget: a resume
    mark = _resume_row(tmp_path, monkeypatch, "15.0", 7.0)
    assert json.loads(mark.read_text()) == {"extended_from_minutes": [7.0]}
    # The trainer saved the longer budget into last.pt; the mark outlives the next resume.
    assert _resume_row(tmp_path, monkeypatch, "15.0", 15.0).exists()
    # Stopped before its first save, the next resume still finds 7.0: marked once only.
    _resume_row(tmp_path, monkeypatch, "15.0", 7.0)
    assert json.loads(mark.read_text()) == {"extended_from_minutes": [7.0]}
    # Extended again, it keeps both budgets it passed through.
    _resume_row(tmp_path, monkeypatch, "23.0", 15.0)
    assert json.loads(mark.read_text()) == {"extended_from_minutes": [7.0, 15.0]}


def test_a_gpu_run_carried_on_here_names_both_devices(tmp_path, monkeypatch):
    from agents.checkpoint import save_checkpoint

    run_dir = tmp_path / "cluttered100-g8-seed0"  # a CPU run's folder, holding a GPU run
    config = {"train_minutes": 21.3, "device": "cuda"}
    payload = {"algo": "reinforce", "config": config, "model_config": {}, "model": {}}
    save_checkpoint(run_dir / "last.pt", payload)
    calls = []
    monkeypatch.setattr(
        paper_tables, "run_logged", lambda command, log, threads: calls.append(command) or (1, 0)
    )
    args = paper_tables.parse_args(["--minutes", "76.3", "--runs-dir", str(tmp_path)])
    assert not paper_tables.run_row(
        args, paper_rows.Row(paper_rows.TASKS["cluttered100"], 8), seed=0
    )
    command = calls[0]
    assert "--resume" in command
    assert command[command.index("--device") + 1] == "cpu"  # else train.py refuses the resume
    mark = json.loads((run_dir / paper_tables.EXTENDED_FILE).read_text())
    assert mark == {"extended_from_minutes": [21.3], "earlier_device": ["cuda"]}
    record = {"device": "cpu", "machine": "x86_64, 2 cores", "threads": 2, **mark}
    assert paper_report.hardware(record) == "GPU, then CPU (2 cores, 2 thread(s))"
    record["earlier_device"] = ["cuda: NVIDIA H100 80GB HBM3"]  # as a row's record names it
    assert paper_report.hardware(record).startswith("GPU (NVIDIA H100 80GB HBM3), then CPU")


def test_a_plain_resume_on_another_device_adds_to_the_devices_it_went_through(tmp_path):
    from agents.checkpoint import save_checkpoint

    run_dir = tmp_path / "cluttered60-g6-seed0-cuda"  # GPU, then CPU, now back on a GPU
    config = {"train_minutes": 61.5, "device": "cpu"}
    payload = {"algo": "reinforce", "config": config, "model_config": {}, "model": {}}
    save_checkpoint(run_dir / "last.pt", payload)
    earlier = {"extended_from_minutes": [7.3], "earlier_device": ["cuda"]}
    (run_dir / paper_tables.EXTENDED_FILE).write_text(json.dumps(earlier))
    paper_tables.note_extension(run_dir, 61.5, "cuda")  # same budget: no new extension
    mark = json.loads((run_dir / paper_tables.EXTENDED_FILE).read_text())
    assert mark == {"extended_from_minutes": [7.3], "earlier_device": ["cuda", "cpu"]}
    paper_tables.note_extension(run_dir, 61.5, "cuda")  # resumed again: nothing changes
    assert json.loads((run_dir / paper_tables.EXTENDED_FILE).read_text()) == mark
    record = {"device": "cuda: NVIDIA H100 80GB HBM3", **mark}
    assert paper_report.hardware(record) == "GPU, then CPU, then GPU (NVIDIA H100 80GB HBM3)"


def test_report_says_which_rows_were_extended(tmp_path):
    record = {
        "row": "translated-g6", "task": "translated", "glimpses": 6,
        "random_locations": False, "variant": "paper", "seed": 0, "error": 1.79,
        "error_mc": 1.12, "mc": 10, "minutes": 15.0, "budget_minutes": 15.0,
        "images": 9_000_000, "command": "python train.py --algo reinforce",
        "extended_from_minutes": [7.0], **RECORDED,
    }  # fmt: skip
    (tmp_path / "runs" / "translated-g6-seed0").mkdir(parents=True)
    (tmp_path / "runs" / "translated-g6-seed0" / paper_records.ROW_FILE).write_text(
        json.dumps(record)
    )
    out = tmp_path / "results.md"
    argv = ["--report-only", "--runs-dir", str(tmp_path / "runs"), "--out", str(out)]
    argv += ["--records-dir", str(tmp_path / "records")]
    assert paper_tables.main(argv) == 0
    assert "| 1.79 | 1.12 | 15.0 (extended from 7) | 9,000,000 |" in out.read_text()
    record["extended_from_minutes"] = [7.0, 15.0]  # extended twice
    (tmp_path / "runs" / "translated-g6-seed0" / paper_records.ROW_FILE).write_text(
        json.dumps(record)
    )
    assert paper_tables.main(argv) == 0
    assert "| 15.0 (extended from 7, then 15) |" in out.read_text()


def test_commands_spell_out_the_tuned_defaults():
    """A recorded command must name the same run after train.py's defaults change."""
    defaults = ReinforceConfig()  # train.py's defaults
    paper = paper_rows.Row(paper_rows.TASKS["mnist"], 6).train_flags()
    assert paper[paper.index("--batch-size") + 1] == str(defaults.batch_size)
    assert float(paper[paper.index("--lr") + 1]) == defaults.lr
    assert float(paper[paper.index("--weight-decay") + 1]) == defaults.weight_decay
    assert float(paper[paper.index("--std") + 1]) == defaults.std
    std = paper_rows.Row(paper_rows.TASKS["mnist"], 3, variant="std0.07").train_flags()
    assert std.count("--std") == 1 and std[std.index("--std") + 1] == "0.07"
    lstm_b512 = paper_rows.Row(paper_rows.TASKS["mnist"], 6, variant="lstm-b512")
    flags = lstm_b512.train_flags()
    assert flags.count("--batch-size") == 1 and flags.count("--lr") == 1  # the variant's own


def _scored_run(run_dir: Path, budget: float, device: str = "cpu") -> dict:
    """A run folder as a scored row leaves it: checkpoint, scores and its record."""
    from agents.checkpoint import save_checkpoint

    config = {"train_minutes": budget, "device": device}
    payload = {"algo": "reinforce", "config": config, "model_config": {}, "model": {}}
    save_checkpoint(run_dir / "last.pt", payload)
    for name in ("eval-test.json", "eval-test-best-mc1.json", "eval-test-best-mc10.json"):
        (run_dir / name).write_text(json.dumps({"error": 1.5}))
    record = {
        "row": "translated-g6", "seed": 0, "budget_minutes": budget, "minutes": budget,
        "command": f"python train.py --algo reinforce --out {run_dir}",
    }  # fmt: skip
    (run_dir / paper_records.ROW_FILE).write_text(json.dumps(record))
    return record


def test_extend_trains_a_scored_row_further_and_keeps_its_earlier_score(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(
        paper_tables, "run_logged", lambda command, log, threads: calls.append(command) or (1, 0)
    )
    run_dir = tmp_path / "runs" / "translated-g6-seed0"
    record = _scored_run(run_dir, 120.0)
    row = paper_rows.Row(paper_rows.TASKS["translated"], 6)
    argv = ["--runs-dir", str(tmp_path / "runs"), "--records-dir", str(tmp_path / "records")]
    # Without --extend, or with a budget it already had, a scored row is left alone.
    assert paper_tables.run_row(paper_tables.parse_args([*argv, "--minutes", "165"]), row, seed=0)
    args = paper_tables.parse_args([*argv, "--minutes", "120", "--extend"])
    assert paper_tables.run_row(args, row, seed=0)
    assert not calls and (run_dir / paper_records.ROW_FILE).exists()

    args = paper_tables.parse_args([*argv, "--minutes", "165", "--extend"])
    assert not paper_tables.run_row(args, row, seed=0)  # the stubbed training "fails"
    assert "--resume" in calls[0]
    assert calls[0][calls[0].index("--train-minutes") + 1] == "165.0"
    assert not (run_dir / paper_records.ROW_FILE).exists()
    assert not list(run_dir.glob("eval-test*.json"))  # never mistaken for the new score
    kept = tmp_path / "records" / paper_records.record_name(record)
    assert json.loads(kept.read_text()) == record
    mark = json.loads((run_dir / paper_tables.EXTENDED_FILE).read_text())
    assert mark == {"extended_from_minutes": [120.0]}


def test_a_budget_of_epochs_alone_names_no_minutes_anywhere(tmp_path, monkeypatch):
    run_dir = tmp_path / "runs" / "translated-g6-seed1"

    def fake_run(command, log, threads):
        """Training leaves its metrics; each scoring, its score."""
        if "--eval" in command:
            (run_dir / "eval-test.json").write_text(json.dumps({"error": 1.25}))
        else:
            run_dir.mkdir(parents=True)
            (run_dir / "metrics.csv").write_text("epoch,images,minutes\n550,27500000,230.5\n")
        return 0, 0

    monkeypatch.setattr(paper_tables, "run_logged", fake_run)
    argv = ["--only", "translated", "--glimpses", "6", "--minutes", "none", "--epochs", "550"]
    argv += ["--seed", "1", "--runs-dir", str(tmp_path / "runs")]
    args = paper_tables.parse_args(argv)
    assert paper_tables.run_row(args, paper_tables.selected_rows(args)[0], *args.seeds)
    record = json.loads((run_dir / paper_records.ROW_FILE).read_text())
    assert "--train-minutes" not in record["command"] and "--epochs 550" in record["command"]
    assert record["budget_minutes"] is None and record["minutes"] == 230.5
    assert paper_records.record_name(record).startswith("translated-g6-seed1-550ep-")
    record.update(RECORDED, task="translated", glimpses=6, random_locations=False, mc=10)
    record["variant"], record["images"] = "paper", 27_500_000
    setting = paper_records.settings_of({"translated-g6": [record]})[0]
    assert paper_report.budget_cell(setting) == "550 epochs"
    with pytest.raises(SystemExit):  # nothing to lengthen
        paper_tables.parse_args(["--minutes", "none", "--extend"])
    with pytest.raises(SystemExit):
        paper_tables.parse_args(["--minutes", "inf"])


def test_carry_on_from_copies_a_gpu_run_without_its_scores(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(
        paper_tables, "run_logged", lambda command, log, threads: calls.append(command) or (1, 0)
    )
    source = tmp_path / "gpu" / "translated-g6-seed0-cuda"
    _scored_run(source, 7.3, device="cuda")
    (source / "metrics.csv").write_text("epoch,images\n1,512\n")
    argv = ["--only", "translated", "--glimpses", "6", "--minutes", "120"]
    argv += ["--runs-dir", str(tmp_path / "runs"), "--carry-on-from", str(source)]
    args = paper_tables.parse_args(argv)
    assert not paper_tables.run_row(args, paper_tables.selected_rows(args)[0], *args.seeds)
    run_dir = tmp_path / "runs" / "translated-g6-seed0"
    assert (run_dir / "last.pt").exists() and (run_dir / "metrics.csv").exists()
    assert not (run_dir / paper_records.ROW_FILE).exists()
    assert not list(run_dir.glob("eval-test*.json"))
    assert (source / paper_records.ROW_FILE).exists()  # the original is left as it was
    assert not (tmp_path / "runs" / "translated-g6-seed0.partial").exists()
    command = calls[0]
    assert "--resume" in command and command[command.index("--device") + 1] == "cpu"
    mark = json.loads((run_dir / paper_tables.EXTENDED_FILE).read_text())
    assert mark == {"extended_from_minutes": [7.3], "earlier_device": ["cuda"]}


def test_carry_on_from_is_refused_without_one_row_or_a_checkpoint(tmp_path, capsys):
    with pytest.raises(SystemExit):
        paper_tables.parse_args(["--only", "translated", "--carry-on-from", str(tmp_path)])
    assert "naming one row" in capsys.readouterr().err
    argv = ["--only", "translated", "--glimpses", "6", "--carry-on-from", str(tmp_path / "x")]
    argv += ["--runs-dir", str(tmp_path / "runs")]
    args = paper_tables.parse_args(argv)
    with pytest.raises(SystemExit, match="no last.pt"):
        paper_tables.run_row(args, paper_tables.selected_rows(args)[0], seed=0)


def test_several_seeds_train_every_row_with_each_seed_by_seed(tmp_path, monkeypatch):
    trained = []
    monkeypatch.setattr(
        paper_tables, "run_row", lambda args, row, seed: trained.append((row.name, seed)) or True
    )
    argv = ["--only", "mnist", "--glimpses", "2", "3", "--random", "exclude", "--seed", "2", "0"]
    argv += ["2", "--runs-dir", str(tmp_path / "runs"), "--records-dir", str(tmp_path / "rows")]
    assert paper_tables.main([*argv, "--out", str(tmp_path / "results.md")]) == 0
    assert trained == [("mnist-g2", 2), ("mnist-g3", 2), ("mnist-g2", 0), ("mnist-g3", 0)]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--seed", "-1"], "from 0"),
        (
            ["--only", "mnist", "--glimpses", "2", "--seed", "0", "1", "--carry-on-from", "x"],
            "one seed",
        ),
    ],
)
def test_a_bad_seed_list_is_refused(flags, message, capsys):
    with pytest.raises(SystemExit):
        paper_tables.parse_args(flags)
    assert message in capsys.readouterr().err


def test_a_sigterm_starts_no_further_row_and_still_writes_the_report(tmp_path, monkeypatch):
    # As `gpu.sh paper-rows` at its deadline: the SIGTERM reaches the training under way, which
    # saves and exits 130, and this process, which then runs no further row.
    calls = []

    def training_stopped_by_sigterm(command, log, threads):
        calls.append(command)
        signal.raise_signal(signal.SIGTERM)
        return 130, 0.0

    monkeypatch.setattr(paper_tables, "run_logged", training_stopped_by_sigterm)
    out = tmp_path / "report" / "results.md"
    argv = ["--only", "mnist", "--glimpses", "2", "3", "--random", "exclude"]
    argv += ["--runs-dir", str(tmp_path / "runs"), "--records-dir", str(tmp_path / "rows")]
    reached_here = []  # a stand-in handler, so that a main() that does not catch the signal
    # fails this test rather than ends pytest

    def stand_in(signum, frame):
        reached_here.append(signum)

    previous = signal.signal(signal.SIGTERM, stand_in)
    try:
        assert paper_tables.main([*argv, "--out", str(out)]) == 1
        assert not reached_here
        assert signal.getsignal(signal.SIGTERM) is stand_in  # main() restored the handler
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert len(calls) == 1  # the 3-glimpse row never started
    assert calls[0][calls[0].index("--glimpses") + 1] == "2"
    assert out.exists()


def _report_from_records(tmp_path: Path, records: list[dict]) -> str:
    """The report written from these stored records alone (no run folders)."""
    store = tmp_path / "records"
    store.mkdir()
    for index, record in enumerate(records):
        (store / f"run{index}.json").write_text(json.dumps(record))
    out = tmp_path / "results.md"
    argv = ["--report-only", "--runs-dir", str(tmp_path / "runs"), "--records-dir", str(store)]
    assert paper_tables.main([*argv, "--out", str(out)]) == 0
    return out.read_text()


def _cluttered_run(variant: str, seed: int, minutes: float, error: float, **extra) -> dict:
    flags = " ".join(paper_rows.VARIANTS[variant])
    threads = extra.pop("threads", 1)
    command = (
        f"python train.py --algo reinforce --env GlimpseClutteredMNIST-v0 --glimpses 6 {flags} "
        f"--batch-size 128 --lr 0.002 --seed {seed} --train-minutes {minutes} --epochs 200 "
        f"--threads {threads} --out runs/paper-tables/cluttered60-g6-{variant}-seed{seed} "
        "--no-progress"
    )
    row = "cluttered60-g6" + ("" if variant == "paper" else f"-{variant}")
    return {
        "row": row, "task": "cluttered60", "glimpses": 6, "random_locations": False,
        "variant": variant, "seed": seed, "error": error, "error_mc": error / 2, "mc": 10,
        "minutes": minutes, "budget_minutes": minutes, "images": 1_000_000, **RECORDED,
        "threads": threads, "command": command, **extra,
    }  # fmt: skip


def test_settings_seeds_budgets_and_the_two_best_lines(tmp_path):
    text = _report_from_records(
        tmp_path,
        [
            _cluttered_run("paper", 0, 12.0, 13.0),
            _cluttered_run("paper", 0, 35.0, 11.0),  # the same command, a longer budget
            _cluttered_run("paper", 1, 35.0, 10.0, threads=2),  # another seed, other hardware
            _cluttered_run("loc-w1", 0, 35.0, 80.0),  # paper-faithful, but worse
            _cluttered_run("lstm-b512", 0, 20.0, 3.0),  # not paper-faithful: the LSTM core
        ],
    )
    main, appendix = text.split("## Appendix")
    faithful = "| 6 | 4.08 | paper-faithful | paper | **10.50** | 5.25 | 0: 11.00, 1: 10.00 |"
    assert faithful in main
    assert "| 6 | 4.08 | best overall | lstm-b512 | **3.00** | 1.50 | seed 0 |" in main
    assert "| 35 min or 200 epochs | 35.0 |" in main
    assert "CPU (2 cores, 1 thread(s)) x1; CPU (2 cores, 2 thread(s)) x1" in main
    # One command for the two seeds: S for the seed, no run folder, threads where they agree
    # only, and the defaults the records predate filled in.
    command = (
        "`python train.py --algo reinforce --env GlimpseClutteredMNIST-v0 --glimpses 6 "
        "--batch-size 128 --lr 0.002 --weight-decay 0 --std 0.15 --precision fp32 --seed S "
        "--train-minutes 35.0 --epochs 200`"
    )
    assert command in main
    assert "--threads 1 --out" not in main
    assert "13.00" not in main and "80.00" not in main  # superseded: the appendix only
    shorter = "| 13.00 | 6.50 | 12.0 | 1,000,000 | 0 | CPU (2 cores, 1 thread(s)) | superseded"
    assert shorter + " by a longer budget |" in appendix
    assert "| 80.00 | 40.00 |" in appendix and "superseded by a better setting" in appendix
    assert appendix.count("in the tables above") == 3  # both paper seeds, the LSTM run
    assert "cluttered60-g6-paper-seed1 --no-progress`" in appendix  # as recorded
    # The summary repeats the headline rows.
    summary = main.split("## Summary")[1].split("\n## ")[0]
    assert "| cluttered60 | 6 | 4.08 | paper-faithful | paper | **10.50** |" in summary


def test_a_centred_first_glimpse_is_not_paper_faithful(tmp_path):
    # A random first glimpse normal around the centre reads the paper; one at the centre
    # changes the task.
    base = {
        "task": "mnist", "glimpses": 2, "random_locations": False, "seed": 0, "mc": 10,
        "minutes": 15.0, "budget_minutes": 15.0, "images": 1, **RECORDED,
    }  # fmt: skip
    command = "python train.py --algo reinforce --glimpses 2 --first-location {} --seed 0"
    records = [
        {**base, "row": f"mnist-g2-{where}-first", "variant": f"{where}-first", "error": error,
         "error_mc": None, "command": command.format(where)}
        for where, error in (("center", 2.0), ("gaussian", 3.0))
    ]  # fmt: skip
    text = _report_from_records(tmp_path, records)
    assert "| 2 | 3.79 | paper-faithful | gaussian-first | **3.00** | - | seed 0 |" in text
    assert "| 2 | 3.79 | best overall | center-first | **2.00** | - | seed 0 |" in text
    assert "| 3 | 1.51 | not run |" in text
    assert "| 2.00 | - | 15.0 |" in text  # a record without a --mc score


def test_the_mc_mean_says_when_some_runs_lack_it(tmp_path):
    records = [_cluttered_run("paper", seed, 35.0, 10.0) for seed in range(3)]
    records[2]["error_mc"] = None
    assert "| **10.00** | 5.00 (2 of 3 runs) |" in _report_from_records(tmp_path, records)


def test_commands_name_the_precision_auto_resolved_to(tmp_path, monkeypatch):
    """``auto`` depends on the machine; a recorded command names what it was here, a named
    ``--precision`` is kept whatever the machine runs natively, and a command from before
    ``--precision`` is shown with the fp32 it trained in."""
    from agents import precision

    monkeypatch.setattr(precision, "cpu_runs_bf16_natively", lambda: True)
    calls = []
    monkeypatch.setattr(
        paper_tables, "run_logged", lambda command, log, threads: calls.append(command) or (1, 0)
    )
    args = paper_tables.parse_args(["--runs-dir", str(tmp_path)])
    for variant, expected in (("lstm-b512", "bf16"), ("paper", "fp32")):
        row = paper_rows.Row(paper_rows.TASKS["translated"], 6, variant=variant)
        assert not paper_tables.run_row(args, row, seed=0)  # training stubbed out: nothing scored
        assert calls[-1][calls[-1].index("--precision") + 1] == expected
    pinned = paper_tables.parse_args(["--runs-dir", str(tmp_path), "--precision", "fp32"])
    row = paper_rows.Row(paper_rows.TASKS["translated"], 6, variant="lstm-b512")
    assert not paper_tables.run_row(pinned, row, seed=0)
    assert calls[-1][calls[-1].index("--precision") + 1] == "fp32"  # not the machine's bf16
    old = {"command": "python train.py --algo reinforce --core lstm --seed 0"}
    tokens = paper_records.command_tokens(old)
    assert tokens[tokens.index("--precision") + 1] == "fp32"


def test_the_paper_models_gap_and_the_two_cores_side_by_side(tmp_path):
    records = [
        _cluttered_run("paper", 0, 35.0, 10.0),
        _cluttered_run("lstm", 0, 35.0, 4.0, images=4_000_000),  # its pair: --core alone differs
        _cluttered_run("lstm", 0, 20.0, 6.0),  # another budget: no pair
        _cluttered_run("loc-w1", 0, 35.0, 12.0),  # another flag: no pair
        _cluttered_run("loc-w1", 0, 35.0, 11.0, threads=2) | {"row": "cluttered60-g6-x"},
    ]
    records[-1]["command"] = records[-1]["command"].replace("--location-weight 1", "--core lstm")
    text = _report_from_records(tmp_path, records)
    cluttered = text.split("## 60x60 cluttered")[1].split("\n## ")[0]
    assert "| 6 | 4.08 | 10.00 | +5.92 | 1.0M | 4.00 | 4.0M |" in cluttered
    assert "Above the paper at 1 of 1 glimpse counts." in cluttered
    assert "1.0M images, 4.0 times fewer than the best overall line" in cluttered
    side_by_side = text.split("## The paper's core against the LSTM, side by side")[1]
    side_by_side = side_by_side.split("\n## ")[0]
    pair = "| cluttered60 | 6 | paper, lstm | 35 min or 200 epochs | CPU (2 cores, 1 thread(s)) "
    assert pair + "| seed 0 | 10.00 | 4.00 | 1.0M, 4.0M |" in side_by_side
    assert side_by_side.count("| cluttered60 |") == 1  # other budget, flag or hardware: no pair
    assert "The LSTM core is ahead in 1 of 1 pairs." in side_by_side


def test_no_gap_is_claimed_where_the_paper_model_reaches_the_paper(tmp_path):
    text = _report_from_records(tmp_path, [_cluttered_run("paper", 0, 35.0, 3.0)])
    cluttered = text.split("## 60x60 cluttered")[1].split("\n## ")[0]
    assert "| 6 | 4.08 | 3.00 | -1.08 | 1.0M | 3.00 | 1.0M |" in cluttered
    assert "At or under the paper at every glimpse count." in cluttered
    assert "No such pair has been run yet." in text


def test_a_class_asked_of_earlier_glimpses_is_not_paper_faithful(tmp_path):
    dense = _cluttered_run("paper", 0, 35.0, 5.0) | {"row": "cluttered60-g6-x", "variant": "x"}
    dense["command"] = dense["command"].replace(
        "--seed", "--glimpse-classification-weight 0.5 --seed"
    )
    text = _report_from_records(tmp_path, [_cluttered_run("paper", 0, 35.0, 10.0), dense])
    assert "| 6 | 4.08 | paper-faithful | paper | **10.00** |" in text
    assert "| 6 | 4.08 | best overall | x | **5.00** |" in text


def _translated_run(variant: str, seed: int, error: float) -> dict:
    flags = " ".join(paper_rows.VARIANTS[variant])
    command = (
        f"python train.py --algo reinforce --env GlimpseTranslatedMNIST-v0 --glimpses 6 {flags} "
        f"--seed {seed} --epochs 500 --threads 1"
    )
    return {
        "row": f"translated-g6-{variant}", "task": "translated", "glimpses": 6,
        "random_locations": False, "variant": variant, "seed": seed, "error": error,
        "error_mc": None, "mc": 10, "minutes": 200.0, "budget_minutes": None, "images": 1,
        **RECORDED, "command": command,
    }  # fmt: skip


def test_a_seed_table_row_is_a_mean_over_three_seeds_once_it_has_one():
    lucky = _translated_run("lstm-b512", 0, 1.0)
    two_seeds = [_translated_run("lstm-b512-wd0.1", seed, 1.1) for seed in (0, 1)]
    three_seeds = [_translated_run("lstm-b512-wd0.1-std0.15", seed, 1.2) for seed in (0, 1, 2)]
    translated = paper_rows.TASKS["translated"]

    def best_of(records: list[dict]) -> str:
        settings = paper_records.settings_of({"any": records})
        (choice,) = [c for c in paper_records.choices(translated, settings) if c.row.glimpses == 6]
        return choice.best.record["variant"]

    assert best_of([lucky, *two_seeds]) == "lstm-b512"  # no three-seed setting: the best
    assert best_of([lucky, *two_seeds, *three_seeds]) == "lstm-b512-wd0.1-std0.15"
    # Not a seed table: the lowest mean, whatever its seeds.
    cluttered = [_cluttered_run("lstm-b512", 0, 35.0, 3.0)]
    cluttered += [_cluttered_run("paper", seed, 35.0, 4.0) for seed in (0, 1, 2)]
    settings = paper_records.settings_of({"any": cluttered})
    task = paper_rows.TASKS["cluttered60"]
    (choice,) = [c for c in paper_records.choices(task, settings) if c.row.name == "cluttered60-g6"]
    assert choice.best.record["variant"] == "lstm-b512"
