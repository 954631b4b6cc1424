# SPDX-License-Identifier: MIT
"""tests/scenarios/test_matrix.py — the layout matrix (issue 10): bareio booted
on layouts that vary what real machines vary, each asserting the same four
things a user relies on:

1. the run ends "all passed" on healthy devices (and ktap-check agrees);
2. every disk attached is either tested (the dio summary has its row, with
   writes where it is scratch) or named with the reason it is not (its
   access line says read-only and why, or its driver says why it skipped it);
3. every unmarked image comes out byte-identical;
4. tools/verify-image proves every scratch image the run wrote.

The layouts: number and position of AHCI and NVMe controllers, bridges,
switches and a second root bus, -M pc and q35 (with and without its SATA),
SeaBIOS and OVMF (through the ISO), disk and scratch-range sizes from 64 KiB
to 2 TiB (sparse), 512/4096/65536-byte NVMe formats, drive options (discard,
read-only, zoned, metadata), MDTS and queue limits, MSI-X table sizes, CPU
models and counts, memory from 64 MiB to 16 GiB, ACPI off. `tests=` is
narrowed per layout to what it needs, so the whole group stays quick.
"""
import os
import re
from dataclasses import dataclass, field
from typing import List

import pytest

from conftest import assert_clean_pass, sha256, tool

MiB = 1024 * 1024
GiB = 1024 * MiB
TiB = 1024 * GiB
BASIC = ("tests=preflight,dio.dio_device_access,dio.dio_write_gate_edges,dio.dio_write_read_verify,"
         "dio.dio_first_and_last_lba,dio.dio_final_read_back")


@dataclass
class Disk:
    kind: str                   # "ahci", "nvme"
    size: int = 16 * MiB
    mark: str = "label"         # label, gpt, none (allow_write=), unmarked (must not change)
    label_size: int = 0         # --size for the label (0: to the end)
    where: str = ""             # ahci: bus (ide.N or hbaN.M); nvme: extra -device options
    drive: str = ""             # extra -drive options
    ns: str = ""                # nvme-ns options: the disk is a namespace of a subsystem
    expect: str = "tested"      # tested, read-only:REGEX, skipped:REGEX
    serial: str = ""


@dataclass
class Layout:
    name: str
    disks: List[Disk]
    cmdline: str = BASIC
    machine: str = "q35"
    memory: str = "512M"
    smp: str = "1"
    extra: List[str] = field(default_factory=list)
    iso: str = ""               # "bios" or "uefi": boot the ISO (GRUB) instead of -kernel
    timeout: int = 150


def nvme_disks(n, **kw):
    return [Disk("nvme", **kw) for _ in range(n)]


