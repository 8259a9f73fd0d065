"""REINFORCE with a learned baseline for the Recurrent Attention Model (Mnih et al., 2014).

One update, read top to bottom (``collect_rollout`` then ``compute_losses``):

1. Reset the N training envs (seeded from the run seed and the update index, so an update
   is a pure function of the seed, its index and the weights; resuming is exact).
2. For t = 1..T: feed the glimpse and its location to the model; for t < T sample the next
   location ``l_t ~ N(mu_t, std^2)`` and keep ``log pi(l_t)`` and the baseline ``b_t``; at
   t = T classify from ``h_T`` and send the decision. The env scores it: R = 1 if correct.
3. Loss (``--loss hybrid``, the paper's):
   ``CE(logits, label) - w mean_i sum_t log pi(l_t) (R - b_t).detach() + mean (b_t - R)^2``
   with ``w = --location-weight`` (see ``compute_losses``). With ``--loss reinforce`` the
   class is sampled from the softmax too and trained by the same policy gradient from the
   terminal reward alone (no label is used). ``--glimpse-classification-weight c`` (not
   the paper's) adds ``c mean_t CE(classify(h_t), label)`` over the earlier steps t < T:
   every hidden state is asked for the class, a denser signal for the core.

Catch (``GlimpseCatch-v0``) is the same loop with a decision at *every* step rather than at
the last: each step the same head (3 outputs) draws a paddle move from its softmax beside
the next location, and both are trained by the policy gradient from the terminal reward
(catch 1, miss 0) with the same learned baseline, ``--loss reinforce`` being the only loss
(there is no label). The env says which kind it is (``task.decision_every_step``).

The training loop around it: epochs of ``num_images`` training images, Adam with
decoupled weight decay and a progress-based LR schedule, validation after every epoch on
the fixed validation split, ``last.pt`` / ``best.pt`` checkpoints, ``metrics.csv``, a
clean stop on a time budget or on SIGINT/SIGTERM.

Under torchrun (``agents.distributed``) each of N ranks plays its rows of every batch, the
episodes the whole batch has there (same env seeds, same draws), and the gradients are
averaged over the ranks before the step: the update of one process on the whole batch. The
ranks share the validation split and agree on the clock and on stops; rank 0 alone writes.
"""

from __future__ import annotations

import math
import os
import random
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import gymnasium
import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from agents.batch_rows import BatchRows
from agents.checkpoint import (
    CheckpointError,
    load_checkpoint,
    restore_rng_states,
    rng_states,
    save_checkpoint,
)
from agents.compilation import compile_step
from agents.cpu_load import choose_threads
from agents.distributed import Ranks, join
from agents.evaluation import EvalResult, evaluate
from agents.launch import Launch
from agents.learning_curve import LearningCurve
from agents.metrics_log import MetricsLog
from agents.policy import LoadedPolicy
from agents.precision import autocast, resolve_precision
from agents.ram_policy import CoreState, RAMConfig, RAMPolicy, RecurrentAttentionModel
from agents.reinforce_config import LOSSES, LR_SCHEDULES, ReinforceConfig
from agents.rollout import env_action, env_device_kwargs, observation_to_tensors, scores_action
from agents.schedules import scheduled_lr
from agents.stop import StopRequest
from ram_env.play import play
from ram_env.scoring import make_eval_env
from ram_env.seeds import derive_seed

RUN_FILE = "last.pt"  # what a run folder holding a run of this algorithm has
METRIC_FIELDS = (
    "epoch",
    "images",
    "minutes",
    "lr",
    "loss",
    "loss_classification",
    "loss_location",
    "loss_baseline",
    "train_accuracy",
    "val_accuracy",
    "images_per_second",
)


# --------------------------------------------------------------------------- one update


class Rollout(NamedTuple):
    """What one batch of episodes leaves for the loss."""

    location_log_probs: torch.Tensor  # (T-1, N): log pi(l_t) under the non-detached mean
    baselines: torch.Tensor  # (T, N): b_t, from h_t.detach()
    logits: torch.Tensor  # (N, K): the classifier on h_T
    # (D, N): log pi of the sampled decisions of the last D steps (D = 1: a sampled class;
    # D = T: Catch's moves); None when the class was the argmax (trained by cross-entropy)
    decision_log_probs: torch.Tensor | None
    decision_entropy: torch.Tensor | None  # (D, N): the entropy of those decisions' softmax
    rewards: torch.Tensor  # (N,): the episode return (1 correct or caught, 0 not)
    labels: torch.Tensor | None  # (N,): the true classes, revealed at the end (Catch: None)
    early_logits: torch.Tensor | None = None  # (T-1, N, K): the classifier on h_1..h_{T-1}


