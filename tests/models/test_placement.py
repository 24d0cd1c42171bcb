"""GPU layer selection and fallback.

There is no GPU here: the devices are the real llama-cpp API's on a CPU build, and the
arithmetic is checked against recorded figures of real GPUs and a real 8B model's
header. The fallback runs the real llama-cpp load with the failures a GPU gives.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import llama_cpp
import pytest

from reverie.core.errors import ModelError
from reverie.models import BUNDLED_LLM, LlamaCppLLM, devices, hardware
from reverie.models.devices import Device
from reverie.models.gguf import GgufInfo, read_gguf
from reverie.models.placement import (
    GPU_RESERVE_BYTES,
    GPU_RESERVE_SHARE,
    check_memory,
    fallback_layers,
    plan_placement,
)
from tests.models.conftest import CPU, RTX_3050_4GB

GIB = 1024**3

# Meta-Llama-3.1-8B-Instruct Q4_K_M as its header and tensor table describe it.
LLAMA_8B = GgufInfo(
    path=Path("Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf"), version=3, architecture="llama",
    name="Meta Llama 3.1 8B Instruct", parameters=8_030_261_248, quantization="Q4_K_M",
    context_length=131_072, chat_template="{{ bos_token }}", layers=32,
    embedding_length=4096, head_count=32, head_count_kv=8, key_length=None,
    value_length=None, file_bytes=4_920_734_016, vocab_size=128_256,
    block_bytes=4_193_878_016, output_bytes=430_964_736,
)

# What ggml_backend_dev_memory reported on three laptops' GPUs with a desktop running.
RTX_3060_LAPTOP = Device("CUDA0", "NVIDIA GeForce RTX 3060 Laptop GPU", "gpu",
                         free_bytes=5_637_144_576, total_bytes=6_441_926_656)
MX450_2GB = Device("CUDA0", "NVIDIA GeForce MX450", "gpu",
                   free_bytes=1_832_910_848, total_bytes=2_147_483_648)
IRIS_XE = Device("Vulkan0", "Intel(R) Iris(R) Xe Graphics", "igpu",
                 free_bytes=7_900_000_000, total_bytes=8_300_000_000)


def _budget(device: Device) -> int:
    return int(device.free_bytes * (1 - GPU_RESERVE_SHARE)) - GPU_RESERVE_BYTES


def test_the_real_cpu_build_lists_the_cpu_and_offloads_nothing() -> None:
    found = devices.list_devices()
    assert [d.kind for d in found] == ["cpu"]
    assert found[0].total_bytes > 0
    assert found[0].free_bytes <= found[0].total_bytes
    assert devices.gpu_devices() == []
    plan = plan_placement(read_gguf(BUNDLED_LLM.verify()), 4096, found,
                          offload_supported=hardware.gpu_offload_supported())
    assert plan.gpu_layers == 0
    assert not plan.on_gpu
    assert plan.reason == "CPU only: this llama-cpp build has no GPU support"


@pytest.mark.parametrize(
    ("device", "expected"), [(RTX_3060_LAPTOP, 32), (RTX_3050_4GB, 19), (MX450_2GB, 9)]
)
def test_as_many_layers_as_fit_in_free_memory(device: Device, expected: int) -> None:
    plan = plan_placement(LLAMA_8B, 4096, [CPU, device], offload_supported=True)
    assert plan.gpu_layers == expected
    assert plan.device == "CUDA0"
    assert plan.vram_bytes <= _budget(device)
    one_more = plan_placement(LLAMA_8B, 4096, [device], offload_supported=True,
                              requested=expected + 1)
    assert one_more.vram_bytes > _budget(device), "one more layer would not have fitted"
    assert f"{expected} of 33 layers fit" in plan.reason
    # What went to the GPU left RAM: the 8B model needs far less of it than on the CPU.
    cpu_only = plan_placement(LLAMA_8B, 4096, [CPU], offload_supported=True)
    assert cpu_only.ram_bytes - plan.ram_bytes == plan.vram_bytes


def test_a_longer_context_leaves_room_for_fewer_layers() -> None:
    short = plan_placement(LLAMA_8B, 2048, [RTX_3050_4GB], offload_supported=True)
    long = plan_placement(LLAMA_8B, 16_384, [RTX_3050_4GB], offload_supported=True)
    assert long.gpu_layers < short.gpu_layers


def test_a_small_model_goes_wholly_to_the_gpu_with_the_most_free_memory() -> None:
    info = read_gguf(BUNDLED_LLM.verify())
    plan = plan_placement(info, 4096, [CPU, MX450_2GB, RTX_3050_4GB],
                          offload_supported=True)
    assert plan.gpu_layers == 31  # 30 layers and the output layer
    assert plan.device == "CUDA0"
    assert plan.reason.startswith("all 31 layers fit (3.4 GiB free on NVIDIA GeForce RTX 3050")


def test_a_gpu_with_no_room_keeps_the_model_on_the_cpu() -> None:
    full = Device("CUDA0", "busy", "gpu", free_bytes=200 * 1024**2, total_bytes=2 * GIB)
    plan = plan_placement(LLAMA_8B, 4096, [full], offload_supported=True)
    assert (plan.gpu_layers, plan.device, plan.vram_bytes) == (0, None, 0)
    assert "not one layer fits" in plan.reason


def test_the_user_s_choice_is_kept_and_warned_about() -> None:
    plan = plan_placement(LLAMA_8B, 4096, [MX450_2GB], offload_supported=True, requested=20)
    assert plan.gpu_layers == 20
    assert "20 of 33 layers, as set; only 9 are estimated to fit" in plan.reason
    every = plan_placement(LLAMA_8B, 4096, [MX450_2GB], offload_supported=True, requested=-1)
    assert every.gpu_layers == 33
    none = plan_placement(LLAMA_8B, 4096, [MX450_2GB], offload_supported=True, requested=0)
    assert (none.gpu_layers, none.vram_bytes) == (0, 0)


def test_an_integrated_gpu_shares_the_host_s_memory() -> None:
    plan = plan_placement(LLAMA_8B, 4096, [CPU, IRIS_XE], offload_supported=True)
    cpu_only = plan_placement(LLAMA_8B, 4096, [CPU], offload_supported=True)
    assert plan.gpu_layers == 33
    assert plan.ram_bytes == cpu_only.ram_bytes


def test_fallback_halves_the_layers_then_uses_the_cpu() -> None:
    assert fallback_layers(33) == [33, 16, 8, 4, 0]
    assert fallback_layers(2) == [2, 1, 0]
    assert fallback_layers(0) == [0]


def test_a_model_too_big_for_the_free_memory_is_refused_before_loading() -> None:
    plan = plan_placement(LLAMA_8B, 4096, [CPU], offload_supported=False)
    with pytest.raises(ModelError, match=r"needs about 5\.1 GiB of memory and 2\.0 GiB is"):
        check_memory(plan, 2 * GIB, "The language model Llama")
    check_memory(plan, 16 * GIB, "The language model Llama")
    with pytest.raises(ModelError):  # fits, but without the margin the estimate keeps
        check_memory(plan, plan.ram_bytes + 1, "The language model Llama")
    check_memory(plan, None, "The language model Llama")  # unknown: not guessed


class _FailingGpu:
    """llama_cpp.Llama as a GPU driver fails it: above `limit` layers, or at any."""

    def __init__(self, limit: int, message: str) -> None:
        self.limit, self.message, self.tried = limit, message, []
        self.real = llama_cpp.Llama

    def __call__(self, **kwargs: Any) -> llama_cpp.Llama:
        layers = kwargs["n_gpu_layers"]
        self.tried.append(layers)
        if layers > self.limit:
            raise ValueError(self.message)
        return self.real(**kwargs)


@pytest.mark.usefixtures("recorded_gpu")
def test_an_out_of_memory_load_retries_with_fewer_layers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    driver = _FailingGpu(8, "Failed to load model: cudaMalloc failed: out of memory")
    monkeypatch.setattr(llama_cpp, "Llama", driver)
    model = LlamaCppLLM(BUNDLED_LLM.verify())
    try:
        reply = model.chat([{"role": "user", "content": "Say hi."}], max_tokens=4)
        assert reply.strip()
        assert driver.tried == [31, 15, 7]
        assert model.placement is not None
        assert model.placement.gpu_layers == 7
        assert model.gpu_offload
        assert model.notice is not None
        assert "it runs with 7 layers on the GPU" in model.notice
        assert "out of memory" in model.notice
    finally:
        model.close()


@pytest.mark.usefixtures("recorded_gpu")
def test_a_driver_failure_falls_back_to_the_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    driver = _FailingGpu(0, "ggml_cuda_init: failed to initialize CUDA: unknown error")
    monkeypatch.setattr(llama_cpp, "Llama", driver)
    model = LlamaCppLLM(BUNDLED_LLM.verify())
    try:
        model.load()
        assert driver.tried == [31, 15, 7, 3, 0]
        assert model.placement is not None
        assert not model.placement.on_gpu
        assert not model.gpu_offload
        assert "it runs with the CPU alone" in (model.notice or "")
        assert model.placement.reason.startswith("the CPU alone after a failure (planned: all")
    finally:
        model.close()


@pytest.mark.usefixtures("recorded_gpu")
def test_a_user_who_asks_for_the_cpu_gets_it_without_trying_the_gpu(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    driver = _FailingGpu(0, "would have failed")
    monkeypatch.setattr(llama_cpp, "Llama", driver)
    model = LlamaCppLLM(BUNDLED_LLM.verify(), gpu_layers=0)
    try:
        model.load()
        assert driver.tried == [0]
        assert model.notice is None
    finally:
        model.close()
