"""The benchmark's two tracks: what a training run may learn from. No torch here.

* ``reward-only``: training never reads the label; the only signal is the env's reward
  (1 for the right class at the last step). REINFORCE with ``--loss reinforce``, plain PPO,
  A2C, SAC, TD3, DQN and their memory variants.
* ``hybrid``: the label the env reveals in ``info["label"]`` when an episode ends may also
  train the classifier by cross-entropy, as in the paper (Mnih et al. 2014's "hybrid
  supervised loss"): REINFORCE with ``--loss hybrid``, ``recurrent-ppo``.

Every run records its track, told from the settings it trained with (any run that reads
the label is hybrid); the benchmark compares algorithms within a track.
"""

from __future__ import annotations

REWARD_ONLY = "reward-only"
HYBRID = "hybrid"
TRACKS = (REWARD_ONLY, HYBRID)
TRACK_TITLES = {
    REWARD_ONLY: "reward only (training never reads the label)",
    HYBRID: "hybrid (the label revealed at the episode's end trains the classifier)",
}


def check_track(track: str) -> str:
    """``track`` itself; ``ValueError`` naming the tracks otherwise."""
    if track not in TRACKS:
        raise ValueError(f"unknown track {track!r}; the tracks are {', '.join(TRACKS)}")
    return track