LAYOUTS = [
    Layout("q35-default", [Disk("ahci", where="ide.0"), Disk("nvme")]),
    Layout("q35-all-six-ahci-ports", [Disk("ahci", 4 * MiB, where=f"ide.{p}") for p in range(6)]),
    Layout("q35-no-sata-addin-ahci-low", [Disk("ahci", where="hba0.0"), Disk("nvme")],
           machine="q35,sata=off", extra=["-device", "ahci,id=hba0,bus=pcie.0,addr=0x3"],
           cmdline=BASIC.replace("tests=", "tests=pci,")),
    Layout("q35-three-ahci-hbas", [Disk("ahci", where="ide.0"), Disk("ahci", where="hba0.1"),
                                   Disk("ahci", where="hba1.0")],
           extra=["-device", "ahci,id=hba0", "-device", "ahci,id=hba1"]),
    Layout("pc-i440fx-no-ecam", [Disk("ahci", where="hba0.0"), Disk("nvme")], machine="pc",
           extra=["-device", "ahci,id=hba0"], cmdline=BASIC.replace("tests=", "tests=pci,")),
    Layout("pc-acpi-off", [Disk("nvme"), Disk("ahci", where="hba0.0")], machine="pc,acpi=off",
           extra=["-device", "ahci,id=hba0"], cmdline=BASIC.replace("tests=", "tests=acpi,pci,")),
    Layout("q35-legacy-config", [Disk("ahci", where="ide.0"), Disk("nvme")],
           cmdline=BASIC + ",pci pci.config=legacy"),
    Layout("root-port-bridges", [Disk("nvme", where=",bus=rp1"), Disk("nvme", where=",bus=rp2")],
           extra=["-device", "pcie-root-port,id=rp1,chassis=1",
                  "-device", "pcie-root-port,id=rp2,chassis=2"]),
    Layout("pcie-switch", [Disk("nvme", where=",bus=dn1"), Disk("nvme", where=",bus=dn2")],
           extra=["-device", "pcie-root-port,id=rp1,chassis=1",
                  "-device", "x3130-upstream,id=up1,bus=rp1",
                  "-device", "xio3130-downstream,id=dn1,bus=up1,chassis=2,slot=0",
                  "-device", "xio3130-downstream,id=dn2,bus=up1,chassis=3,slot=1"],
           cmdline=BASIC.replace("tests=", "tests=pci,")),
    Layout("second-root-bus", [Disk("nvme", where=",bus=rpx"), Disk("ahci", where="ide.0")],
           extra=["-device", "pxb-pcie,id=pxb1,bus_nr=128,bus=pcie.0",
                  "-device", "pcie-root-port,id=rpx,bus=pxb1,chassis=9"]),
    Layout("eight-nvme-controllers", nvme_disks(8, size=4 * MiB)),
    Layout("tiny-disks", [Disk("nvme", 64 * 1024, mark="none"), Disk("ahci", MiB, mark="none",
                                                                   where="ide.0"),
                          Disk("nvme", 2 * MiB, label_size=8192)],
           cmdline=BASIC + ",dio.dio_queue_depth_sweep,dio.dio_sizes_across_max_transfer "
                           "allow_write=bareio-m*"),
    Layout("huge-sparse-disks", [Disk("nvme", 2 * TiB), Disk("ahci", 3 * TiB, where="ide.0")]),
    Layout("nvme-4k-and-64k-formats",
           [Disk("nvme", ns="logical_block_size=4096,physical_block_size=4096"),
            Disk("nvme", 32 * MiB, ns="logical_block_size=65536,physical_block_size=65536")]),
    Layout("nvme-gpt-partitions", [Disk("nvme", mark="gpt"), Disk("ahci", mark="gpt", where="ide.0")]),
    Layout("unmarked-beside-scratch", [Disk("nvme", mark="unmarked", expect="read-only:no scratch label"),
                                       Disk("ahci", mark="unmarked", where="ide.0",
                                            expect="read-only:no scratch label"),
                                       Disk("nvme")]),
    Layout("no-discard-drive", [Disk("nvme", drive=",discard=ignore")],
           cmdline=BASIC + ",dio.dio_trim_and_write_zeroes"),
    # QEMU 7.2 does not set NSATTR for a read-only drive (writes fail with Write
    # Fault), so a read-only drive is tested unmarked: read cases only, unchanged.
    Layout("read-only-drive", [Disk("nvme", mark="unmarked", drive=",readonly=on",
                                    expect="read-only:no scratch label")],
           cmdline=BASIC + ",dio.dio_lba_past_end"),
    Layout("zoned-namespace", [Disk("nvme", 32 * MiB, ns="zoned=true,zoned.zone_size=4M",
                                    expect="read-only:zoned namespace"), Disk("nvme")]),
    Layout("metadata-namespace", [Disk("nvme", ns="ms=8", expect="skipped:metadata bytes per block"),
                                  Disk("nvme")]),
    Layout("mdts-1-and-10", [Disk("nvme", where=",mdts=1"), Disk("nvme", where=",mdts=10")],
           cmdline=BASIC + ",dio.dio_sizes_across_max_transfer,nvme"),
    Layout("one-queue-pair", [Disk("nvme", where=",max_ioqpairs=1")],
           cmdline=BASIC + ",nvme"),
    Layout("msix-one-and-two-vectors", [Disk("nvme", where=",msix_qsize=1"),
                                        Disk("nvme", where=",msix_qsize=2")],
           cmdline=BASIC + ",nvme"),
    Layout("shallow-queues", [Disk("nvme"), Disk("ahci", where="ide.0")],
           cmdline=BASIC + ",dio.dio_queue_depth_sweep,nvme nvme.qdepth=2 nvme.queues=1"),
    Layout("polled-completions", [Disk("nvme"), Disk("ahci", where="ide.0")],
           cmdline=BASIC + ",dio.dio_queue_depth_sweep nvme.irq=poll ahci.irq=poll"),
    Layout("cpu-qemu64-smp2", [Disk("nvme"), Disk("ahci", where="ide.0")], smp="2",
           extra=["-cpu", "qemu64"]),
    Layout("cpu-max-smp4", [Disk("nvme"), Disk("ahci", where="ide.0")], smp="4",
           extra=["-cpu", "max"]),
    Layout("memory-64m", [Disk("nvme"), Disk("ahci", where="ide.0")], memory="64M",
           cmdline=BASIC.replace("tests=", "tests=memory,ahci,")),
    Layout("memory-16g", [Disk("nvme"), Disk("ahci", where="ide.0")], memory="16G",
           cmdline=BASIC + ",dio.dio_buffers_above_4g,memory"),
    Layout("uefi-iso", [Disk("nvme"), Disk("ahci", where="ide.1")], iso="uefi", timeout=240),
    Layout("bios-iso", [Disk("nvme", mark="gpt"), Disk("ahci", where="ide.1")], iso="bios",
           timeout=200),
    Layout("mixed-many", [Disk("ahci", where="ide.0"), Disk("ahci", 8 * MiB, where="ide.2"),
                          Disk("nvme", ns="logical_block_size=4096,physical_block_size=4096"),
                          Disk("nvme", where=",bus=rp1"), Disk("nvme", mark="unmarked",
                                                               expect="read-only:no scratch label"),
                          Disk("nvme", mark="gpt")],
           extra=["-device", "pcie-root-port,id=rp1,chassis=1"]),
]


