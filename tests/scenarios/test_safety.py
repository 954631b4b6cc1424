# SPDX-License-Identifier: MIT
"""tests/scenarios/test_safety.py — bareio writes only scratch disks, and only
where it may (drivers/blk/access.h), on QEMU's real AHCI and NVMe devices:

- an unlabelled disk full of data comes out byte for byte unchanged while a
  labelled one beside it is written (tools/verify-image proves what), and the
  label and everything below the data range survive the run;
- allow_write= opens exactly the disks whose serial it names, but never a disk
  that holds a file system;
- a GPT partition with bareio's type GUID (tools/mkscratch --gpt) confines
  every write to that partition, and the partition tables are left intact;
- the ISO bareio booted from, attached again as a disk, is named the boot
  medium and never written, even with allow_write=*; another bareio ISO is
  "in use" and left alone too.
Each check compares SHA-256 sums taken before and after the run.
"""
import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import TOOLS, access, assert_clean_pass, manifest_ranges, sha256, tool

sys.path.insert(0, TOOLS)
import disks  # noqa: E402

MiB = 1024 * 1024


def blank(tmp_path, name, size=32 * MiB):
    path = str(tmp_path / f"{name}.img")
    with open(path, "wb") as f:
        f.truncate(size)
    return path


def devices_by_serial(log):
    """{serial: block device name} from the drivers' bring-up lines."""
    found = {}
    for m in re.finditer(r"^(nvme\d+): .*serial (\S+),", log, re.M):
        found[m.group(2)] = m.group(1) + "n1"
    for m in re.finditer(r"^(ahci\d+p\d+): .*? (bareio-\S+) fw ", log, re.M):
        found[m.group(2)] = m.group(1)
    return found


def need(b, *serials):
    """The devices for these serials; skipped only when no storage driver is built in."""
    by = devices_by_serial(b.log)
    if not by:
        pytest.skip("no AHCI or NVMe block device at all (drivers not built in)")
    missing = [s for s in serials if s not in by]
    assert not missing, f"no block device for {missing}\n{b.describe()}"
    return by


@pytest.mark.parametrize("unmarked_on", ["ahci", "nvme"])
def test_unmarked_disk_unchanged_labelled_disk_written(boot, kernel, tmp_path, unmarked_on):
    ctx = disks.DiskContext(str(tmp_path / "img"))
    unmarked = ctx.unmarked_image("unmarked.img", 16 * MiB)
    scratch = blank(tmp_path, "scratch")
    tool("mkscratch", scratch)
    before_unmarked = sha256(unmarked)
    before_head = sha256(scratch, 0, MiB)           # label and everything below 1 MiB
    if unmarked_on == "ahci":
        args = disks.ahci_disk_at(unmarked, "unmarked", "ide.0") + disks.nvme_controller_at(scratch, "scratch")
    else:
        args = disks.ahci_disk_at(scratch, "scratch", "ide.0") + disks.nvme_controller_at(unmarked, "unmarked")
    b = boot("--kernel", kernel, "--disks", "none", "--append", "tests=dio", "--", *args, timeout=150)
    by = need(b, "bareio-unmarked", "bareio-scratch")
    assert_clean_pass(b)
    assert access(b.log, by["bareio-unmarked"]) == "read-only: no scratch label"
    assert access(b.log, by["bareio-scratch"]).startswith("scratch (label): writes to 1 MiB..32 MiB")
    assert sha256(unmarked) == before_unmarked, "the unlabelled disk was written"
    assert sha256(scratch, 0, MiB) == before_head, "the label (or a byte below the data range) changed"
    assert tool("mkscratch", scratch).stdout.find("rewritten") > 0     # still a valid label
    ranges = manifest_ranges(b.log, by["bareio-scratch"])
    assert any(k == "stamped" for k, _, _ in ranges), "the labelled disk was not written"
    p = tool("verify-image", b.log_path, scratch)
    assert re.search(rf"verify-image: {by['bareio-scratch']}: \d+ ranges, \d+ blocks OK", p.stdout)


