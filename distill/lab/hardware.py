"""What the machine is, and which number format its matrix multiplies should run in.

bf16 autocast halves the bytes of every activation and weight copy, which pays where the hardware multiplies bf16
natively (CUDA GPUs of compute capability ≥ 8.0; x86 CPUs with AMX or AVX512-BF16); elsewhere bf16 is emulated and
far slower than fp32. So ``--precision auto`` picks bf16 only where the hardware reports native support: it reads
the CPU's feature flags, it never times anything.
"""

import platform
from functools import cache
from pathlib import Path

import torch

from distill.core.train import PRECISIONS

PRECISION_CHOICES = ("auto", *PRECISIONS)  # what --precision takes: auto picks one for the hardware
PRECISION_ENV = "KD_PRECISION"  # the default of --precision, when set (e.g. KD_PRECISION=fp32 for a whole test run)


@cache
def _cpuinfo() -> dict[str, str]:
    """The first processor's fields of /proc/cpuinfo (Linux); empty elsewhere."""
    try:
        first_processor = Path("/proc/cpuinfo").read_text().split("\n\n")[0]
    except OSError:
        return {}
    fields = (line.partition(":") for line in first_processor.splitlines())
    return {key.strip(): value.strip() for key, _, value in fields}


def cpu_bf16_feature() -> str | None:
    """The CPU feature that multiplies bf16 natively ("AMX" or "AVX512-BF16"), or None: from the kernel's CPU
    flags where there are any, else from torch's own CPU checks."""
    flags = _cpuinfo().get("flags")
    if flags is not None:
        amx, avx512_bf16 = "amx_bf16" in flags.split(), "avx512_bf16" in flags.split()
    else:  # macOS, Windows: torch's checks (private, hence the defaults where a build lacks them)
        amx = getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)()
        avx512_bf16 = getattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False)()
    return "AMX" if amx else "AVX512-BF16" if avx512_bf16 else None


def cpu_model() -> str:
    return _cpuinfo().get("model name") or platform.processor() or platform.machine() or "unknown CPU"


def device_name(device: torch.device) -> str:
    """The GPU's name, or the CPU's model, SIMD level and threads, e.g. "AMD EPYC (AVX2), 2 threads"."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    simd = torch.backends.cpu.get_cpu_capability()  # the kernels torch dispatches to: AVX2, AVX512, ...
    bf16 = cpu_bf16_feature()
    threads = torch.get_num_threads()
    return f"{cpu_model()} ({simd}{' + ' + bf16 if bf16 else ''}), {threads} thread{'s' * (threads != 1)}"


def choose_precision(requested: str, device: torch.device) -> tuple[str, str]:
    """("fp32" or "bf16", one line saying why) for ``--precision requested`` on ``device``. A bf16 asked for on
    hardware without native support is honoured, with a warning in the line."""
    if requested not in PRECISION_CHOICES:
        raise ValueError(f"precision must be one of {PRECISION_CHOICES}, got {requested!r}")
    if requested == "fp32":
        return "fp32", "precision fp32 (as asked)"
    if device.type == "cuda":  # native: why the device multiplies bf16 natively, or None if it does not
        major, minor = torch.cuda.get_device_capability(device)
        native = f"compute capability {major}.{minor}" if major >= 8 else None
        hardware = torch.cuda.get_device_name(device)
    else:
        native, hardware = cpu_bf16_feature(), f"this CPU ({cpu_model()})"
    if native:
        how = "as asked;" if requested == "bf16" else "auto:"
        return "bf16", f"precision bf16 ({how} {hardware} multiplies bf16 natively: {native})"
    if requested == "bf16":
        return "bf16", (
            f"warning: precision bf16 as asked, but {hardware} has no native bf16 matrix multiply "
            "(AMX, AVX512-BF16 or a GPU of compute capability 8.0+): expect training many times slower than fp32"
        )
    return "fp32", (
        f"precision fp32 (auto: {hardware} has no native bf16 matrix multiply, where bf16 would be many times slower)"
    )
