# SPDX-License-Identifier: MIT
"""tests/scenarios/test_machines.py — machine shapes the kernel must handle:
RAM above 4 GiB, a q35 without an HPET, microvm (no port 0x61, or no PIT)."""
import re

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
    # q35 has port 0x61: channel 2's OUT is read there, not by read-back.
    assert "calibrated against PIT (invariant" in b.log, b.describe()


def test_pci_behind_bridge_and_msi_with_edu(boot, kernel):
    """The pci suite with nothing left to skip for want of hardware: NVMe behind
    a PCIe root port (disk set-up `bridged`) and QEMU's edu device for MSI."""
    b = boot("--kernel", kernel, "--append", "tests=pci", "--disks", "bridged", "--", "-device", "edu")
    assert_clean_pass(b, expect=["pci"])
    assert "8086:2922" in b.log and "SATA controller (AHCI)" in b.log, "the boot-time PCI table lists the AHCI"
    for case in ("pci.pci_devices_behind_bridges_are_found", "pci.pci_msi_delivered_by_edu"):
        r = b.report.find(case)
        assert r is not None and r.status == "pass", f"{case}: {r and r.directive}\n{b.describe()}"


def test_apic_x2apic_asked_where_the_cpu_has_none(boot, kernel):
    """apic=x2apic under -cpu max,+x2apic: QEMU 7.2's TCG drops the x2APIC
    CPUID bit (it has no x2APIC), so bareio must say it stays in xAPIC mode
    and still pass its APIC and MSI cases — never write EXTD on a CPU
    without x2APIC (a #GP). x2APIC mode itself is host-tested
    (tests/host/test_apic_mode.c): no machine here can run it."""
    b = boot("--kernel", kernel, "--append", "tests=apic,pci apic=x2apic", "--",
             "-cpu", "max,+x2apic", timeout=300)
    assert_clean_pass(b, expect=["apic", "pci"])
    assert ("apic: apic=x2apic: this CPU has no x2APIC (CPUID.1:ECX[21] clear); staying in xAPIC "
            "mode") in b.log, b.describe()
    assert "apic: LAPIC id 0, xAPIC mode at 0xfee00000" in b.log


def test_apic_setting_refuses_an_unknown_mode(boot, kernel):
    from conftest import USAGE
    b = boot("--kernel", kernel, "--append", "tests=lib apic=x3apic", "--disks", "none")
    assert b.status == USAGE, b.describe()
    assert "apic=x3apic" in b.log, b.describe()


def test_microvm_without_port_0x61_calibrates_by_read_back(boot, kernel):
    """QEMU's microvm: no HPET, no PCI, and no port 0x61 (the read is 0xff, so
    PIT channel 2's OUT looked high at once and the TSC was "calibrated" to
    2 MHz, a panic). The 8254's read-back status gives OUT instead; the time,
    apic and smp suites pass on it at -smp 2."""
    b = boot("--kernel", kernel, "--append", "tests=time,apic,smp", "--machine", "microvm",
             "--disks", "none", "--smp", "2", timeout=300)
    assert_clean_pass(b, expect=["time", "apic", "smp"])
    assert "calibrated against PIT (OUT by read-back: no port 0x61)" in b.log, b.describe()
    assert "smp: 2 of 2 CPUs online" in b.log, b.describe()
    # Its virtio-mmio transports are empty: none is named as storage.
    assert "storage: virtio-mmio" not in b.log, b.describe()
    case = b.report.find("time.tsc_rate_agrees_with_reference")
    assert case is not None and case.status == "pass", b.describe()


def test_microvm_without_a_pit_says_there_is_no_reference(boot, kernel):
    """microvm with pit=off: neither an HPET nor a PIT to calibrate the TSC
    against. The boot ends as a crash that says so, not a clock at a made-up rate."""
    from conftest import CRASH
    b = boot("--kernel", kernel, "--append", "tests=time", "--machine", "microvm,pit=off",
             "--disks", "none", timeout=120)
    assert b.status == CRASH, b.describe()
    assert "no usable PIT" in b.log and "no reference to calibrate the TSC against" in b.log, \
        b.describe()
    assert "bareio-result: crash" in b.log, b.describe()


def test_microvm_virtio_mmio_disk_is_named_not_tested(boot, kernel, tmp_path):
    """A virtio-blk disk on microvm's virtio-mmio transport (off PCI, which
    bareio does not drive) is named from the DSDT's LNRO0005 device and its
    registers: not tested, with the remedy; a skip of preflight's storage
    accounting, a failure under blk.require=all; the empty transports are not
    listed, and the disk is not written."""
    from conftest import FAIL, PASS
    img = tmp_path / "mmio.img"
    img.write_bytes(b"\x5a" * (8 << 20))
    disk = ["-drive", f"if=none,id=vd,format=raw,file={img}", "-device", "virtio-blk-device,drive=vd"]
    line = re.compile(r"storage: virtio-mmio at (0x[0-9a-f]+) \(ACPI LNRO0005, version \d\) "
                      r"virtio-blk device: not tested: bareio has no virtio-mmio driver")
    for require, want in (("", "skip"), (" blk.require=all", "fail")):
        b = boot("--kernel", kernel, "--append", "tests=preflight,dio" + require,
                 "--machine", "microvm", "--disks", "none", "--", *disk, timeout=300)
        found = line.findall(b.log)
        assert len(found) == 1, b.describe()
        case = b.report.find(f"preflight.preflight_storage_accounted.mmio_{int(found[0], 16):08x}")
        assert case is not None and case.status == want, b.describe()
        assert f"# dio summary: storage virtio-mmio at {found[0]}" in b.log, b.describe()
        assert b.status == (FAIL if want == "fail" else PASS), b.describe()
    assert img.read_bytes() == b"\x5a" * (8 << 20)
