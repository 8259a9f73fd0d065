"""The Recurrent Attention Model (Mnih et al., 2014) as PyTorch modules.

One module per concept of the paper, so each can be reused on its own (the glimpse network
is also the feature extractor of the SB3 route):

* ``GlimpseNetwork``: ``g = relu(A relu(W_g glimpse) + B relu(W_l location))``.
* ``RNNCore`` / ``LSTMCore`` / ``GRUCore``: ``h_t = core(g_t, h_{t-1})``. The hidden state is
  an explicit tuple of tensors that the caller carries from step to step.
* ``LocationNetwork``: ``mu = tanh(W h_t)``; the next location is drawn from ``N(mu, std^2)``.
  With ``locations="random"`` (the paper's control) glimpses go to uniformly random places
  instead, in training and evaluation alike, and nothing learns where to look.
* ``RecurrentAttentionModel``: the above plus the classifier ``Linear(h_T -> K)`` and the
  baseline ``b_t = Linear(h_t)``, which reads ``h_t.detach()`` so that fitting the baseline
  never changes the core.

Gradients follow the paper: the sampled location sent to the environment is detached, but
its log-probability is taken under the *non-detached* mean, so REINFORCE trains the location
network and, through ``h_t``, the core and the glimpse network.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from gymnasium import spaces
from torch import nn

from agents.batch_rows import BatchRows
from agents.precision import autocast, full_precision
from agents.reinforce_config import (
    CORE_TYPES,
    DEFAULT_LOCATION_STD,
    GLIMPSE_INPUTS,
    LOCATION_POLICIES,
)
from agents.rollout import env_action, observation_to_tensors

CoreState = tuple[torch.Tensor, ...]
"""A core's recurrent state: ``(h,)`` for ``rnn``/``gru``, ``(h, c)`` for ``lstm``."""


