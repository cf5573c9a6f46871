"""Knowledge distillation (Hinton, Vinyals & Dean 2015), re-implemented in plain PyTorch.

README's "Where things are" says what each folder holds.
"""

import os

# OpenMP reads its wait policy once, when torch loads: with PASSIVE, a thread waiting for work sleeps instead of
# spinning, so that two threads on a two-core machine stay fast when another process needs a core too (measured by
# replicate/threads.py, REPRODUCE.md). A policy set in the environment is kept.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
