# SPDX-License-Identifier: MIT
"""tests/scenarios/test_layouts_small.py — layouts other than bareio's own
scenarios use, each of which once gave a false failure (issue 10 §2: `not ok`
on a healthy device because a case assumed a layout): an add-in AHCI controller
below q35's built-in one and a q35 without SATA, a machine without ACPI, tiny
scratch ranges (labels with --size, tiny whole disks with allow_write=), a
small MDTS and a shallow NVMe queue, little RAM, a labelled 3 TiB disk.

The rule every scenario here checks: the boot exits "all passed"; a case the
layout cannot host skips and says why; a case it can host runs. Each boot names
only the suites it needs (a few seconds under TCG).
"""
import os

import pytest

from conftest import assert_clean_pass, tool

MiB = 1024 * 1024
TiB = 1024 * 1024 * MiB
ALLOW = "allow_write=bareio-*"


def status(b, path):
    r = b.report.find(path)
    assert r is not None, f"{path} did not run\n{b.describe()}"
    return r


def assert_passed(b, *paths):
    for path in paths:
        r = status(b, path)
        assert r.status == "pass", f"{path}: {r.status} {r.directive}\n{b.describe()}"


def assert_skipped(b, path, *words):
    """The case skipped, and its reason holds each of `words`."""
    r = status(b, path)
    assert r.status == "skip", f"{path}: {r.status} {r.directive}\n{b.describe()}"
    for w in words:
        assert w in r.directive, f"{path}: reason '{r.directive}' lacks '{w}'"


def assert_every_skip_has_a_reason(b):
    def walk(results):
        for r in results:
            yield r
            yield from walk(r.children)
    for r in walk(b.report.results):
        if r.status == "skip":
            assert len(r.directive.split(" ", 1)) == 2, f"{r.path}: skip without a reason"


def blank(tmp_path, name, size):
    path = str(tmp_path / name)
    with open(path, "wb") as f:
        f.truncate(size)
    return path


# ---- PCI: AHCI functions where q35's built-in one is not (pci suite) ----

def test_pci_add_in_ahci_below_the_built_in_one(boot, kernel):
    """An ICH9 AHCI added at 00:03.0 is the first AHCI function: the pci suite
    took the first one for 00:1f.2 ("pci_find_class(...) == d" failed)."""
    b = boot("--kernel", kernel, "--append", "tests=pci", "--",
             "-device", "ahci,id=ahci1,bus=pcie.0,addr=0x3", timeout=60)
    assert_clean_pass(b, expect=["pci"])
    assert "pci: 00:03.0 8086:2922" in b.log and "pci: 00:1f.2 8086:2922" in b.log, b.describe()
    assert_passed(b, "pci.pci_q35_ahci_at_00_1f_2", "pci.pci_ahci_bar5_is_4k_mem32",
                  "pci.pci_boot_line_format", "pci.pci_ahci_has_msi_capability")


def test_pci_q35_without_sata(boot, kernel):
    """-M q35,sata=off has no 00:1f.2: the case asserted it was there. Alone,
    the ICH9 cases skip naming what is missing; with an add-in ICH9 AHCI they
    run on it."""
    b = boot("--kernel", kernel, "--append", "tests=pci", "--machine", "q35,sata=off", timeout=60)
    assert_clean_pass(b, expect=["pci"])
    assert_skipped(b, "pci.pci_q35_ahci_at_00_1f_2", "00:1f.2", "sata=off")
    for case in ("pci_ahci_bar5_is_4k_mem32", "pci_boot_line_format", "pci_ahci_has_msi_capability"):
        assert_skipped(b, f"pci.{case}", "8086:2922")
    b = boot("--kernel", kernel, "--append", "tests=pci", "--machine", "q35,sata=off", "--",
             "-device", "ahci,id=ahci1,bus=pcie.0,addr=0x5", timeout=60)
    assert_clean_pass(b, expect=["pci"])
    assert_skipped(b, "pci.pci_q35_ahci_at_00_1f_2", "00:1f.2")
    assert_passed(b, "pci.pci_ahci_bar5_is_4k_mem32", "pci.pci_boot_line_format",
                  "pci.pci_ahci_has_msi_capability", "pci.pci_enable_sets_and_reads_back",
                  "pci.pci_msi_registers_hold_message")
    assert "00:05.0 8086:2922 01.06.01 SATA controller (AHCI) " in b.log, b.describe()


# ---- ACPI off (acpi suite) ----

