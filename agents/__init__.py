"""Agents for the ram-env glimpse tasks, each one algorithm behind one protocol.

* ``agents.registry``: every algorithm ``train.py`` runs (a module and a config class each).
* ``agents.policy``: ``Policy``, through which every trained agent is scored and drawn.
* ``agents.reinforce``: the paper's agent (``agents.ram_policy``) trained by REINFORCE.
* ``agents.sb3_algorithms``: the Stable-Baselines3 algorithms (``agents.sb3_registry``).
* ``agents.episode_runner``: the one T-step episode loop; ``agents.evaluation`` scores a
  split with it, ``agents.visualize`` draws the glimpse paths.
* ``agents.settings``: config fields that are also command-line flags.

``docs/architecture.md`` says where everything else lives and how to add an algorithm.
"""