class Losses(NamedTuple):
    """The loss and its (unweighted) parts, each averaged over the batch."""

    total: torch.Tensor
    classification: torch.Tensor
    location: torch.Tensor
    baseline: torch.Tensor


def make_train_env(
    config: ReinforceConfig, num_envs: int | None = None
) -> gymnasium.vector.VectorEnv:
    """The training vector env (``num_envs``: a rank's share); reset explicitly (and seeded)
    before every batch. Off the CPU it is the torch env on the model's device, so steps never
    wait on the host."""
    return gymnasium.make_vec(
        config.env_id,
        num_envs=num_envs or config.num_envs or config.batch_size,
        vectorization_mode="vector_entry_point",
        autoreset_mode=gymnasium.vector.AutoresetMode.DISABLED,
        split="train",
        **config.env_kwargs(),
        **env_device_kwargs(config.device, config.env_id),
    )


@dataclass
class Trace:
    """What a ``RAMLearner`` records of a batch of episodes, step by step."""

    core_state: CoreState
    steps: int = 0
    location_log_probs: list[torch.Tensor] = field(default_factory=list)
    baselines: list[torch.Tensor] = field(default_factory=list)
    logits: torch.Tensor | None = None
    decision_log_probs: list[torch.Tensor] = field(default_factory=list)
    decision_entropy: list[torch.Tensor] = field(default_factory=list)
    early_logits: list[torch.Tensor] = field(default_factory=list)


class RAMLearner:
    """The model as a ``Policy`` that explores and records what the loss needs.

    Before the last of ``num_glimpses`` steps it draws the next location around the location
    network's mean (uniformly for the random-locations control), keeping ``log pi(l_t)``
    under the non-detached mean and ``b_t``; at the last step (``decision_every_step``: at
    every step, Catch's moves) it decides: the argmax, or with ``sample_class`` a draw from
    the softmax whose log-probability and entropy it keeps. Actions are ``"box"``: the
    location and one-hot decision scores (all -1 where no decision is made). ``rows``: the
    rows of a larger batch it plays (a rank's share), whose draws it takes.
    ``classify_early``: it also keeps the classifier's logits on each earlier hidden state.
    """

    action_type = "box"

    def __init__(
        self,
        model: RecurrentAttentionModel,
        num_glimpses: int,
        sample_class: bool = False,
        decision_every_step: bool = False,
        rows: BatchRows | None = None,
        classify_early: bool = False,
    ) -> None:
        self.model, self.num_glimpses, self.sample_class = model, num_glimpses, sample_class
        self.decision_every_step = decision_every_step
        self.rows = rows
        self.classify_early = classify_early
        self.device = model.classifier.weight.device
        self.num_classes = model.config.num_classes
        self.generator = torch.Generator(device=self.device)

    def seed(self, seed: int) -> None:
        self.generator = torch.Generator(device=self.device).manual_seed(seed)

    def check_observation_space(self, space: gymnasium.spaces.Space) -> None:
        RAMPolicy(self.model).check_observation_space(space)

    def __call__(self, observation: dict[str, Any], trace: Trace | None) -> tuple[Any, Trace]:
        glimpse, location = observation_to_tensors(observation, self.device)
        if trace is None:
            trace = Trace(self.model.initial_state(len(glimpse)))
        out = self.model.step(glimpse, location, trace.core_state)
        trace.core_state = out.state
        trace.baselines.append(out.baseline)
        trace.steps += 1
        last = trace.steps == self.num_glimpses
        next_location = None
        if not last:
            next_location, log_prob = self.model.next_location(
                out, self.generator, explore=True, rows=self.rows
            )
            if log_prob is not None:  # None: random locations, nothing to train
                trace.location_log_probs.append(log_prob)
        if not (last or self.decision_every_step):
            if self.classify_early:
                trace.early_logits.append(self.model.classify(out.hidden))
            action = scores_action(next_location, None, self.num_classes)
            return env_action(action, observation), trace
        trace.logits = self.model.classify(out.hidden)
        action = scores_action(next_location, self._decide(trace), self.num_classes)
        return env_action(action, observation), trace

    def _decide(self, trace: Trace) -> torch.Tensor:
        """The class or move of each episode from ``trace.logits``: the argmax, or a draw
        (the whole batch's, cut to ``rows``) whose log-probability and entropy go to the
        trace."""
        if not self.sample_class:
            return trace.logits.detach().argmax(-1)
        posterior = trace.logits.detach().softmax(-1)
        rows = self.rows or BatchRows.whole(len(posterior))
        drawn = rows.categorical(posterior, self.generator)
        log_softmax = trace.logits.log_softmax(-1)
        trace.decision_log_probs.append(log_softmax.gather(1, drawn[:, None]).squeeze(1))
        trace.decision_entropy.append(-(log_softmax.exp() * log_softmax).sum(-1))
        return drawn


