"""``benchmarks/algorithms.py``: its report and plot, rewritten from finished run folders."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

from PIL import Image

from benchmarks import algorithms


def _write_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _finished_runs(runs: Path) -> None:
    """Two seeds of REINFORCE and of PPO as their run folders end up, without training."""
    for seed in (0, 1):
        run = runs / f"reinforce-seed{seed}"
        run.mkdir(parents=True)
        _write_csv(
            run / "metrics.csv",
            [
                {"images": 50_000 * epoch, "minutes": 0.5 * epoch, "val_accuracy": 80 + epoch}
                for epoch in (1, 2, 3)
            ],
        )
        (run / "eval-test.json").write_text(json.dumps({"accuracy": 94.5 + seed}))
        run = runs / f"ppo-seed{seed}"
        run.mkdir()
        _write_csv(
            run / "metrics.csv",
            [
                {"timesteps": 100_000 * step, "minutes": step, "val_accuracy": 20 + 10 * step}
                for step in (1, 2)
            ]
            + [{"timesteps": 250_000, "minutes": 2.5, "val_accuracy": ""}],  # no validation
        )
        config = {
            "policy": "MultiInputPolicy",
            "policy_kwargs": {},
            "action_type": "multidiscrete",
            "result": {"timesteps": 250_000, "minutes": 2.5},
        }
        (run / "config.json").write_text(json.dumps(config))
        (run / "eval-test.json").write_text(json.dumps({"accuracy": 55.0 + seed}))


def test_report_only_writes_the_table_and_a_valid_png(tmp_path):
    runs, out = tmp_path / "runs", tmp_path / "docs" / "benchmark.md"
    _finished_runs(runs)
    argv = ["--report-only", "--runs-dir", str(runs), "--out", str(out)]
    assert algorithms.main([*argv, "--algos", "reinforce", "ppo", "--seeds", "2"]) == 0
    text = out.read_text()
    assert "| reinforce | RecurrentAttentionModel (? core) | box | 900,000 |" in text
    assert "| ppo | MultiInputPolicy | multidiscrete | 250,000 | 2.5 |" in text
    assert "95.00 ± 0.71" in text and "![validation accuracy" in text
    png = out.with_suffix(".png")
    with Image.open(png) as picture:
        picture.verify()  # a complete, readable PNG
    with Image.open(png) as picture:
        assert picture.format == "PNG"
        width, height = picture.size
        assert 800 <= width <= 2000 and 300 <= height <= 1000
    assert not list(png.parent.glob(".benchmark.png.*"))  # no temp file left beside it


def test_report_only_without_finished_runs_fails(tmp_path, capsys):
    argv = ["--report-only", "--runs-dir", str(tmp_path), "--out", str(tmp_path / "b.md")]
    assert algorithms.main(argv) == 1
    assert "no finished runs" in capsys.readouterr().err
    assert not (tmp_path / "b.png").exists()


def test_the_reports_import_without_matplotlib_and_plotting_then_fails():
    # matplotlib comes with the agents extra; the report modules import without it, and a
    # plot then fails loudly instead of falling back to another drawing.
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"
        "import benchmarks.algorithms, benchmarks.paper_tables, benchmarks.plotting\n"
        "try:\n"
        "    benchmarks.plotting.pyplot()\n"
        "except ImportError:\n"
        "    print('no matplotlib')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "no matplotlib"
