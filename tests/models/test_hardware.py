"""Hardware detection."""

from __future__ import annotations

import sys
from pathlib import Path

import llama_cpp
import pytest

from reverie.models import hardware


def test_gpu_offload_matches_llama_cpp() -> None:
    assert hardware.gpu_offload_supported() is bool(llama_cpp.llama_supports_gpu_offload())


def test_cpu_count_is_positive() -> None:
    assert hardware.cpu_count() >= 1


def test_llm_threads_leave_one_processor_free() -> None:
    assert hardware.llm_threads() == max(1, hardware.cpu_count() - 1)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/meminfo")
def test_ram_figures_on_linux() -> None:
    total = hardware.ram_total_bytes()
    available = hardware.ram_available_bytes()
    assert total is not None
    assert available is not None
    assert 0 < available <= total
    assert total > 100 * 1024 * 1024  # reported in bytes, not kB


def test_ram_is_unknown_without_meminfo(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(hardware, "_MEMINFO", tmp_path / "absent")
    assert hardware.ram_total_bytes() is None
    assert hardware.ram_available_bytes() is None