def make_image(path, disk):
    with open(path, "wb") as f:
        if disk.mark == "unmarked":
            pattern = b"bareio matrix: must never change. "
            block = (pattern * (MiB // len(pattern) + 1))[:MiB]
            for _ in range(disk.size // MiB):
                f.write(block)
            f.write(block[:disk.size % MiB])
        else:
            f.truncate(disk.size)
    if disk.mark == "label":
        tool("mkscratch", path, *(["--size", disk.label_size] if disk.label_size else []))
    elif disk.mark == "gpt":
        bs = "4096" if "4096" in disk.ns else "512"
        tool("mkscratch", "--gpt", "--block-size", bs, path)


def qemu_args(layout, tmp_path):
    args, images, subsys = [], [], 0
    for i, d in enumerate(layout.disks):
        d.serial = d.serial or f"bareio-m{i}"
        path = str(tmp_path / f"m{i}.img")
        make_image(path, d)
        images.append((d, path))
        fmt = f"if=none,id=m{i},format=raw,file={path}{d.drive}"
        if d.kind == "ahci":
            args += ["-drive", fmt, "-device", f"ide-hd,drive=m{i},bus={d.where},serial={d.serial}"]
        elif d.ns:
            subsys += 1
            args += ["-drive", fmt, "-device", f"nvme-subsys,id=ms{i},nqn={d.serial}",
                     "-device", f"nvme,serial={d.serial},subsys=ms{i}{d.where}",
                     "-device", f"nvme-ns,drive=m{i},nsid=1,{d.ns}"]
        else:
            args += ["-drive", fmt + ("" if "discard" in d.drive else ",discard=unmap"),
                     "-device", f"nvme,serial={d.serial},drive=m{i}{d.where}"]
    return layout.extra + args, images


def device_of(log, serial):
    """The block device bareio made of the disk with this serial, if any."""
    m = re.search(rf"^(nvme\d+): .*serial {re.escape(serial)},", log, re.M)
    if m:
        ns = re.search(rf"^({m.group(1)}n\d+): ", log, re.M)
        return ns.group(1) if ns else m.group(1)
    m = re.search(rf"^(ahci\d+p\d+): .* {re.escape(serial)} fw ", log, re.M)
    return m.group(1) if m else None


def check_disk(b, d, path, before):
    dev = device_of(b.log, d.serial)
    assert dev, f"{d.serial}: no boot line names it\n{b.describe()}"
    kind, _, reason = d.expect.partition(":")
    if kind == "skipped":
        assert re.search(rf"^{re.escape(dev)} nsid \d+: not tested: .*{reason}", b.log, re.M) or \
            re.search(rf"^{re.escape(dev)}\S*: .*skipped: .*{reason}", b.log, re.M), \
            f"{d.serial} ({dev}): not named as skipped with '{reason}'\n{b.describe()}"
        return
    row = re.search(rf"^# dio summary: {re.escape(dev)} +\S+ +(scratch|read-only) +(\d+) +(\d+)",
                    b.log, re.M)
    assert row, f"{d.serial} ({dev}) is not in the dio summary\n{b.describe()}"
    assert row.group(3) == "0", f"{dev}: failures in the summary\n{b.describe()}"
    access = re.search(rf"^{re.escape(dev)}: ((?:read-only|scratch).*)$", b.log, re.M).group(1)
    if kind == "read-only":
        assert row.group(1) == "read-only" and re.search(reason, access), (dev, access)
    else:
        assert row.group(1) == "scratch", (dev, access)
    if d.mark == "unmarked" or kind == "read-only":
        assert sha256(path) == before, f"{d.serial} ({dev}): a disk that is not scratch changed"
    elif f"bareio-manifest: begin device={dev} " in b.log:
        p = tool("verify-image", b.log_path, path, *(["--device", dev, "--allow-write"]
                                                      if d.mark == "none" else []))
        assert "blocks OK" in p.stdout, p.stdout


@pytest.mark.parametrize("layout", LAYOUTS, ids=[lay.name for lay in LAYOUTS])
def test_layout(boot, kernel, make_iso, tmp_path, layout):
    if layout.iso == "uefi" and not os.path.exists("/usr/share/OVMF/OVMF_CODE_4M.fd"):
        pytest.skip("OVMF not installed")
    args, images = qemu_args(layout, tmp_path)
    # Only what must not change is hashed (a 2 TiB sparse scratch image is not read).
    before = {path: sha256(path) for d, path in images
              if d.mark == "unmarked" or d.expect.startswith("read-only")}
    opts = ["--machine", layout.machine, "--memory", layout.memory, "--smp", layout.smp,
            "--disks", "none"]
    if layout.iso:
        opts = ["--iso", make_iso(layout.cmdline), "--firmware", layout.iso] + opts
    else:
        opts = ["--kernel", kernel, "--append", layout.cmdline] + opts
    b = boot(*opts, "--", *args, timeout=layout.timeout)
    assert_clean_pass(b)
    assert "left out:" not in b.log, b.describe()
    for d, path in images:
        check_disk(b, d, path, before.get(path))
