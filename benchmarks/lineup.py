"""The benchmark's algorithms: each a ``train.py`` command, its track and its memory.

An entry is one ``python train.py --algo ALGO FLAGS...`` (the task, seed and budget are the
protocol's). Every SB3 algorithm of ``agents.sb3_registry`` is an entry under its own name,
in the track its default settings put it; the hand-written RAM agent is two entries, one per
track (``--loss reinforce``: the class too by policy gradient, from the reward alone;
``--loss hybrid``: the paper's cross-entropy on the label). The run itself records the track
it trained in, and a record whose track differs from its entry's is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agents.sb3_registry import ALGORITHMS as SB3_SPECS
from agents.tracks import HYBRID, REWARD_ONLY, check_track

RAM_CORE = "RAM core (ReLU RNN)"


@dataclass(frozen=True)
class Entry:
    """One algorithm of the benchmark."""

    name: str
    algo: str  # train.py --algo
    track: str
    memory: str  # what it remembers of the episode's earlier glimpses ("none": nothing)
    summary: str
    flags: tuple[str, ...] = ()  # train.py flags beyond the task, seed and budget
    settings: dict = field(default_factory=dict, compare=False)  # shown on the page

    def __post_init__(self) -> None:
        check_track(self.track)

    @property
    def is_reinforce(self) -> bool:
        return self.algo == "reinforce"

    @property
    def has_memory(self) -> bool:
        return self.memory != "none"


def _sb3_entry(name: str) -> Entry:
    spec = SB3_SPECS[name]
    settings = {
        "envs": spec.num_envs,
        "action type": spec.default_action_type,
        **{
            key: spec.hyperparams[key]
            for key in (
                "train_freq",
                "gradient_steps",
                "target_update_interval",
                "exploration_fraction",
                "learning_rate",
                "lr_schedule",
                "batch_size",
                "buffer_size",
                "n_epochs",
                "ent_coef",
            )
            if key in spec.hyperparams
        },
    }
    return Entry(name, name, spec.track(), spec.memory, spec.summary, settings=settings)


LINEUP: dict[str, Entry] = {
    entry.name: entry
    for entry in (
        Entry(
            "reinforce-reward",
            "reinforce",
            REWARD_ONLY,
            RAM_CORE,
            "the paper's RAM by REINFORCE, the class sampled and trained by the same policy "
            "gradient (no label)",
            # Without an entropy bonus the sampled class settles on one class in the first
            # epoch and the run stays at chance; batch 256 gets 4x the default's updates
            # from the budget. Both chosen by short probes at this budget.
            ("--loss", "reinforce", "--entropy-weight", "0.3", "--batch-size", "256"),
            {"batch": 256, "entropy bonus": 0.3, "action type": "box"},
        ),
        Entry(
            "reinforce-hybrid",
            "reinforce",
            HYBRID,
            RAM_CORE,
            "the paper's RAM: REINFORCE for the locations, cross-entropy on the label for the "
            "classifier",
            # The default batch (1024) gets only 326 updates from this budget; 128 gets 8x
            # (chosen by short probes at this budget).
            ("--loss", "hybrid", "--batch-size", "128"),
            {"batch": 128, "action type": "box"},
        ),
        *(_sb3_entry(name) for name in SB3_SPECS),
    )
}


def entries_in(names: list[str] | None = None, tracks: list[str] | None = None) -> list[Entry]:
    """The entries called ``names`` (all: None) in ``tracks`` (all: None), in lineup order;
    ``ValueError`` naming an unknown one."""
    for name in names or ():
        if name not in LINEUP:
            raise ValueError(f"unknown algorithm {name!r}; the benchmark's: {', '.join(LINEUP)}")
    chosen = [entry for entry in LINEUP.values() if names is None or entry.name in names]
    return [entry for entry in chosen if tracks is None or entry.track in tracks]
