"""--precision: bf16 only where the hardware multiplies it natively, decided from the CPU's flags, and logged."""

import pandas as pd
import pytest
import torch

from distill.lab import hardware
from distill.lab.presets import CIFAR_PAPER, PAPER, with_precision
from distill.reporting import tables
from tests.conftest import load_script, read_rows

CPU = torch.device("cpu")
AVX2_ONLY = "fpu sse sse2 avx avx2 fma"  # a Zen 3 EPYC, a laptop
AVX512_BF16 = AVX2_ONLY + " avx512f avx512_bf16"  # a Zen 4 EPYC
AMX = AVX2_ONLY + " avx512f amx_tile amx_bf16"  # a Sapphire Rapids Xeon


def on_cpu(monkeypatch, flags: str, model: str = "AMD EPYC 7B13") -> None:
    monkeypatch.setattr(hardware, "_cpuinfo", lambda: {"model name": model, "flags": flags})


@pytest.mark.parametrize(
    "flags, auto, feature", [(AVX2_ONLY, "fp32", None), (AVX512_BF16, "bf16", "AVX512-BF16"), (AMX, "bf16", "AMX")]
)
def test_auto_picks_bf16_only_with_native_bf16(monkeypatch, flags, auto, feature):
    on_cpu(monkeypatch, flags)
    assert hardware.cpu_bf16_feature() == feature
    precision, reason = hardware.choose_precision("auto", CPU)
    assert precision == auto and reason.startswith(f"precision {auto} (auto: ") and "AMD EPYC 7B13" in reason
    assert "\n" not in reason
    assert hardware.choose_precision("fp32", CPU)[0] == "fp32"  # asked for: always honoured


def test_bf16_without_native_support_still_runs_with_a_one_line_warning(monkeypatch):
    on_cpu(monkeypatch, AVX2_ONLY)
    precision, line = hardware.choose_precision("bf16", CPU)
    assert precision == "bf16" and line.startswith("warning: ") and "slower" in line and "\n" not in line
    on_cpu(monkeypatch, AMX)
    assert not hardware.choose_precision("bf16", CPU)[1].startswith("warning")


def test_device_name_gives_the_cpu_model_and_its_simd_level(monkeypatch):
    on_cpu(monkeypatch, AVX2_ONLY, model="AMD EPYC 7B13")
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: "AVX2")
    threads = torch.get_num_threads()
    assert hardware.device_name(CPU) == f"AMD EPYC 7B13 (AVX2), {threads} thread{'s' * (threads != 1)}"
    on_cpu(monkeypatch, AMX, model="Intel(R) Xeon(R) Platinum 8481C")
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: "AVX512")
    assert hardware.device_name(CPU).startswith("Intel(R) Xeon(R) Platinum 8481C (AVX512 + AMX), ")


def test_with_precision_sets_every_stage_and_nothing_else():
    for preset in (PAPER, CIFAR_PAPER):
        trained = [name for name in vars(preset) if hasattr(getattr(preset, name), "train")]
        for precision in ("bf16", "fp32"):
            changed = with_precision(preset, precision)
            models = [m for n in trained for m in vars(getattr(changed, n)).values() if hasattr(m, "train")] + [
                getattr(changed, n) for n in trained if hasattr(getattr(changed, n), "build")
            ]  # a stage, or the two stages of a student's schedules
            assert {m.train.precision for m in models} == {precision}
            assert changed == with_precision(changed, precision)
            for name in trained:  # only the precision differs
                fp32 = lambda p: getattr(p, name).with_train(precision="fp32")
                assert fp32(changed) == fp32(preset)


def test_old_rows_read_cfg_bf16_as_their_precision():
    old_and_new = pd.DataFrame(
        {"cfg_bf16": [True, False, None], "precision": [None, None, "fp32"], "model": ["teacher"] * 3}
    )
    assert list(tables.with_precision(old_and_new).precision) == ["bf16", "fp32", "fp32"]
    assert list(tables.with_precision(old_and_new.drop(columns="precision")).precision) == ["bf16", "fp32", "fp32"]


@pytest.mark.slow
def test_a_run_says_its_precision_logs_it_and_keeps_its_cache_under_out(mnist_root, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KD_PRECISION", "fp32")  # the environment's default, as for a whole test run
    monkeypatch.chdir(tmp_path)  # a cache written to the working folder would show up here
    out = tmp_path / "elsewhere"
    args = ["--preset", "smoke", "--models", "teacher", "--device", "cpu", "--data-dir", str(mnist_root)]
    assert load_script("mnist").main(args + ["--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.splitlines()[0].startswith("device: ") and printed.splitlines()[1] == "precision fp32 (as asked)"
    assert "smoke preset" in printed and "mean nothing" in printed
    (row,) = read_rows(out / "runs.csv")
    assert row["precision"] == "fp32" and "cfg_bf16" not in row and "cfg_precision" not in row
    assert row["device"] == hardware.device_name(CPU)
    assert len(list((out / "cache").glob("teacher-*.pt"))) == 1 and not (tmp_path / "cache").exists()

    monkeypatch.setenv("KD_PRECISION", "fp16")
    with pytest.raises(SystemExit) as exit_:
        load_script("mnist").main(args + ["--out", str(out)])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.strip() == (
        "error: $KD_PRECISION is 'fp16'; set it to one of auto, fp32, bf16, or unset it."
    )
