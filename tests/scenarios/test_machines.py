"""tests/scenarios/test_machines.py — machine shapes the kernel must handle:
RAM above 4 GiB, and a q35 without an HPET."""
from conftest import assert_clean_pass


def test_6g_memory_dma_above_4g_passes(boot, kernel):
    """(h) -m 6G: the memory suite runs and its above-4GiB DMA case passes (not skipped)."""
    b = boot("--kernel", kernel, "--append", "tests=memory", "--memory", "6G", timeout=300)
    assert_clean_pass(b, expect=["memory"])
    case = b.report.find("memory.dma_alloc_above_4g")
    assert case is not None, b.describe()
    assert case.status == "pass", f"{case.status} {case.directive}\n{b.describe()}"
    mapped = b.report.find("memory.ram_above_4g_is_mapped")
    assert mapped is not None and mapped.status == "pass", b.describe()


def test_q35_without_hpet(boot, kernel):
    """(i) -M q35 -no-hpet: the clock falls back to another reference and its suite passes."""
    b = boot("--kernel", kernel, "--append", "tests=time,memory", "--", "-no-hpet", timeout=300)
    assert_clean_pass(b, expect=["time", "memory"])
    assert "hpet" in b.log.lower(), "the kernel says what it did about the missing HPET"