def collect_rollout(
    model: RecurrentAttentionModel,
    env: gymnasium.vector.VectorEnv,
    seed: int,
    sample_class: bool,
    rows: BatchRows | None = None,
    classify_early: bool = False,
) -> Rollout:
    """Run one episode in each env with gradients on; see the module docstring. ``rows``:
    which rows of a larger batch the env's episodes are (a rank's share);
    ``classify_early``: keep the classifier's logits on the hidden states before the last."""
    every_step = env.unwrapped.task.decision_every_step
    if every_step and not sample_class:
        raise ValueError(
            "this env decides at every step and has no labels: its decisions must be sampled "
            "and trained from the reward (--loss reinforce)"
        )
    rows = rows or BatchRows.whole(env.unwrapped.num_envs)
    if rows.count != env.unwrapped.num_envs:
        raise ValueError(f"{rows.count} rows for {env.unwrapped.num_envs} envs")
    learner = RAMLearner(
        model, env.unwrapped.num_glimpses, sample_class, every_step, rows, classify_early
    )
    # Env i is env rows.start + i of the whole batch: seeded as that one, it plays its episode.
    played = play(learner, env, seed, reset_seed=seed + rows.start)
    trace, device = played.state, learner.device
    log_probs = trace.location_log_probs
    no_steps = torch.zeros(0, len(played.returns), device=device)  # random locations
    decisions = trace.decision_log_probs
    return Rollout(
        location_log_probs=torch.stack(log_probs) if log_probs else no_steps,
        baselines=torch.stack(trace.baselines),
        logits=trace.logits,
        decision_log_probs=torch.stack(decisions) if decisions else None,
        decision_entropy=torch.stack(trace.decision_entropy) if decisions else None,
        rewards=torch.as_tensor(played.returns, dtype=torch.float32, device=device),
        labels=None if played.labels is None else torch.as_tensor(played.labels, device=device),
        early_logits=torch.stack(trace.early_logits) if trace.early_logits else None,
    )


def compute_losses(
    rollout: Rollout,
    location_weight: float = 1.0,
    entropy_weight: float = 0.0,
    discount: float = 1.0,
    early_class_weight: float = 0.0,
) -> Losses:
    """The hybrid loss, or the pure policy-gradient loss when the decisions were sampled.

    ``location_weight`` scales the REINFORCE term: its gradient, ``(l - mu) / std^2`` per
    step, is an order of magnitude larger than the cross-entropy's and mostly noise early
    on; scaled down it still trains the location network and the core, without drowning
    the classifier's signal. ``classification`` is the decisions' term: the cross-entropy,
    or the policy gradient of the sampled class (or of Catch's moves, summed over the steps
    as the locations' are). ``entropy_weight`` subtracts that much of the sampled decisions'
    entropy (summed over the steps), a bonus for exploring. ``discount`` < 1 credits step t
    of T with ``discount**(T-1-t)`` of the reward, the return the baseline ``b_t`` then
    predicts: less variance from early steps, at the price of bias.
    ``early_class_weight`` adds that much of the mean cross-entropy of the classifier on the
    earlier hidden states (``rollout.early_logits``) against the label, to the total only.
    """
    returns = _discounted_returns(rollout.rewards, rollout.baselines.shape[0], discount)
    advantages = (returns - rollout.baselines).detach()  # (T, N)
    steps = rollout.location_log_probs.shape[0]
    location = -(rollout.location_log_probs * advantages[:steps]).sum(0).mean()
    baseline = F.mse_loss(rollout.baselines, returns.expand_as(rollout.baselines))
    if rollout.decision_log_probs is None:
        classification = F.cross_entropy(rollout.logits, rollout.labels)
    else:
        decided = rollout.decision_log_probs.shape[0]  # the last `decided` steps
        classification = -(rollout.decision_log_probs * advantages[-decided:]).sum(0).mean()
    total = classification + location_weight * location + baseline
    if entropy_weight and rollout.decision_entropy is not None:
        total = total - entropy_weight * rollout.decision_entropy.sum(0).mean()
    if early_class_weight:
        if rollout.early_logits is None or rollout.labels is None:
            raise ValueError("early_class_weight needs the early logits and the labels")
        early = rollout.early_logits
        labels = rollout.labels.expand(early.shape[0], -1)
        total = total + early_class_weight * F.cross_entropy(early.flatten(0, 1), labels.flatten())
    return Losses(total, classification, location, baseline)


