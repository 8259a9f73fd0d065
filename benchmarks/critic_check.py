"""What an off-policy SB3 run (SAC, TD3, DQN, with or without history) does at the last step
of its test episodes, where the class is decided: which classes it picks, how many of its
class scores sit at the action bounds (``box`` actions: the class is their argmax, ties go
to the first), and what its critic thinks the chosen action is worth. The only reward is 1
for the right class at that step, so a critic value far outside [0, 1] has diverged, and
one flat at the chance reward has not learnt which class pays.

    python -m benchmarks.critic_check runs/benchmark/mnist/dqn-seed0-2M runs/probe/dqn-...

Prints one line per run; reads the runs, writes nothing.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np
import torch

from agents.sb3_algorithms import load, make_eval_env


@dataclass
class LastStep:
    """One run's decisions at the last step of ``episodes`` test episodes."""

    run: str
    episodes: int
    accuracy: float  # %
    top_class_share: float  # % of episodes given the most chosen class
    scores_at_bounds: float | None  # % of class scores with |score| > 0.99 (box actions)
    critic_mean: float
    critic_max: float

    def line(self) -> str:
        bounds = (
            ""
            if self.scores_at_bounds is None
            else f", {self.scores_at_bounds:.1f}% of class scores at the bounds"
        )
        return (
            f"{self.run}: {self.accuracy:.2f}% right over {self.episodes} test episodes; "
            f"{self.top_class_share:.1f}% of them given one class{bounds}; critic value of "
            f"the last action: mean {self.critic_mean:.4g}, max {self.critic_max:.4g}"
        )


def critic_values(model, observation: dict[str, np.ndarray], action: np.ndarray) -> np.ndarray:
    """The critic's value of ``action`` (the smaller twin for SAC and TD3, as they train)."""
    with torch.no_grad():
        seen = model.policy.obs_to_tensor(observation)[0]
        if hasattr(model, "q_net"):  # DQN: one value per discrete action
            values = model.q_net(seen).gather(1, torch.as_tensor(action).long()[:, None])
        else:
            twins = model.critic(seen, torch.as_tensor(action, dtype=torch.float32))
            values = torch.min(torch.cat(twins, dim=1), dim=1, keepdim=True).values
    return values.squeeze(1).numpy()


def last_step(run: str, episodes: int, seed: int) -> LastStep:
    """Play ``episodes`` test canvases with the run's deterministic policy."""
    loaded = load(run)
    policy = loaded.policy
    env = make_eval_env(loaded.env_id, "test", episodes, **loaded.env_kwargs)
    try:
        observation, _ = env.reset(seed=seed)
        state, done = None, False
        while not done:
            last_observation, last_state = observation, state
            action, state = policy(observation, state)
            observation, rewards, terminated, truncated, info = env.step(action)
            done = bool(np.all(terminated | truncated))
    finally:
        env.close()
    seen = last_observation  # what the model saw at the last step
    if policy.transform is not None:
        memory = None if last_state is None else last_state[1]
        seen = policy.transform(last_observation, memory, np.full(episodes, memory is None))[0]
    values = critic_values(policy.model, seen, action)
    at_bounds = None
    if policy.action_type == "box":
        at_bounds = 100.0 * float(np.mean(np.abs(action[:, 2:]) > 0.99))
    return LastStep(
        run=run,
        episodes=episodes,
        accuracy=100.0 * float(np.mean(rewards)),
        top_class_share=100.0 * np.bincount(info["prediction"]).max() / episodes,
        scores_at_bounds=at_bounds,
        critic_mean=float(values.mean()),
        critic_max=float(values.max()),
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", help="run folders (or model.zip) of SAC/TD3/DQN")
    parser.add_argument("--episodes", type=int, default=1000, help="test canvases to play")
    parser.add_argument("--seed", type=int, default=0, help="the episodes' first locations")
    args = parser.parse_args(argv)
    if args.episodes < 1:
        parser.error(f"--episodes must be at least 1, got {args.episodes}")
    torch.set_num_threads(1)
    for run in args.runs:
        print(last_step(run, args.episodes, args.seed).line(), flush=True)


if __name__ == "__main__":
    main()