def test_no_acpi_skips_what_needs_tables(boot, kernel):
    """-M pc,acpi=off: six acpi cases failed ("expected: r->found", "facp !=
    NULL"); they skip naming the missing RSDP, the parser cases still run."""
    b = boot("--kernel", kernel, "--append", "tests=acpi,apic", "--machine", "pc,acpi=off",
             timeout=60)
    assert_clean_pass(b, expect=["acpi", "apic"])
    for case in ("acpi_rsdp_found_and_valid", "acpi_every_table_checksums",
                 "acpi_find_table_by_instance", "acpi_madt_has_cpu_and_lapic",
                 "acpi_fadt_and_dsdt_present", "acpi_reset_register_follows_fadt_flags"):
        assert_skipped(b, f"acpi.{case}", "no ACPI", "RSDP")
    assert_passed(b, "acpi.acpi_checksum_detects_corruption",
                  "acpi.acpi_madt_parser_reads_every_entry_type", "acpi.acpi_spcr_io_port_16550")


# ---- tiny scratch ranges (ahci, nvme and dio suites) ----

def tiny_layout(tmp_path, size, labelled):
    """An AHCI disk and an NVMe controller with a 512-byte and a 4096-byte
    namespace, each with `size` bytes of scratch range: a label with --size on
    an image 2 MiB larger (1 MiB label offset, 1 MiB after the range), or a
    whole image of `size` bytes opened with allow_write=. Returns (QEMU args,
    images)."""
    images = []
    for name in ("ahci", "ns1", "ns2"):
        path = blank(tmp_path, f"{name}.img", size + 2 * MiB if labelled else size)
        if labelled:
            tool("mkscratch", path, "--size", size)
        images.append(path)
    args = ["-drive", f"if=none,id=a0,format=raw,file={images[0]}",
            "-device", "ide-hd,drive=a0,bus=ide.0,serial=bareio-tiny-a0",
            "-device", "nvme-subsys,id=subsys0,nqn=bareio-tiny",
            "-device", "nvme,id=nvme0,serial=bareio-tiny-n0,subsys=subsys0"]
    for nsid, props in ((1, ""), (2, ",logical_block_size=4096,physical_block_size=4096")):
        args += ["-drive", f"if=none,id=ns{nsid},format=raw,discard=unmap,file={images[nsid]}",
                 "-device", f"nvme-ns,drive=ns{nsid},nsid={nsid}{props}"]
    return args, images


@pytest.mark.parametrize("size,labelled", [(8 * 1024, True), (64 * 1024, True), (MiB, True),
                                           (2 * MiB, True), (16 * MiB, True),
                                           (8 * 1024, False), (64 * 1024, False)],
                         ids=["label-8K", "label-64K", "label-1M", "label-2M", "label-16M",
                              "whole-8K", "whole-64K"])
def test_tiny_scratch_ranges(boot, kernel, tmp_path, size, labelled):
    """Cases wrote at fixed offsets (1 MiB + 40000..70000 sectors into the range,
    64 blocks, 5 pages, 17 blocks, ...) past the end of small scratch ranges and
    read fixed LBAs past the end of tiny disks: "lba out of range", "device is
    not scratch". Every case now places its I/O inside the range and the disk,
    and skips, naming the sizes, when they cannot hold it."""
    args, images = tiny_layout(tmp_path, size, labelled)
    cmdline = "tests=ahci,nvme,dio" + ("" if labelled else f" {ALLOW}")
    b = boot("--kernel", kernel, "--append", cmdline, "--", *args, timeout=240)
    assert_clean_pass(b, expect=["ahci", "nvme", "dio"])
    assert_every_skip_has_a_reason(b)
    # What even 8 KiB of 512-byte blocks can host runs.
    assert_passed(b, "ahci.ahci_round_trip_1_sector_to_6_mib", "ahci.ahci_flush", "ahci.ahci_trim",
                  "ahci.ahci_completion_mode", "ahci.ahci_short_prdt_detected",
                  "ahci.ahci_ncq_error_fails_only_the_bad_tag", "nvme.nvme_read_write_one_lba",
                  "nvme.nvme_prp_exactly_two_pages", "nvme.nvme_batched_submission_one_doorbell",
                  "nvme.nvme_write_zeroes_reads_back_zeroes", "nvme.nvme_dsm_deallocate",
                  "nvme.nvme_every_queue_pair_serves", "dio.dio_write_read_verify",
                  "dio.dio_buffer_alignments", "dio.dio_trim_and_write_zeroes",
                  "dio.dio_final_read_back")
    for dev, img in zip(("ahci0p0", "nvme0n1", "nvme0n2"), images):
        extra = () if labelled else ("--allow-write", "--device", dev)
        out = tool("verify-image", b.log_path, img, *extra).stdout
        assert f"verify-image: {dev}: " in out and "OK" in out, out


# ---- NVMe limits: a small MDTS, a shallow queue (nvme suite) ----

