"""The experiments, one module per claim of the paper. This list is the registry: replicate/mnist.py offers each
MNIST experiment as --experiment NAME (`all` runs them in this order), replicate/figures.py writes each one's table and
figures, and the tests run each one. A new experiment is one module that builds an ``Experiment``, and one line here."""

from distill.experiments import cifar10, ensemble, few_data, headline, logit_matching, temperature, transfer_sets

EXPERIMENTS = [
    headline.EXPERIMENT,
    transfer_sets.OMIT3_EXPERIMENT,
    transfer_sets.ONLY78_EXPERIMENT,
    temperature.EXPERIMENT,
    ensemble.EXPERIMENT,
    few_data.EXPERIMENT,
    few_data.SOURCE_EXPERIMENT,
    logit_matching.EXPERIMENT,
    cifar10.EXPERIMENT,
]
