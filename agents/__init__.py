"""Agents for the ram-env glimpse tasks, each one algorithm behind one protocol.

* ``agents.registry``: every algorithm ``train.py`` runs (a module and a config class each).
* ``agents.policy``: ``Policy``, through which every trained agent is scored and drawn.
* ``agents.reinforce``: the paper's agent (``agents.ram_policy``) trained by REINFORCE.
* ``agents.sb3_algorithms``: the Stable-Baselines3 algorithms (``agents.sb3_registry``).
* ``agents.evaluation`` scores a split (one path through ``ram_env.evaluate``'s scoring, or
  ``--mc`` sampled paths); ``agents.visualize`` draws the glimpse paths. Both, and the
  trainer, play episodes with ``ram_env.play``, the one T-step episode loop.
* ``agents.settings``: config fields that are also command-line flags.

``docs/architecture.md`` says where everything else lives and how to add an algorithm.
"""