@dataclass(frozen=True)
class RAMConfig:
    """Sizes and options of a ``RecurrentAttentionModel``; plain types, so it can be saved."""

    num_scales: int
    glimpse_size: int
    num_classes: int
    core: str = "rnn"
    glimpse_hidden: int = 128
    location_hidden: int = 128
    glimpse_features: int = 256
    hidden_size: int = 256
    location_std: float = DEFAULT_LOCATION_STD
    learn_std: bool = False
    locations: str = "learned"  # "random": the paper's control, glimpses placed uniformly
    baseline_trains_core: bool = False  # the paper's baseline reads h_t without training it
    glimpse_input: str = "mean"  # "sum": each scale's block sums (see GlimpseNetwork)

    def __post_init__(self) -> None:
        if self.core not in CORE_TYPES:
            raise ValueError(f"core must be one of {CORE_TYPES}, got {self.core!r}")
        if self.glimpse_input not in GLIMPSE_INPUTS:
            raise ValueError(
                f"glimpse_input must be one of {GLIMPSE_INPUTS}, got {self.glimpse_input!r}"
            )
        if self.locations not in LOCATION_POLICIES:
            raise ValueError(
                f"locations must be one of {LOCATION_POLICIES}, got {self.locations!r}"
            )
        if not self.location_std > 0:
            raise ValueError(f"location_std must be > 0, got {self.location_std}")

    @classmethod
    def from_spaces(
        cls, observation_space: spaces.Dict, action_space: spaces.Box, **options: Any
    ) -> RAMConfig:
        """Read glimpse shape and class count from a glimpse env's single-env spaces."""
        num_scales, glimpse_size, _ = observation_space["glimpse"].shape
        num_classes = action_space.shape[0] - 2
        return cls(
            num_scales=num_scales, glimpse_size=glimpse_size, num_classes=num_classes, **options
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class GlimpseNetwork(nn.Module):
    """Fuses what was seen (the retina's patches) with where (the location) into one vector.

    ``glimpse_input="sum"`` multiplies scale i by its block area ``4**i`` before the first
    layer: block sums instead of means. On a sparse screen (Catch: a ball pixel and a
    paddle) a lone pixel then weighs as much at the coarsest scale as at the finest, where
    means would shrink it 16-fold at 3 scales.
    """

    def __init__(
        self,
        num_scales: int,
        glimpse_size: int,
        glimpse_hidden: int = 128,
        location_hidden: int = 128,
        features_dim: int = 256,
        glimpse_input: str = "mean",
    ) -> None:
        super().__init__()
        self.features_dim = features_dim
        gains = 4.0 ** torch.arange(num_scales, dtype=torch.float32)[:, None, None]
        self.register_buffer(
            "scale_gains", gains if glimpse_input == "sum" else None, persistent=False
        )
        self.what = nn.Linear(num_scales * glimpse_size * glimpse_size, glimpse_hidden)
        self.where = nn.Linear(2, location_hidden)
        self.what_out = nn.Linear(glimpse_hidden, features_dim)  # the paper's A
        self.where_out = nn.Linear(location_hidden, features_dim, bias=False)  # the paper's B

    def forward(self, glimpse: torch.Tensor, location: torch.Tensor) -> torch.Tensor:
        """``glimpse`` (B, k, g, g), ``location`` (B, 2) -> features (B, features_dim)."""
        if self.scale_gains is not None:
            glimpse = glimpse * self.scale_gains
        h_g = F.relu(self.what(glimpse.flatten(1)))
        h_l = F.relu(self.where(location))
        # A h_g + B h_l, with the sum fused into B's matrix product (addmm): one kernel and
        # one temporary fewer per step, which shows on a CPU.
        return F.relu(torch.addmm(self.what_out(h_g), h_l, self.where_out.weight.t()))


class RNNCore(nn.Module):
    """The paper's core for static images: ``h_t = relu(W_h h_{t-1} + W_x g_t)``."""

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.input_to_hidden = nn.Linear(input_size, hidden_size)
        self.hidden_to_hidden = nn.Linear(hidden_size, hidden_size, bias=False)

    def initial_state(self, batch_size: int, device: torch.device | str = "cpu") -> CoreState:
        return (torch.zeros(batch_size, self.hidden_size, device=device),)

    def forward(self, x: torch.Tensor, state: CoreState) -> tuple[torch.Tensor, CoreState]:
        # W_x x + b + W_h h_{t-1}, the sum fused into the second product (addmm).
        pre_activation = torch.addmm(
            self.input_to_hidden(x), state[0], self.hidden_to_hidden.weight.t()
        )
        h = F.relu(pre_activation)
        return h, (h,)


class LSTMCore(nn.Module):
    """An LSTM cell core; its state is ``(h, c)``."""

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.cell = nn.LSTMCell(input_size, hidden_size)

    def initial_state(self, batch_size: int, device: torch.device | str = "cpu") -> CoreState:
        zeros = torch.zeros(batch_size, self.hidden_size, device=device)
        return (zeros, zeros.clone())

    def forward(self, x: torch.Tensor, state: CoreState) -> tuple[torch.Tensor, CoreState]:
        if torch.is_autocast_enabled(x.device.type):
            return self._mixed_precision_forward(x, state)
        h, c = self.cell(x, (state[0], state[1]))
        return h, (h, c)

    def _mixed_precision_forward(
        self, x: torch.Tensor, state: CoreState
    ) -> tuple[torch.Tensor, CoreState]:
        """The same cell under autocast: both inputs' products in one bfloat16 ``addmm``, the
        gate arithmetic and the cell state in fp32 (``nn.LSTMCell`` under autocast strays
        about twice as far from its fp32 result)."""
        cell = self.cell
        weight = torch.cat([cell.weight_ih, cell.weight_hh], dim=1)
        low = torch.get_autocast_dtype(x.device.type)
        inputs = torch.cat([x.to(low), state[0].to(low)], dim=1)
        gates = torch.addmm(cell.bias_ih + cell.bias_hh, inputs, weight.t()).float()
        with full_precision(gates):
            input_gate, forget_gate, candidate, output_gate = gates.chunk(4, dim=1)
            c = torch.sigmoid(forget_gate) * state[1] + torch.sigmoid(input_gate) * torch.tanh(
                candidate
            )
            h = torch.sigmoid(output_gate) * torch.tanh(c)
        return h, (h, c)


class GRUCore(nn.Module):
    """A GRU cell core; its state is ``(h,)``."""

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.cell = nn.GRUCell(input_size, hidden_size)

    def initial_state(self, batch_size: int, device: torch.device | str = "cpu") -> CoreState:
        return (torch.zeros(batch_size, self.hidden_size, device=device),)

    def forward(self, x: torch.Tensor, state: CoreState) -> tuple[torch.Tensor, CoreState]:
        h = self.cell(x, state[0])
        return h, (h,)


def make_core(core: str, input_size: int, hidden_size: int) -> nn.Module:
    """Build the core named ``core`` (one of ``CORE_TYPES``)."""
    cores = {"rnn": RNNCore, "lstm": LSTMCore, "gru": GRUCore}
    if core not in cores:
        raise ValueError(f"core must be one of {CORE_TYPES}, got {core!r}")
    return cores[core](input_size, hidden_size)


class LocationNetwork(nn.Module):
    """The Gaussian location policy: mean ``tanh(W h)``, fixed or learned std."""

    def __init__(
        self, hidden_size: int, std: float = DEFAULT_LOCATION_STD, learn_std: bool = False
    ) -> None:
        super().__init__()
        self.mean_layer = nn.Linear(hidden_size, 2)
        log_std = torch.full((2,), math.log(std))
        if learn_std:
            self.log_std = nn.Parameter(log_std)
        else:
            self.register_buffer("log_std", log_std)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        """The mean location ``(B, 2)`` in ``[-1, 1]``."""
        return torch.tanh(self.mean_layer(hidden))

    @property
    def std(self) -> torch.Tensor:
        return self.log_std.exp()

    def sample(
        self,
        mean: torch.Tensor,
        generator: torch.Generator | None = None,
        rows: BatchRows | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """A location drawn around ``mean`` (detached: it goes to the env) and its log-prob.

        The log-prob is a function of the non-detached ``mean`` (and std), which is what
        carries the REINFORCE gradient into the network. ``rows``: the batch's rows that
        ``mean`` holds, when it is one process's share of a larger batch.
        """
        rows = rows or BatchRows.whole(len(mean))
        noise = rows.normal(mean.shape[1], generator, mean.device)
        location = (mean + noise * self.std).detach()
        return location, self.log_prob(mean, location)

    def log_prob(self, mean: torch.Tensor, location: torch.Tensor) -> torch.Tensor:
        """``log N(location; mean, std^2)`` summed over (x, y): shape ``(B,)``."""
        z = (location - mean) / self.std
        return (-0.5 * z.square() - self.log_std - 0.5 * math.log(2 * math.pi)).sum(-1)


class StepOutput(NamedTuple):
    """What the model produces after taking in one glimpse."""

    hidden: torch.Tensor  # h_t (B, hidden_size)
    state: CoreState  # the core state to feed to the next step
    location_mean: torch.Tensor  # mu_t (B, 2)
    baseline: torch.Tensor  # b_t (B,), from h_t.detach() unless baseline_trains_core


class RecurrentAttentionModel(nn.Module):
    """Glimpse network + core + location, classification and baseline heads.

    Usage, one glimpse at a time (the caller owns the recurrent state)::

        state = model.initial_state(batch_size)
        for t in range(T):
            out = model.step(glimpse_t, location_t, out.state if t else state)
            ...  # sample the next location from out.location_mean
        logits = model.classify(out.hidden)
    """

    def __init__(self, config: RAMConfig) -> None:
        super().__init__()
        self.config = config
        self.glimpse_network = GlimpseNetwork(
            config.num_scales,
            config.glimpse_size,
            config.glimpse_hidden,
            config.location_hidden,
            config.glimpse_features,
            config.glimpse_input,
        )
        self.core = make_core(config.core, config.glimpse_features, config.hidden_size)
        self.location_network = LocationNetwork(
            config.hidden_size, config.location_std, config.learn_std
        )
        self.classifier = nn.Linear(config.hidden_size, config.num_classes)
        self.baseline_layer = nn.Linear(config.hidden_size, 1)

    @classmethod
    def from_spaces(
        cls, observation_space: spaces.Dict, action_space: spaces.Box, **options: Any
    ) -> RecurrentAttentionModel:
        return cls(RAMConfig.from_spaces(observation_space, action_space, **options))

    def initial_state(self, batch_size: int) -> CoreState:
        """The core state before the first glimpse (zeros)."""
        device = self.classifier.weight.device
        return self.core.initial_state(batch_size, device)

    def step(self, glimpse: torch.Tensor, location: torch.Tensor, state: CoreState) -> StepOutput:
        """Take in the glimpse seen at ``location``; return the new state and the heads."""
        features = self.glimpse_network(glimpse, location)
        hidden, state = self.core(features, state)
        # Under --precision bf16 the two above ran in bfloat16; the state carried on and the
        # heads (location mean, baseline: the REINFORCE terms) stay fp32.
        hidden, state = hidden.float(), tuple(part.float() for part in state)
        with full_precision(hidden):
            location_mean, baseline = self.location_network(hidden), self.baseline(hidden)
        return StepOutput(hidden, state, location_mean, baseline)

    def next_location(
        self,
        out: StepOutput,
        generator: torch.Generator | None,
        explore: bool,
        rows: BatchRows | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Where to look next and, when it was drawn from the Gaussian policy, its log-prob.

        Learned locations: a sample around ``mu_t`` when ``explore`` (training, ``--mc``),
        else ``mu_t`` itself. Random locations: uniform in ``[-1, 1]^2`` from ``generator``
        either way, with no log-prob, so REINFORCE has nothing to train. ``rows``: the rows
        of a larger batch this one is (a data-parallel share); draws are the whole batch's.
        """
        mean = out.location_mean
        if self.config.locations == "random":
            rows = rows or BatchRows.whole(len(mean))
            return rows.uniform(mean.shape[1], generator, mean.device) * 2.0 - 1.0, None
        if explore:
            return self.location_network.sample(mean, generator, rows)
        return mean, None

    def baseline(self, hidden: torch.Tensor) -> torch.Tensor:
        """``b_t`` (B,): the expected reward, from ``h_t.detach()`` (no gradient to the core),
        or from ``h_t`` itself with ``baseline_trains_core`` (its error shapes the core too,
        as a critic's does in actor-critic methods)."""
        if not self.config.baseline_trains_core:
            hidden = hidden.detach()
        return self.baseline_layer(hidden).squeeze(-1)

    def classify(self, hidden: torch.Tensor) -> torch.Tensor:
        """Class logits ``(B, K)`` from the last hidden state (fp32 whatever the precision)."""
        with full_precision(hidden):
            return self.classifier(hidden.float())


class RAMPolicy:
    """A ``RecurrentAttentionModel`` as an ``agents.policy.Policy`` (``"box"`` actions).

    Each step it takes in the glimpse, looks next where the location network's mean points
    (``sample_paths``: a draw around it, seeded by ``seed``) and reports its class
    posterior (softmax) as the class scores, which the env reads at the last step. The
    state is the core's; no gradients are kept.
    """

    action_type = "box"

    def __init__(
        self, model: RecurrentAttentionModel, sample_paths: bool = False, precision: str = "fp32"
    ) -> None:
        self.model = model
        self.sample_paths = sample_paths
        self.precision = precision
        self.device = model.classifier.weight.device
        self.generator = torch.Generator(device=self.device).manual_seed(0)

    def seed(self, seed: int) -> None:
        self.generator = torch.Generator(device=self.device).manual_seed(seed)

    def check_observation_space(self, space: spaces.Space) -> None:
        config = self.model.config
        expected = (config.num_scales, config.glimpse_size, config.glimpse_size)
        given = space["glimpse"].shape
        if given != expected:
            raise ValueError(f"the model expects glimpses {expected}, the env gives {given}")

    @torch.no_grad()
    def __call__(
        self, observation: dict[str, Any], state: CoreState | None
    ) -> tuple[Any, CoreState]:
        glimpse, location = observation_to_tensors(observation, self.device)
        if state is None:
            state = self.model.initial_state(len(glimpse))
        with autocast(self.precision, self.device):
            out = self.model.step(glimpse, location, state)
        next_location, _ = self.model.next_location(out, self.generator, self.sample_paths)
        posterior = self.model.classify(out.hidden).softmax(-1)
        action = torch.cat([next_location, posterior], dim=1)
        return env_action(action, observation), out.state
