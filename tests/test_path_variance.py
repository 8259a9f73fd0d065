"""``benchmarks/path_variance.py``: its figures agree with ``train.py --eval`` (mc 1 and N)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from agents.evaluation import evaluate
from agents.ram_policy import RAMPolicy, RecurrentAttentionModel
from agents.reinforce import ReinforceConfig
from benchmarks import path_variance
from ram_env.scoring import make_eval_env


@pytest.mark.mnist
def test_mean_and_averaged_paths_match_evaluate():
    config = ReinforceConfig(seed=4)
    env = make_eval_env(config.env_id, "validation", config.eval_batch_size)
    torch.manual_seed(0)
    model = RecurrentAttentionModel.from_spaces(
        env.single_observation_space, env.single_action_space
    )
    checkpoint = {
        "algo": "reinforce",
        "config": config.to_dict(),
        "model_config": model.config.to_dict(),
        "model": model.state_dict(),
    }
    scores = path_variance.score_paths(checkpoint, "validation", paths=3)
    mean_error = 100.0 * (1.0 - scores["mean_right"].mean())
    averaged_error = 100.0 * (1.0 - scores["averaged_right"].mean())
    mean_path = evaluate(RAMPolicy(model), env, mc=1, seed=4)
    averaged = evaluate(RAMPolicy(model, sample_paths=True), env, mc=3, seed=4)
    assert mean_error == pytest.approx(mean_path.error, abs=1e-9)
    assert averaged_error == pytest.approx(averaged.error, abs=1e-9)
    assert scores["sampled_right"].shape == (3, 10_000)
    assert not np.array_equal(scores["sampled_right"][0], scores["sampled_right"][1])


def test_report_splits_wrong_images_and_rings():
    scores = {
        "labels": np.zeros(4, dtype=np.int64),
        "first_ring": np.array([0.1, 0.3, 0.9, 1.0]),
        "mean_right": np.array([True, False, True, False]),
        "sampled_right": np.array([[True, False, False, True], [True, False, True, True]]),
        "averaged_right": np.array([True, False, True, True]),
    }
    lines = path_variance.report(scores, paths=2)
    assert lines[0].endswith("50.00% error")
    assert "37.50% error (min 25.00, max 50.00" in lines[1]
    assert "25.00% error" in lines[2]
    assert "every sampled path: 25.00%; on some but not all: 25.00%" in lines[3]
    assert lines[-1] == "  [0.75, 1.00): 50.00% of 2 images"  # 1.0 falls in the last ring
    assert lines[-3] == "  [0.25, 0.50): 100.00% of 1 images"
