"""``HybridRecurrentPPO``: RecurrentPPO plus the paper's supervised classifier loss."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sb3_contrib import RecurrentPPO

from agents.sb3_policy import RecurrentRAMPolicy


class HybridRecurrentPPO(RecurrentPPO):
    """``RecurrentPPO`` plus the paper's supervised classifier loss ("hybrid" training).

    PPO trains the location choices (and, through them, the glimpse network and core); after
    PPO's epochs on a rollout, the class logits of each complete episode are fitted to the
    true label by cross-entropy: at its last step (``supervised_steps="last"``, the paper's
    loss) or at every step (``"all"``: a classification after each glimpse, which trains
    the glimpse network and core faster). The loss is scaled by ``supervised_coef``, with
    ``supervised_epochs`` passes over the rollout's episodes in minibatches of
    ``batch_size`` steps. The label is what the env reveals in ``info["label"]`` when an
    episode ends, as for the hand-written agent; it is never given to the policy.

    With ``supervised_coef=0`` this is plain ``RecurrentPPO``. The policy must be a
    ``RecurrentRAMPolicy`` with ``num_glimpses`` set, on a ``"multidiscrete"`` or ``"box"``
    action space. Episodes that started in an earlier rollout are left out of the
    supervised step: use ``n_steps`` a multiple of the episode length so there are none.
    """

    def __init__(
        self,
        policy: Any,
        env: Any,
        supervised_coef: float = 1.0,
        supervised_epochs: int = 1,
        supervised_steps: str = "last",
        **kwargs: Any,
    ) -> None:
        if supervised_coef < 0 or supervised_epochs < 1:
            raise ValueError(
                "supervised_coef must be >= 0 and supervised_epochs >= 1, got "
                f"{supervised_coef} and {supervised_epochs}"
            )
        if supervised_steps not in ("last", "all"):
            raise ValueError(f"supervised_steps must be 'last' or 'all', got {supervised_steps!r}")
        self.supervised_steps = supervised_steps
        self.supervised_coef = supervised_coef
        self.supervised_epochs = supervised_epochs
        self._end_labels: np.ndarray | None = None
        super().__init__(policy, env, **kwargs)

    def _setup_model(self) -> None:
        super()._setup_model()
        if self.supervised_coef > 0 and (
            not isinstance(self.policy, RecurrentRAMPolicy) or self.policy.num_glimpses is None
        ):
            raise ValueError(
                "the supervised loss needs a RecurrentRAMPolicy with num_glimpses "
                "set (or pass supervised_coef=0)"
            )
        self._end_labels = np.full((self.n_steps, self.n_envs), -1, dtype=np.int64)

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "_end_labels"]

    def collect_rollouts(self, env, callback, rollout_buffer, n_rollout_steps) -> bool:
        self._end_labels.fill(-1)
        return super().collect_rollouts(env, callback, rollout_buffer, n_rollout_steps)

    def _update_info_buffer(
        self, infos: list[dict[str, Any]], dones: np.ndarray | None = None
    ) -> None:
        """Also note each ended episode's label at its last step's place in the buffer."""
        super()._update_info_buffer(infos, dones)
        position = self.rollout_buffer.pos
        if dones is None or self._end_labels is None or position >= self.n_steps:
            return
        for index in np.flatnonzero(dones):
            label = infos[index].get("label")
            if label is not None:
                self._end_labels[position, index] = label

    def train(self) -> None:
        episodes = self._labelled_episodes() if self.supervised_coef > 0 else None
        super().train()
        if episodes is not None:
            self._train_classifier(*episodes)

    def _labelled_episodes(self) -> tuple[dict[str, np.ndarray], np.ndarray] | None:
        """The rollout's complete episodes: observations ``(T, E, ...)`` and labels ``(E,)``."""
        length = self.policy.num_glimpses
        buffer = self.rollout_buffer
        first, env_index = np.nonzero(buffer.episode_starts[: self.n_steps - length + 1] > 0.5)
        labels = self._end_labels[first + length - 1, env_index]
        known = labels >= 0
        if not known.any():
            return None
        first, env_index, labels = first[known], env_index[known], labels[known]
        steps = first[None, :] + np.arange(length)[:, None]
        observations = {
            key: value[steps, env_index[None, :]] for key, value in buffer.observations.items()
        }
        return observations, labels

    def _train_classifier(self, observations: dict[str, np.ndarray], labels: np.ndarray) -> None:
        policy = self.policy
        policy.set_training_mode(True)
        length = policy.num_glimpses
        episodes_per_batch = max(1, (self.batch_size or len(labels) * length) // length)
        losses, accuracies = [], []
        for _ in range(self.supervised_epochs):
            order = np.random.permutation(len(labels))
            for start in range(0, len(labels), episodes_per_batch):
                chosen = order[start : start + episodes_per_batch]
                batch = {
                    key: torch.as_tensor(value[:, chosen], device=self.device)
                    for key, value in observations.items()
                }
                target = torch.as_tensor(labels[chosen], device=self.device)
                logits = policy.episode_class_logits(batch)
                if self.supervised_steps == "last":
                    logits = logits[-1]
                else:
                    logits = logits.reshape(-1, logits.shape[-1])
                    target = target.repeat(length)
                loss = self.supervised_coef * F.cross_entropy(logits, target)
                policy.optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(policy.parameters(), self.max_grad_norm)
                policy.optimizer.step()
                losses.append(loss.item())
                accuracies.append((logits.argmax(1) == target).float().mean().item())
        self.logger.record("train/classifier_loss", float(np.mean(losses)))
        self.logger.record("train/classifier_accuracy", float(np.mean(accuracies)))
