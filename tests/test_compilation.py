"""``--compile``: the compiled step computes what the eager one does, and a machine without a
C++ compiler gets a clear error instead of one from deep inside inductor."""

from __future__ import annotations

import pytest
import torch

from agents import compilation
from agents.compilation import check_compiler, compile_step
from agents.ram_policy import RAMConfig, RecurrentAttentionModel


@pytest.mark.parametrize("core", ["rnn", "lstm"])
def test_the_compiled_step_matches_the_eager_one(core):
    torch.manual_seed(0)
    config = RAMConfig(num_scales=2, glimpse_size=4, num_classes=10, core=core, hidden_size=32)
    eager, compiled = RecurrentAttentionModel(config), RecurrentAttentionModel(config)
    compiled.load_state_dict(eager.state_dict())
    compile_step(compiled, "cpu")
    glimpse, location = torch.rand(16, 2, 4, 4), torch.rand(16, 2) * 2 - 1
    state = eager.initial_state(16)
    expected, got = eager.step(glimpse, location, state), compiled.step(glimpse, location, state)
    for a, b in zip(expected.state + (expected.location_mean, expected.baseline),
                    got.state + (got.location_mean, got.baseline), strict=True):  # fmt: skip
        torch.testing.assert_close(b, a, atol=1e-5, rtol=1e-5)
    got.location_mean.sum().backward()  # gradients flow back through the compiled graph
    assert compiled.glimpse_network.what.weight.grad.abs().sum() > 0


def test_no_cpu_compiler_is_a_clear_error(monkeypatch):
    monkeypatch.delenv("CXX", raising=False)
    monkeypatch.setattr(compilation.shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="needs a C\\+\\+ compiler"):
        check_compiler("cpu")
    check_compiler("cuda")  # only the CPU's inductor backend builds C++ here