def nvme_args(tmp_path, props=""):
    path = blank(tmp_path, "n.img", 64 * MiB)
    return ["-drive", f"if=none,id=n0,format=raw,discard=unmap,file={path}",
            "-device", f"nvme,serial=bareio-limits,drive=n0{props}"]


@pytest.mark.parametrize("mdts", [1, 2])
def test_nvme_small_mdts(boot, kernel, tmp_path, mdts):
    """mdts=1 (8 KiB): the 5-page request of nvme_prp_one_list_page was split
    and the case read the last piece's PRPs ("expected sqe.prp1 ==
    segs[0].phys"). With 2 pages per command there is no PRP list to make: it
    skips saying so; with mdts=2 (4 pages) it builds one of 3 entries."""
    b = boot("--kernel", kernel, "--append", f"tests=nvme {ALLOW}", "--",
             *nvme_args(tmp_path, f",mdts={mdts}"), timeout=120)
    assert_clean_pass(b, expect=["nvme"])
    if mdts == 1:
        assert_skipped(b, "nvme.nvme_prp_one_list_page", "8192 bytes", "PRP list")
    else:
        assert_passed(b, "nvme.nvme_prp_one_list_page")
    assert_passed(b, "nvme.nvme_transfers_across_mdts", "nvme.nvme_above_mdts_unsplit_decoded",
                  "nvme.nvme_prp_exactly_two_pages")


@pytest.mark.parametrize("qdepth", [2, 4])
def test_nvme_shallow_queue(boot, kernel, tmp_path, qdepth):
    """nvme.qdepth=2 leaves one request in flight: the 16-request batch rang
    the doorbell 16 times ("sq_doorbell_writes - rings == 1: 0x10 != 0x1"). The
    batch is as deep as the queue; a queue of one cannot batch and says so."""
    b = boot("--kernel", kernel, "--append", f"tests=nvme nvme.qdepth={qdepth} {ALLOW}", "--",
             *nvme_args(tmp_path), timeout=120)
    assert_clean_pass(b, expect=["nvme"])
    if qdepth == 2:
        assert_skipped(b, "nvme.nvme_batched_submission_one_doorbell", "queue depth 1")
    else:
        assert_passed(b, "nvme.nvme_batched_submission_one_doorbell")
        assert "batch of 3 reads, one doorbell" in b.log, b.describe()
    assert_passed(b, "nvme.nvme_cq_wraps_phase_and_sq_head", "nvme.nvme_reset_reposts_commands_in_flight")


@pytest.mark.parametrize("block", [8192, 65536])
def test_nvme_blocks_larger_than_a_page(boot, kernel, tmp_path, block):
    """LBA formats above 4 KiB (QEMU's nvme-ns takes up to 64 KiB): the suite
    held a block to 512 or 4096 bytes (nvme_namespaces_registered), gave a
    block at offset 0x200 two pages ("expected sqe.prp2 == ..."), and filled
    write segments of less than a block with nothing ("block 0 of 1 read back
    differs"). Cases whose layouts cannot be made of whole blocks skip."""
    path = blank(tmp_path, "big-blocks.img", 64 * MiB)
    b = boot("--kernel", kernel, "--append", f"tests=nvme {ALLOW}", "--",
             "-device", "nvme-subsys,id=subsys0,nqn=bareio-blocks",
             "-device", "nvme,id=nvme0,serial=bareio-blocks,subsys=subsys0",
             "-drive", f"if=none,id=ns1,format=raw,discard=unmap,file={path}",
             "-device", f"nvme-ns,drive=ns1,nsid=1,logical_block_size={block},"
                        f"physical_block_size={block}", timeout=120)
    assert_clean_pass(b, expect=["nvme"])
    assert f"lba {block} mdts" in b.log, b.describe()
    assert_passed(b, "nvme.nvme_namespaces_registered", "nvme.nvme_prp_offset_prp1",
                  "nvme.nvme_transfers_across_mdts", "nvme.nvme_write_zeroes_reads_back_zeroes")
    if block == 8192:
        assert_passed(b, "nvme.nvme_prp_exactly_two_pages", "nvme.nvme_prp_one_list_page")
    else:
        assert_skipped(b, "nvme.nvme_prp_exactly_two_pages", "not whole 65536-byte blocks")
    assert_skipped(b, "nvme.nvme_prp_rules_refused", f"{block}-byte blocks")


# ---- little RAM (ahci suite) ----

