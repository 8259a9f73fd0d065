"""ram-env: the Recurrent Attention Model's glimpse tasks as Gymnasium environments.

Importing the package registers the environments::

    import gymnasium, ram_env
    env = gymnasium.make("GlimpseMNIST-v0")
    envs = gymnasium.make_vec("GlimpseMNIST-v0", num_envs=64)  # native batched env
    envs = gymnasium.make_vec("GlimpseMNIST-v0", num_envs=64, device="cuda")  # torch, on a GPU
    catch = gymnasium.make("GlimpseCatch-v0")  # the paper's dynamic task

and ``ram_env.evaluate(policy, env_id)`` scores any batched policy on a split's canvases.
"""

from ram_env.catch import CatchEnv
from ram_env.catch_vector import CatchVectorEnv
from ram_env.glimpse_env import GlimpseEnv
from ram_env.registration import ALL_ENV_IDS, CATCH_ENV_IDS, ENV_IDS, register_envs
from ram_env.scoring import Evaluation, evaluate
from ram_env.vector_env import GlimpseVectorEnv

__all__ = [
    "ALL_ENV_IDS",
    "CATCH_ENV_IDS",
    "ENV_IDS",
    "CatchEnv",
    "CatchVectorEnv",
    "Evaluation",
    "GlimpseEnv",
    "GlimpseVectorEnv",
    "evaluate",
    "register_envs",
]
__version__ = "0.1.0"

register_envs()
