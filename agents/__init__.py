"""Agents for the ram-env glimpse tasks.

* ``agents.ram_policy``: the Recurrent Attention Model (glimpse network, cores, heads).
* ``agents.reinforce``: its REINFORCE + baseline trainer (the paper's hybrid loss).
* ``agents.rollout``: the thin torch <-> env layer (observations in, box actions out).
* ``agents.evaluation``: scoring a model on a whole split, optionally over sampled paths.
* ``agents.checkpoint``: atomic, ``weights_only``-loadable checkpoints.
* ``agents.visualize``: pictures of the glimpse paths of a trained model.
"""
