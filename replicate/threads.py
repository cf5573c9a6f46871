"""How should a run use the two threads of a busy 2-core machine? A teacher epoch under each thread policy.

OpenMP's threads wait for work by spinning, by default for a while, before they sleep. On two cores, a thread
that spins while another process needs its core slows every step; OMP_WAIT_POLICY=PASSIVE makes waiting threads
sleep at once, and one thread avoids waiting altogether. Each policy times a teacher epoch (600 steps of the paper
recipe, fp32, batch 100) in a fresh process, on an idle machine and beside one busy process; rows with provenance
go to <out>/threads.csv, which replicate/figures.py shows in REPRODUCE.md. Run it on an otherwise idle machine.

    python replicate/threads.py --out results/benchmark
"""

import os
import subprocess
import sys
from pathlib import Path

import torch

from distill.lab.cli import ScriptParser, run
from distill.lab.results import REPO_ROOT, append_rows, provenance

# One teacher step (paper recipe: dropout, ±2 px jitter, max-norm; batch 100, fp32) timed in a fresh process, whose
# OpenMP reads its wait policy and thread count from the environment when torch loads.
STEP_TIMING = """
import time, torch
from distill.core.data import jitter
from distill.core.train import sgd, sgd_step
from distill.lab.presets import PAPER
cfg = PAPER.teacher.train
net, x, y = PAPER.teacher.build(), torch.rand(100, 28, 28), torch.randint(0, 10, (100,))
optimizer = sgd(net, cfg)
step = lambda: sgd_step(net, optimizer, cfg, 0.01, jitter(x, 2), lambda z: torch.nn.functional.cross_entropy(z, y))
for _ in range(20):
    step()
started = time.perf_counter()
for _ in range(200):
    step()
print((time.perf_counter() - started) / 200)
"""
POLICIES = {  # what the environment of each timed process says
    "2 threads, OpenMP's default wait policy": {"OMP_NUM_THREADS": "2", "OMP_WAIT_POLICY": ""},
    "2 threads, OMP_WAIT_POLICY=PASSIVE (ours)": {"OMP_NUM_THREADS": "2", "OMP_WAIT_POLICY": "PASSIVE"},
    "1 thread": {"OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE"},
}


def time_thread_policies(out: Path) -> int:
    """A teacher epoch (600 steps) under each thread policy, on an idle machine and beside one busy process."""
    rows = []
    for load in ("idle", "one busy process beside it"):
        busy = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if load != "idle" else None
        try:
            for policy, env in POLICIES.items():
                environment = {k: v for k, v in {**os.environ, **env}.items() if v}  # "" unsets the variable
                done = subprocess.run(
                    [sys.executable, "-c", STEP_TIMING],
                    env=environment,
                    capture_output=True,
                    text=True,
                    cwd=REPO_ROOT,
                    check=True,
                )
                seconds = 600 * float(done.stdout.split()[-1])
                rows.append({"policy": policy, "load": load, "epoch_seconds": round(seconds, 2)})
                print(f"{policy:<44} {load:<28} {seconds:6.1f} s per teacher epoch", flush=True)
        finally:
            if busy is not None:
                busy.kill()
    idle = {r["policy"]: r["epoch_seconds"] for r in rows if r["load"] == "idle"}
    rows = [{**r, "times_idle": round(r["epoch_seconds"] / idle[r["policy"]], 2)} for r in rows]
    p = provenance(torch.device("cpu"))
    append_rows(out / "threads.csv", [{"command": p["command"], **r, **p} for r in rows])
    return 0


def main(argv=None) -> int:
    parser = ScriptParser(__doc__, __file__)
    parser.add_argument("--out", default="runs/benchmark", help="folder of threads.csv (default: %(default)s)")
    return time_thread_policies(Path(parser.parse_args(argv).out))


if __name__ == "__main__":
    sys.exit(run(main))
