"""The registered environment ids: the paper's four classification tasks with its retina
settings (``ENV_IDS``), and its dynamic task, Catch (``CATCH_ENV_IDS``)."""

from __future__ import annotations

import gymnasium

# id -> (dataset, glimpse size, scales, glimpses), as in Mnih et al. (2014), Tables 1-2.
TASKS: dict[str, tuple[str, int, int, int]] = {
    "GlimpseMNIST-v0": ("mnist", 8, 1, 6),
    "GlimpseTranslatedMNIST-v0": ("translated", 12, 3, 6),
    "GlimpseClutteredMNIST-v0": ("cluttered60", 12, 3, 6),
    "GlimpseClutteredMNIST100-v0": ("cluttered100", 12, 4, 8),
}
ENV_IDS = tuple(TASKS)
"""The classification tasks (the benchmark tables and their tests range over these)."""
CATCH_ENV_IDS = ("GlimpseCatch-v0",)
"""The dynamic task of section 4.2: its defaults are ``CatchSettings``'s (the paper's game)."""
ALL_ENV_IDS = ENV_IDS + CATCH_ENV_IDS


def register_envs() -> None:
    """Register every id (idempotent); ``gymnasium.make(id, **kwargs)`` overrides settings,
    and ``gymnasium.make_vec(id, num_envs=N, device="cuda")`` makes the torch vector env."""
    for env_id, (dataset, glimpse_size, num_scales, num_glimpses) in TASKS.items():
        if env_id in gymnasium.registry:
            continue
        gymnasium.register(
            id=env_id,
            entry_point="ram_env.glimpse_env:GlimpseEnv",
            vector_entry_point="ram_env.vector_env:make_glimpse_vector_env",
            kwargs={
                "dataset": dataset,
                "glimpse_size": glimpse_size,
                "num_scales": num_scales,
                "num_glimpses": num_glimpses,
            },
        )
    for env_id in CATCH_ENV_IDS:
        if env_id not in gymnasium.registry:
            gymnasium.register(
                id=env_id,
                entry_point="ram_env.catch:CatchEnv",
                vector_entry_point="ram_env.catch_vector:CatchVectorEnv",
            )