def _discounted_returns(rewards: torch.Tensor, steps: int, discount: float) -> torch.Tensor:
    """The return of each of ``steps`` steps from the episode's final ``rewards`` ``(N,)``:
    the rewards themselves ``(N,)`` without discounting, else ``(steps, N)``."""
    if discount == 1.0:
        return rewards
    powers = torch.arange(steps - 1, -1, -1, device=rewards.device, dtype=rewards.dtype)
    return (discount**powers)[:, None] * rewards[None, :]


def update(
    model: RecurrentAttentionModel,
    optimizer: torch.optim.Optimizer,
    env: gymnasium.vector.VectorEnv,
    config: ReinforceConfig,
    update_index: int,
    ranks: Ranks | None = None,
) -> torch.Tensor:
    """One optimiser step on ``batch_size`` episodes; returns the detached stats row
    ``(loss, classification, location, baseline, accuracy)`` averaged over the batch (over
    this rank's share of it, under torchrun)."""
    ranks = ranks or Ranks.single()
    rollouts = config.rollouts_per_update()
    rows = ranks.rows(config.num_envs or config.batch_size)
    precision = resolve_precision(config.precision, config.device, config.core)
    optimizer.zero_grad(set_to_none=True)
    stats = torch.zeros(5)
    for part in range(rollouts):
        seed = derive_seed(config.seed, update_index, part)
        with autocast(precision, config.device):
            rollout = collect_rollout(
                model,
                env,
                seed,
                sample_class=config.loss == "reinforce",
                rows=rows,
                classify_early=config.glimpse_classification_weight > 0,
            )
        losses = compute_losses(
            rollout,
            config.location_weight,
            config.entropy_weight,
            config.discount,
            config.glimpse_classification_weight,
        )
        (losses.total / rollouts).backward()
        row = torch.stack([*losses, rollout.rewards.mean()]).detach().cpu()
        stats += row / rollouts
    ranks.average_gradients(model.parameters())  # equal shares: the whole batch's gradient
    optimizer.step()
    return stats


# --------------------------------------------------------------------------- the run


@dataclass
class Progress:
    """Where a run stands; saved in every checkpoint."""

    updates: int = 0
    train_seconds: float = 0.0
    best_val_accuracy: float = -1.0
    last_val_accuracy: float = -1.0


def learning_rate(config: ReinforceConfig, progress: float) -> float:
    """The LR at ``progress`` in [0, 1] of the run (cosine and linear decay to 0)."""
    return scheduled_lr(config.lr, config.lr_schedule, progress)


def build_model(
    config: ReinforceConfig, env: gymnasium.vector.VectorEnv
) -> RecurrentAttentionModel:
    model_config = RAMConfig.from_spaces(
        env.single_observation_space,
        env.single_action_space,
        core=config.core,
        hidden_size=config.hidden_size,
        location_std=config.std,
        learn_std=config.learn_std,
        locations=config.locations,
        baseline_trains_core=config.baseline_trains_core,
        glimpse_input=config.glimpse_input,
    )
    return RecurrentAttentionModel(model_config).to(config.device)


def make_optimizer(
    model: RecurrentAttentionModel, config: ReinforceConfig
) -> torch.optim.Optimizer:
    """Adam; with ``weight_decay``, AdamW (the decay applied to the weights, not the gradient)."""
    adam = torch.optim.AdamW if config.weight_decay else torch.optim.Adam
    options = {"lr": config.lr, "weight_decay": config.weight_decay}
    # The fused kernel updates all parameters in one call: several times faster on CPU.
    try:
        return adam(model.parameters(), fused=True, **options)
    except (RuntimeError, TypeError):  # an older torch or a device without the fused kernel
        return adam(model.parameters(), **options)