@pytest.mark.parametrize("memory", ["32M", "64M"])
def test_ahci_on_little_ram(boot, kernel, tmp_path, memory):
    """With 48-64 MiB of RAM the two cases moving 65536+ sectors wanted a write
    and a read buffer of 32 MiB each and failed ("expected: w.virt && r.virt").
    They use one buffer now, so 64 MiB is enough; with 32 MiB they skip naming
    the memory they needed and had."""
    path = blank(tmp_path, "a.img", 64 * MiB)
    tool("mkscratch", path)
    b = boot("--kernel", kernel, "--append", "tests=ahci", "--memory", memory, "--",
             "-drive", f"if=none,id=a0,format=raw,file={path}",
             "-device", "ide-hd,drive=a0,bus=ide.0,serial=bareio-ram", timeout=180)
    assert_clean_pass(b, expect=["ahci"])
    big = ("ahci.ahci_large_request_is_split", "ahci.ahci_nonqueued_commands")
    if memory == "64M":
        assert_passed(b, *big)
    else:
        for case in big:
            assert_skipped(b, case, "contiguous DMA memory", "MiB free")
    assert_passed(b, "ahci.ahci_round_trip_1_sector_to_6_mib", "ahci.ahci_ncq_32_tags_in_flight")


# ---- a labelled disk beyond 2 TiB (ahci suite) ----

def test_ahci_labelled_3_tib_disk_reaches_beyond_2_32(boot, kernel, tmp_path):
    """A 3 TiB sparse image with a scratch label (writes from 1 MiB on): the
    case wanted a disk writable from LBA 0 and skipped it as "no writable AHCI
    disk larger than 2 TiB"; it uses the scratch range now."""
    path = blank(tmp_path, "big.img", 3 * TiB)
    tool("mkscratch", path)
    b = boot("--kernel", kernel, "--append", "tests=ahci.ahci_lba_beyond_2_32", "--",
             "-drive", f"if=none,id=big,format=raw,file={path}",
             "-device", "ide-hd,drive=big,bus=ide.0,serial=bareio-big", timeout=120)
    assert_clean_pass(b, expect=["ahci"])
    assert_passed(b, "ahci.ahci_lba_beyond_2_32")
    assert os.path.getsize(path) == 3 * TiB


# ---- little RAM, many devices (dio suite) ----

def test_dio_eight_scratch_devices_on_64_mib(boot, kernel, tmp_path):
    """The dio harness took 8 MiB of buffer pool per scratch device up front:
    with 64 MiB of RAM and eight devices the last three had none and every
    case failed on them ("no buffer pool (out of DMA memory below 4 GiB)").
    A device the free memory cannot give a pool shares an earlier device's
    (the cases run one device at a time) and says so."""
    args = []
    for i in range(4):
        a, n = blank(tmp_path, f"a{i}.img", 16 * MiB), blank(tmp_path, f"n{i}.img", 16 * MiB)
        args += ["-drive", f"if=none,id=a{i},format=raw,file={a}",
                 "-device", f"ide-hd,drive=a{i},bus=ide.{i},serial=bareio-a{i}",
                 "-drive", f"if=none,id=n{i},format=raw,discard=unmap,file={n}",
                 "-device", f"nvme,serial=bareio-n{i},drive=n{i}"]
    b = boot("--kernel", kernel, "--append", f"tests=dio {ALLOW}", "--memory", "64M", "--", *args,
             timeout=240)
    assert_clean_pass(b, expect=["dio"])
    assert "no memory for its own buffer pool" in b.log and "it shares" in b.log, b.describe()
    assert "its tests will fail" not in b.log
    for name in ("ahci0p3", "nvme3n1"):
        assert f"# dio summary: {name} " in b.log, b.describe()


def test_dio_without_memory_for_a_pool_skips(boot, kernel, tmp_path):
    """With 12 MiB of RAM not even one 8 MiB buffer pool is free: every dio
    case failed on every device ("no buffer pool (out of DMA memory below
    4 GiB)"); the machine cannot host the harness, so its cases skip saying
    how much memory they needed."""
    a, n = blank(tmp_path, "a.img", 16 * MiB), blank(tmp_path, "n.img", 16 * MiB)
    for path in (a, n):
        tool("mkscratch", path)
    b = boot("--kernel", kernel, "--append", "tests=dio", "--memory", "12M", "--",
             "-drive", f"if=none,id=a0,format=raw,file={a}",
             "-device", "ide-hd,drive=a0,bus=ide.0,serial=bareio-a0",
             "-drive", f"if=none,id=n0,format=raw,discard=unmap,file={n}",
             "-device", "nvme,serial=bareio-n0,drive=n0", timeout=120)
    assert_clean_pass(b, expect=["dio"])
    # How many of the two get a pool depends on what the drivers took first.
    assert "skipped: no buffer pool: 8224 KiB of DMA memory below 4 GiB" in b.log, b.describe()
    assert_every_skip_has_a_reason(b)
