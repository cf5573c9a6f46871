"""Knowledge distillation (Hinton, Vinyals & Dean 2015), re-implemented in plain PyTorch.

Modules, one job each: ``data`` (MNIST as device tensors, jitter), ``models``
(the MLPs, dropout, max-norm), ``losses`` (§2's soft and hard objectives),
``train`` (the one training loop), ``presets`` (every hyper-parameter),
``results`` (CSV rows with provenance), ``mnist`` (the §3 experiments).
"""