def train(
    config: ReinforceConfig,
    out_dir: str | os.PathLike,
    resume: bool = False,
    progress_bar: bool = True,
) -> dict[str, Any]:
    """Train (or carry on training) in ``out_dir``; returns a summary of the run. Under
    torchrun, every rank runs this; rank 0 alone writes to ``out_dir``."""
    out_dir = Path(out_dir)
    launch = Launch.from_environment()
    ranks = join(config.device, out_dir / RUN_FILE, launch)
    if ranks.is_main:
        out_dir.mkdir(parents=True, exist_ok=True)
    threads, threads_reason = choose_threads(config.threads, launch)
    torch.set_num_threads(threads)
    torch.manual_seed(config.seed)
    np.random.seed(config.seed % 2**32)
    random.seed(config.seed)

    precision = resolve_precision(config.precision, config.device, config.core)
    if ranks.is_main:
        print(f"precision: {precision} (--precision {config.precision})", file=sys.stderr)
        print(f"threads: {threads} ({threads_reason})", file=sys.stderr)
    env = make_train_env(config, config.envs_per_rank(ranks.world_size))
    val_env = make_eval_env(
        config.env_id, "validation", config.eval_batch_size, **config.env_kwargs()
    )
    model = build_model(config, env)
    if config.compile:
        compile_step(model, config.device)
    optimizer = make_optimizer(model, config)
    progress = Progress()
    if resume:
        checkpoint = load_checkpoint(out_dir / RUN_FILE)
        _load_state(model, optimizer, checkpoint)
        progress = Progress(**checkpoint["progress"])
        restore_rng_states(checkpoint["rng"])
    per_process = {"threads"}  # settings that may differ between ranks
    run_settings = {k: v for k, v in config.to_dict().items() if k not in per_process}
    ranks.check_same({**run_settings, "resolved_precision": precision})
    ranks.broadcast_parameters(model)

    images_per_update = config.batch_size  # episodes: images, or Catch's games
    num_images = env.unwrapped.num_images
    catch = env.unwrapped.task.decision_every_step
    unit, scored = ("game", "catch rate") if catch else ("img", "accuracy")
    updates_per_epoch = math.ceil(num_images / images_per_update)
    total_updates = config.epochs * updates_per_epoch
    if config.max_images is not None:
        total_updates = min(total_updates, math.ceil(config.max_images / images_per_update))
    budget_seconds = None if config.train_minutes is None else 60.0 * config.train_minutes
    images_done = progress.updates * images_per_update
    metrics = writer = None
    if ranks.is_main:  # rank 0 alone writes the run's files
        metrics = MetricsLog(
            out_dir / "metrics.csv",
            METRIC_FIELDS,
            keep=lambda row: int(row["images"]) <= images_done,
        )
        writer = _tensorboard_writer(out_dir)
    steps_per_image = env.unwrapped.num_glimpses  # env steps: every episode is T steps
    curve = None
    if config.curve_every is not None:  # every rank scores its share; rank 0 writes
        curve = LearningCurve(
            out_dir, config.curve_every, images_done * steps_per_image, write=ranks.is_main
        )

    def save(name: str) -> None:
        if not ranks.is_main:
            return
        save_checkpoint(
            out_dir / name,
            {
                "algo": "reinforce",
                "track": config.track,
                "config": config.to_dict(),
                "precision": precision,  # what --precision resolved to on this machine
                "model_config": model.config.to_dict(),
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "progress": asdict(progress),
                "rng": rng_states(),
            },
        )

    def end_of_period(epoch_stats: list[torch.Tensor], images_per_second: float) -> None:
        """Validate, checkpoint, and log one row (an epoch, or the part run before a stop)."""
        scorer = RAMPolicy(model, precision=precision)
        result = evaluate(scorer, val_env, seed=config.seed, split="validation", shard=ranks)
        clock()
        progress.last_val_accuracy = result.accuracy
        if result.accuracy > progress.best_val_accuracy:
            progress.best_val_accuracy = result.accuracy
            save("best.pt")
        save(RUN_FILE)
        period_stats = ranks.mean(torch.stack(epoch_stats).mean(0))  # over the whole batches
        loss, classification, location, baseline, accuracy = period_stats
        row = {
            "epoch": math.ceil(progress.updates / updates_per_epoch),
            "images": progress.updates * images_per_update,
            "minutes": round(progress.train_seconds / 60.0, 3),
            "lr": optimizer.param_groups[0]["lr"],
            "loss": float(loss),
            "loss_classification": float(classification),
            "loss_location": float(location),
            "loss_baseline": float(baseline),
            "train_accuracy": 100.0 * float(accuracy),
            "val_accuracy": result.accuracy,
            "images_per_second": round(images_per_second, 1),
        }
        if metrics is not None:
            metrics.append(row)
        if writer is not None:
            for key, value in row.items():
                writer.add_scalar(key, value, row["images"])
        bar.set_postfix(val_acc=f"{result.accuracy:.2f}%", refresh=False)

    stop_reason = "done"
    bar = tqdm(
        total=total_updates * images_per_update,
        initial=progress.updates * images_per_update,
        unit=unit,
        unit_scale=True,
        dynamic_ncols=True,
        disable=not (progress_bar and ranks.is_main),
        desc=f"{config.env_id} reinforce",
    )
    if progress.best_val_accuracy >= 0:
        bar.set_postfix(val_acc=f"{progress.last_val_accuracy:.2f}%", refresh=False)
    epoch_stats: list[torch.Tensor] = []
    period_start, period_images = time.perf_counter(), 0
    run_start, seconds_before = time.perf_counter(), progress.train_seconds

    def clock() -> None:  # the budget counts wall time, validation and checkpoints included
        progress.train_seconds = seconds_before + time.perf_counter() - run_start

    with StopRequest() as stop:
        model.train()
        seconds = progress.train_seconds
        while progress.updates < total_updates:
            if progress.updates % ranks.agree_every == 0:
                # Every rank decides alike: on the slowest clock, and to stop if any was asked.
                seconds, stopping = ranks.max(progress.train_seconds, float(bool(stop.requested)))
                if stopping:
                    stop_reason = f"stopped by {stop.requested or 'a signal to another rank'}"
                    break
                if budget_seconds is not None and seconds >= budget_seconds:
                    stop_reason = "time budget used"
                    break
            run_fraction = progress.updates / total_updates
            if budget_seconds is not None:
                run_fraction = max(run_fraction, seconds / budget_seconds)
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(config, run_fraction)
            epoch_stats.append(update(model, optimizer, env, config, progress.updates, ranks))
            progress.updates += 1
            clock()
            steps = progress.updates * images_per_update * steps_per_image
            if curve is not None and curve.due(steps):
                scorer = RAMPolicy(model, precision=precision)
                scored = evaluate(scorer, val_env, seed=config.seed, shard=ranks).accuracy
                clock()
                curve.record(steps, progress.train_seconds / 60.0, scored)
            period_images += images_per_update
            bar.update(images_per_update)
            if progress.updates % updates_per_epoch == 0:
                end_of_period(epoch_stats, period_images / (time.perf_counter() - period_start))
                epoch_stats, period_images = [], 0
                period_start = time.perf_counter()
        if epoch_stats:  # a partial epoch (time out, stop, or max_images): save it too
            end_of_period(epoch_stats, period_images / (time.perf_counter() - period_start))
    bar.close()
    if writer is not None:
        writer.close()
    env.close()
    val_env.close()
    ranks.leave()
    images, minutes = progress.updates * images_per_update, progress.train_seconds / 60.0
    return {
        "stop_reason": stop_reason,
        "text": (
            f"{stop_reason}: {images} {'games' if catch else 'images'} in {minutes:.1f} min; "
            f"validation {scored} last {progress.last_val_accuracy:.2f}%, best "
            f"{progress.best_val_accuracy:.2f}%"
        ),
        "checkpoint": str(out_dir / "best.pt"),
        "precision": precision,
        "updates": progress.updates,
        "images": progress.updates * images_per_update,
        "minutes": progress.train_seconds / 60.0,
        "best_val_accuracy": progress.best_val_accuracy,
        "last_val_accuracy": progress.last_val_accuracy,
        "out_dir": str(out_dir),
        "interrupted": stop_reason.startswith("stopped"),
    }


