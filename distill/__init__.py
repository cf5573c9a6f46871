"""Knowledge distillation (Hinton, Vinyals & Dean 2015), re-implemented in plain PyTorch.

One job per module; README's "What is where" table lists them.
"""
