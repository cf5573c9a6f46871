"""Knowledge distillation (Hinton, Vinyals & Dean 2015), re-implemented in plain PyTorch.

Modules, one job each:
    losses            §2's soft and hard objectives, the soft targets at temperature T
    models            the §3 MLPs, dropout, max-norm; the CIFAR-10 tutorial's CNNs
    data              MNIST as tensors on the device, jitter
    cifar10_data      CIFAR-10 from its python batches; a synthetic stand-in for tests
    train             the one training loop
    presets           every hyper-parameter of every preset
    hardware          the device a row ran on, and the precision it trains in
    run               one seed of an experiment: train, log rows, compare with the teacher
    mnist             §3's headline experiment
    transfer_sets     §3's omitted-3 and only-7-and-8 transfer sets, the bias offset
    temperature_sweep §3's temperature × student size
    cifar10           the CIFAR-10 tutorial's example, as written and corrected
    teacher_cache     trained teachers saved once and reused
    checkpoint        per-epoch training state, for resuming a killed run
    results           CSV rows with their provenance
    cli               the scripts' shared flags and set-up
    illustrations     computed pictures of §2
"""