def test_allow_write_names_disks_by_serial_but_not_disks_in_use(boot, kernel, tmp_path):
    allowed = blank(tmp_path, "allowed")
    other = blank(tmp_path, "other")
    fs = blank(tmp_path, "fsdisk", 16 * MiB)
    if shutil.which("mkfs.ext4"):
        subprocess.run(["mkfs.ext4", "-q", "-F", fs], check=True)
    else:                                           # the superblock magic is what counts
        with open(fs, "r+b") as f:
            f.seek(1080)
            f.write(b"\x53\xef")
    sums = {p: sha256(p) for p in (other, fs)}
    args = (disks.nvme_controller_at(allowed, "allowed") + disks.nvme_controller_at(other, "other")
            + disks.ahci_disk_at(fs, "fsdisk", "ide.0"))
    b = boot("--kernel", kernel, "--disks", "none", "--append",
             "tests=dio allow_write=bareio-allowed,bareio-fs*", "--", *args, timeout=150)
    by = need(b, "bareio-allowed", "bareio-other", "bareio-fsdisk")
    assert_clean_pass(b)
    assert access(b.log, by["bareio-allowed"]) == "scratch (allow_write): writes to 0 B..32 MiB"
    assert access(b.log, by["bareio-other"]) == "read-only: no scratch label"
    assert access(b.log, by["bareio-fsdisk"]) == \
        "read-only: holds an ext2/3/4 file system (in use; allow_write= does not apply)"
    for path, before in sums.items():
        assert sha256(path) == before, f"{os.path.basename(path)} was written"
    # No label: verify-image is told which manifest is the disk's, and that allow_write= opened it.
    p = tool("verify-image", b.log_path, allowed, "--device", by["bareio-allowed"], "--allow-write")
    assert "blocks OK" in p.stdout
    assert any(k == "stamped" for k, _, _ in manifest_ranges(b.log, by["bareio-allowed"]))


@pytest.mark.parametrize("kind", ["ahci", "nvme"])
def test_gpt_partition_confines_writes(boot, kernel, tmp_path, kind):
    img = blank(tmp_path, "gptdisk", 32 * MiB)
    tool("mkscratch", "--gpt", img)
    nblocks = 32 * MiB // 512
    tables = (sha256(img, 0, MiB), sha256(img, (nblocks - 33) * 512))  # primary, backup
    args = (disks.ahci_disk_at(img, "gptdisk", "ide.0") if kind == "ahci"
            else disks.nvme_controller_at(img, "gptdisk"))
    b = boot("--kernel", kernel, "--disks", "none", "--append", "tests=dio", "--", *args, timeout=150)
    dev = need(b, "bareio-gptdisk")["bareio-gptdisk"]
    assert_clean_pass(b)
    last = nblocks - 34                                 # LastUsableLBA
    # 65503 blocks end at 33537536 bytes, which is no whole KiB: printed exactly.
    assert access(b.log, dev) == f"scratch (GPT partition 1): writes to 1 MiB..{(last + 1) * 512} B"
    ranges = manifest_ranges(b.log, dev)
    assert any(k == "stamped" for k, _, _ in ranges)
    for k, lba, count in ranges:
        assert 2048 <= lba and lba + count - 1 <= last, f"{k} range {lba}+{count} outside the partition"
    assert (sha256(img, 0, MiB), sha256(img, (nblocks - 33) * 512)) == tables, "a GPT table changed"
    p = tool("verify-image", b.log_path, img)           # identity: the partition's unique GUID
    assert f"verify-image: {dev}:" in p.stdout and "blocks OK" in p.stdout


def test_boot_iso_as_a_disk_is_never_written(boot, make_iso, tmp_path):
    iso = make_iso("tests=dio allow_write=*")
    other_iso = make_iso("tests=lib")
    other = str(tmp_path / "other-iso.img")
    shutil.copyfile(other_iso, other)
    before = sha256(iso)
    before_other = sha256(other)
    b = boot("--iso", iso, "--disks", "bootdisk", "--", *disks.ahci_disk_at(other, "otheriso", "ide.1"),
             timeout=180)
    by = need(b, "bareio-bootiso", "bareio-otheriso", "bareio-ahci0", "bareio-nvme0")
    assert_clean_pass(b)
    bootid = re.search(r"bootid=([0-9A-F]+)", b.loader_line()).group(1)
    with open(iso, "rb") as f:
        f.seek(32768 + 40)
        assert f.read(32).decode().strip() == f"BAREIO_{bootid}"
    assert access(b.log, by["bareio-bootiso"]) == f"read-only: boot medium (bootid={bootid}), never written"
    assert access(b.log, by["bareio-otheriso"]) == \
        "read-only: holds an ISO 9660 file system (in use; allow_write= does not apply)"
    copy = os.path.join(str(tmp_path / "disks"), "bootiso-copy.img")
    assert sha256(copy) == before, "the boot medium was written"
    assert sha256(other) == before_other, "the other ISO was written"
    # The labelled default disks were still written, label first.
    assert access(b.log, by["bareio-nvme0"]).startswith("scratch (label)")
    assert any(k == "stamped" for k, _, _ in manifest_ranges(b.log, by["bareio-nvme0"]))
