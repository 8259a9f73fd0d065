"""``--precision``: what runs in bfloat16, what stays fp32, and what ``auto`` picks.

The glimpse network and the core may run in bf16; the heads (location mean, baseline,
classifier), the losses and the weights stay fp32, and the REINFORCE gradient under bf16
must point where the fp32 one does.
"""

from __future__ import annotations

import pytest
import torch
from test_gradients import make_env  # a 4-glimpse env over random images

import ram_env  # noqa: F401  (registers the env ids)
from agents import precision as precision_module
from agents import reinforce
from agents.precision import autocast, resolve_precision
from agents.ram_policy import LSTMCore, RecurrentAttentionModel


def gradients(model: RecurrentAttentionModel, env, precision: str) -> dict[str, torch.Tensor]:
    model.zero_grad(set_to_none=True)
    with autocast(precision, "cpu"):
        rollout = reinforce.collect_rollout(model, env, seed=3, sample_class=False)
    for tensor in (rollout.location_log_probs, rollout.baselines, rollout.logits):
        assert tensor.dtype == torch.float32  # the loss's inputs stay fp32
    reinforce.compute_losses(rollout, location_weight=1.0).total.backward()
    return {name: param.grad.clone() for name, param in model.named_parameters()}


@pytest.mark.parametrize("core", ["rnn", "lstm"])
def test_bf16_gradients_point_where_the_fp32_ones_do(core):
    env = make_env(num_envs=64)
    torch.manual_seed(0)
    model = RecurrentAttentionModel.from_spaces(
        env.single_observation_space, env.single_action_space, core=core
    )
    full, mixed = gradients(model, env, "fp32"), gradients(model, env, "bf16")
    for name in ("location_network.mean_layer.weight", "classifier.weight", "core", "glimpse"):
        keys = [key for key in full if key.startswith(name)]
        a = torch.cat([full[key].flatten() for key in keys])
        b = torch.cat([mixed[key].flatten() for key in keys])
        cosine = torch.nn.functional.cosine_similarity(a, b, dim=0)
        assert cosine > 0.99, (name, float(cosine))  # measured: 0.996 to 1.000
    assert all(param.dtype == torch.float32 for param in model.parameters())


def test_fp32_runs_no_autocast_and_bf16_does():
    assert not torch.is_autocast_enabled("cpu")
    with autocast("fp32", "cpu"):
        assert not torch.is_autocast_enabled("cpu")
    with autocast("bf16", "cpu"):
        assert torch.is_autocast_enabled("cpu")


def test_auto_follows_the_cpu_and_the_core(monkeypatch):
    monkeypatch.setattr(precision_module, "cpu_runs_bf16_natively", lambda: True)
    assert resolve_precision("auto", "cpu", "lstm") == "bf16"
    assert resolve_precision("auto", "cpu", "rnn") == "fp32"  # lost accuracy under bf16
    assert resolve_precision("auto", "cpu", "gru") == "fp32"  # not checked
    monkeypatch.setattr(precision_module, "cpu_runs_bf16_natively", lambda: False)
    assert resolve_precision("auto", "cpu", "lstm") == "fp32"
    for core in ("rnn", "lstm"):
        assert resolve_precision("bf16", "cpu", core) == "bf16"
        assert resolve_precision("fp32", "cpu", core) == "fp32"
    with pytest.raises(ValueError, match="precision must be one of"):
        resolve_precision("fp8", "cpu", "lstm")
    with pytest.raises(ValueError, match="resolved precision"):
        autocast("auto", "cpu")


def test_lstm_core_under_autocast_is_the_same_cell_with_an_fp32_state():
    """Its products run in bf16, its gates and cell state in fp32: closer to the fp32 cell
    than ``nn.LSTMCell`` under autocast gets."""
    torch.manual_seed(0)
    core = LSTMCore(input_size=256, hidden_size=256)
    x, state = torch.randn(64, 256), (torch.randn(64, 256), torch.randn(64, 256))
    h, (_, c) = core(x, state)
    with autocast("bf16", "cpu"):
        mixed_h, (_, mixed_c) = core(x, state)
        _, stock_c = core.cell(x, (state[0], state[1]))
    assert mixed_h.dtype == mixed_c.dtype == torch.float32
    torch.testing.assert_close(mixed_h, h, atol=0.02, rtol=0)  # bf16 products: ~3 digits
    torch.testing.assert_close(mixed_c, c, atol=0.02, rtol=0)
    assert not torch.allclose(mixed_c, c, atol=1e-6)  # it did run in bf16
    assert (mixed_c - c).abs().max() < (stock_c - c).abs().max()  # measured: 0.006 vs 0.010