def _load_state(
    model: RecurrentAttentionModel,
    optimizer: torch.optim.Optimizer | None,
    checkpoint: dict[str, Any],
) -> None:
    """Load weights (and optimiser state) or raise ``CheckpointError`` saying what differs."""
    weights = _in_model_dtypes(model, checkpoint["model"])
    try:
        model.load_state_dict(weights)
        if optimizer is not None and "optimizer" in checkpoint:
            optimizer.load_state_dict(checkpoint["optimizer"])
    except (RuntimeError, ValueError, KeyError) as error:
        first_line = str(error).strip().splitlines()[0]
        raise CheckpointError(f"checkpoint does not fit the model: {first_line}") from error


def _in_model_dtypes(
    model: RecurrentAttentionModel, weights: dict[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """``weights`` cast to the model's own dtypes. A checkpoint may hold its floating-point
    tensors in a narrower float (a shipped agent's are fp16, ``agents.pretrained``); they
    become the model's fp32 here, by name. Any other dtype difference is refused."""
    if not isinstance(weights, dict):
        raise CheckpointError(f"checkpoint's model weights are a {type(weights).__name__}")
    own = model.state_dict()
    cast = {}
    for name, tensor in weights.items():
        target = own.get(name)
        if target is None or not isinstance(tensor, torch.Tensor) or tensor.dtype == target.dtype:
            cast[name] = tensor  # an unknown name or a non-tensor: load_state_dict names it
        elif tensor.is_floating_point() and target.is_floating_point():
            cast[name] = tensor.to(target.dtype)
        else:
            raise CheckpointError(
                f"checkpoint does not fit the model: {name} is {tensor.dtype}, "
                f"the model's is {target.dtype}"
            )
    return cast


def load_model(checkpoint: dict[str, Any], device: str = "cpu") -> RecurrentAttentionModel:
    """Rebuild the model stored in a checkpoint (for evaluation)."""
    try:
        model_config = RAMConfig(**checkpoint["model_config"])
    except (TypeError, ValueError) as error:
        raise CheckpointError(f"checkpoint has an unusable model config: {error}") from error
    model = RecurrentAttentionModel(model_config).to(device)
    _load_state(model, None, checkpoint)
    return model


def load(
    path: str | os.PathLike,
    device: str = "cpu",
    sample_paths: bool = False,
    precision: str = "auto",
) -> LoadedPolicy:
    """The policy of a checkpoint (``best.pt``, ``last.pt``), with the task it trained on;
    ``precision`` is the one it plays in, ``"auto"`` the one the run trained in (fp32 for
    runs from before ``--precision``), so a score reproduces the run's own validation.
    Checkpoints hold fp32 weights whatever they trained in; a shipped agent's fp16 weights
    (``agents.pretrained``) become fp32 as they load."""
    checkpoint = load_checkpoint(path)
    config = ReinforceConfig.from_dict(checkpoint["config"])
    model = load_model(checkpoint, device)
    if precision == "auto":
        precision = checkpoint.get("precision", "fp32")
    precision = resolve_precision(precision, device, model.config.core)
    return LoadedPolicy(
        RAMPolicy(model, sample_paths, precision),
        algo="reinforce",
        env_id=config.env_id,
        env_kwargs=config.env_kwargs(),
        seed=config.seed,
        checkpoint=Path(path),
        eval_batch_size=config.eval_batch_size,
        details={"precision": precision},
    )


def stored_config(run_dir: str | os.PathLike) -> ReinforceConfig:
    """The config of the run in ``run_dir`` (from its ``last.pt``), to carry it on."""
    checkpoint = load_checkpoint(Path(run_dir) / RUN_FILE)
    if checkpoint["algo"] != "reinforce":
        raise CheckpointError(f"{run_dir} holds a {checkpoint['algo']!r} run")
    return ReinforceConfig.from_dict(checkpoint["config"])


def _tensorboard_writer(out_dir: Path) -> Any:
    """A TensorBoard writer in ``out_dir/tb`` if TensorBoard is installed, else None."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return None
    return SummaryWriter(str(out_dir / "tb"))


__all__ = [
    "EvalResult",
    "LOSSES",
    "LR_SCHEDULES",
    "ReinforceConfig",
    "Rollout",
    "collect_rollout",
    "compute_losses",
    "learning_rate",
    "load",
    "load_model",
    "stored_config",
    "train",
    "update",
]
