# SPDX-License-Identifier: MIT
"""tests/scenarios/test_hostile.py — the write gate against hostile disks and
command lines (issue 9), on QEMU's real AHCI and NVMe devices. Each scenario
builds the hostile image on the host (filled with a known pattern first, so a
stray write shows), boots the dio harness on it, and then compares the image
byte for byte with what a correct reading of the disk allows to change:

- a scratch label whose data offset (4 KiB) is no multiple of the namespace's
  block size (8 KiB, 64 KiB): the start is rounded up, the label's block is
  never written;
- GPTs whose usable LBAs reach LBA 0..2, the entry array or the backup
  header, a bareio partition over another partition, a hybrid MBR: read-only,
  unchanged, even with allow_write=;
- an AHCI disk of more than 2^48 sectors (a sparse qcow2 on ide-hd): the
  capacity is clamped to what 48-bit LBAs reach and the label survives a run
  that writes the last LBA;
- a command line longer than bareio keeps, with allow_write= past the cut:
  refused with the usage status, nothing written;
- a label beside a file system, swap or an ISO, and a damaged label with
  allow_write=: read-only, unchanged;
- a label whose data range ends before the device does: every write stays in
  the range (the gate's edge case runs on it) and the tail is unchanged;
- IDENTIFY strings with control characters and escape sequences: printed
  escaped, no raw control byte on the console;
- an ext4 made inside a bareio partition or a label's data range after the
  disk was marked: read-only, unchanged;
- a GPT on 64 KiB blocks, whose entry array lies past the first 72 KiB:
  writable inside its partition only, both tables unchanged.
"""
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib

import pytest

from conftest import PASS, TOOLS, USAGE, access, assert_clean_pass, manifest_ranges, sha256, tool

sys.path.insert(0, TOOLS)
import disks  # noqa: E402

MiB = 1024 * 1024


def patterned(tmp_path, name, size=32 * MiB):
    """An image full of disks.py's known pattern: any write shows."""
    return disks.DiskContext(str(tmp_path / "img")).unmarked_image(name, size)


def put_label(path, offset=MiB, size=0, uuid=b"\x5a" * 16):
    with open(path, "r+b") as f:
        f.write(disks.scratch_label(uuid, data_offset=offset, data_size=size))


def nvme_ns(path, name, block_size):
    """An NVMe controller (serial bareio-NAME) with one namespace of `block_size` bytes."""
    return ["-drive", f"if=none,id={name}d,format=raw,discard=unmap,file={path}",
            "-device", f"nvme-subsys,id={name}s,nqn=bareio-{name}",
            "-device", f"nvme,id={name},serial=bareio-{name},subsys={name}s",
            "-device", f"nvme-ns,drive={name}d,nsid=1,logical_block_size={block_size},"
                       f"physical_block_size={block_size}"]


def run_dio(boot, kernel, qemu_args, cmdline="tests=dio", timeout=180):
    return boot("--kernel", kernel, "--disks", "none", "--append", cmdline, "--", *qemu_args,
                timeout=timeout)


# ---- 1: label start rounded inwards ----

@pytest.mark.parametrize("block_size", [8192, 65536])
def test_label_offset_below_a_block_never_overwrites_the_label(boot, kernel, tmp_path, block_size):
    img = patterned(tmp_path, "big-blocks.img")
    put_label(img, offset=4096)
    head = sha256(img, 0, block_size)                   # the label's whole block
    b = run_dio(boot, kernel, nvme_ns(img, "bigblk", block_size))
    assert_clean_pass(b, expect=["dio"])
    start = "8 KiB" if block_size == 8192 else "64 KiB"
    assert access(b.log, "nvme0n1") == f"scratch (label): writes to {start}..32 MiB", b.describe()
    assert sha256(img, 0, block_size) == head, "the label's block was written"
    ranges = manifest_ranges(b.log, "nvme0n1")
    assert ranges and min(lba for _, lba, _ in ranges) >= 1
    p = tool("verify-image", b.log_path, img)
    assert "blocks OK" in p.stdout


# ---- 2: GPTs that overlap their own structures ----

def gpt_fields(img, bs=512):
    """(header, entries) as bytearrays, from a GPT tools/mkscratch --gpt wrote."""
    with open(img, "rb") as f:
        f.seek(bs)
        header = bytearray(f.read(bs))
        f.seek(2 * bs)
        entries = bytearray(f.read(128 * 128))
    return header, entries


def gpt_write(img, header, entries, bs=512):
    """Writes the primary header and entries back with both CRC-32s made right,
    so that only the layout rules can refuse the table."""
    struct.pack_into("<I", header, 88, zlib.crc32(bytes(entries)))
    struct.pack_into("<I", header, 16, 0)
    struct.pack_into("<I", header, 16, zlib.crc32(bytes(header[:92])))
    with open(img, "r+b") as f:
        f.seek(bs)
        f.write(header)
        f.seek(2 * bs)
        f.write(entries)


LINUX_DATA = bytes.fromhex("af3dc60f838472478e793d69d8477de4")


def hostile_gpt(img, how):
    tool("mkscratch", "--gpt", "--force", img)
    header, entries = gpt_fields(img)
    nblocks = os.path.getsize(img) // 512
    if how.startswith("first-usable-"):
        lba = int(how.rsplit("-", 1)[1])
        struct.pack_into("<Q", header, 40, lba)
        struct.pack_into("<Q", entries, 32, lba)
    elif how == "last-usable-is-backup-header":
        struct.pack_into("<Q", header, 48, nblocks - 1)
        struct.pack_into("<Q", entries, 40, nblocks - 1)
    elif how == "partition-over-entry-array":
        struct.pack_into("<Q", entries, 32, 2)
    elif how == "overlaps-linux-partition":
        last = struct.unpack_from("<Q", entries, 40)[0]
        entries[128:144] = LINUX_DATA
        struct.pack_into("<QQ", entries, 128 + 32, last - 100, last)
    elif how == "hybrid-mbr":
        with open(img, "r+b") as f:
            f.seek(446 + 16 + 4)
            f.write(b"\x83")
    else:
        raise ValueError(how)
    gpt_write(img, header, entries)


@pytest.mark.parametrize("how", ["first-usable-0", "first-usable-1", "first-usable-2",
                                 "last-usable-is-backup-header", "partition-over-entry-array",
                                 "overlaps-linux-partition", "hybrid-mbr"])
def test_hostile_gpt_is_read_only_and_unchanged(boot, kernel, tmp_path, how):
    img = patterned(tmp_path, "gpt.img", 16 * MiB)
    hostile_gpt(img, how)
    before = sha256(img)
    b = run_dio(boot, kernel, disks.ahci_disk_at(img, "hostile", "ide.0"),
                cmdline="tests=dio allow_write=bareio-*")
    assert b.status == PASS, b.describe()
    line = access(b.log, "ahci0p0")
    assert line.startswith("read-only:") and ("GPT" in line or "MBR" in line), line
    assert sha256(img) == before, f"{how}: the image changed"
    assert "bareio-manifest: begin device=ahci0p0" not in b.log


# ---- 3: an AHCI capacity beyond 2^48 sectors ----

def test_ahci_capacity_beyond_lba48_is_clamped_and_the_label_survives(boot, kernel, tmp_path):
    if not shutil.which("qemu-img") or not shutil.which("qemu-io"):
        pytest.skip("qemu-img/qemu-io not installed (Debian qemu-utils)")
    img = str(tmp_path / "huge.qcow2")
    # 129 PiB: 2^48 sectors of 512 bytes is 128 PiB. qcow2 needs 2 MiB clusters for it.
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-o", "cluster_size=2M", img,
                    "129P"], check=True, timeout=60)
    label = str(tmp_path / "label.bin")
    with open(label, "wb") as f:
        f.write(disks.scratch_label(b"\x42" * 16) + bytes(MiB - 512))
    subprocess.run(["qemu-io", "-f", "qcow2", "-c", f"write -s {label} 0 1M", img], check=True,
                   capture_output=True, timeout=60)
    args = ["-drive", f"if=none,id=huge,format=qcow2,file={img}",
            "-device", "ide-hd,drive=huge,bus=ide.0,serial=bareio-huge"]
    b = run_dio(boot, kernel, args, cmdline="tests=dio,ahci.ahci_out_of_range_lba_decoded",
                timeout=300)
    assert_clean_pass(b, expect=["dio"])
    reported = 129 * 2**50 // 512
    assert re.search(rf"^ahci0p0: .*\({2**48} sectors\) \(capacity clamped: the device "
                     rf"reports {reported} sectors, 48-bit LBAs reach 2\^48\)", b.log, re.M), \
        b.describe()
    assert access(b.log, "ahci0p0") == "scratch (label): writes to 1 MiB..128 PiB"
    ranges = manifest_ranges(b.log, "ahci0p0")
    assert any(lba + count == 1 << 48 for _, lba, count in ranges), "the last LBA was not written"
    out = str(tmp_path / "head.bin")
    subprocess.run(["qemu-img", "dd", "-f", "qcow2", "-O", "raw", f"if={img}", f"of={out}",
                    "bs=1M", "count=1"], check=True, timeout=60)
    with open(out, "rb") as f, open(label, "rb") as want:
        assert f.read() == want.read(), "the label (or a byte below 1 MiB) changed"


# ---- 4: a command line longer than bareio keeps ----

def test_overlong_command_line_is_refused_before_anything_is_written(boot, kernel, tmp_path):
    img = patterned(tmp_path, "unlabelled.img", 16 * MiB)
    before = sha256(img)
    tail = "allow_write=*lab-scratch-07"
    # The cut at 2047 bytes would leave "allow_write=*" as the last word.
    pad = 2047 - len("tests=dio") - len("allow_write=*")
    cmdline = "tests=dio" + " " * pad + tail
    b = run_dio(boot, kernel, disks.ahci_disk_at(img, "unlabelled", "ide.0"), cmdline=cmdline,
                timeout=60)
    assert b.status == USAGE, b.describe()
    assert re.search(r"^bareio: the command line is 2061 bytes, more than the 2047 bareio keeps: "
                     r"refused, nothing probed or written", b.log, re.M), b.describe()
    assert "ahci0p0" not in b.log and "KTAP" not in b.log
    assert sha256(img) == before


# ---- 5: labels that must not open the disk ----

def plant(img, how):
    if how == "ext4":
        if not shutil.which("mkfs.ext4"):
            pytest.skip("mkfs.ext4 not installed")
        subprocess.run(["mkfs.ext4", "-q", "-F", img], check=True, timeout=60)
    elif how == "swap":
        with open(img, "r+b") as f:
            f.seek(4086)
            f.write(b"SWAPSPACE2")
    elif how == "iso":
        with open(img, "r+b") as f:
            f.seek(32768)
            f.write(b"\x01CD001\x01")
    # The label last: it survives where the tool that made the file system kept
    # LBA 0 (a disk labelled, then reused).
    put_label(img)


@pytest.mark.parametrize("how", ["ext4", "swap", "iso"])
def test_label_beside_a_sign_of_use_is_read_only(boot, kernel, tmp_path, how):
    img = patterned(tmp_path, "reused.img", 16 * MiB)
    plant(img, how)
    before = sha256(img)
    b = run_dio(boot, kernel, disks.nvme_controller_at(img, "reused"),
                cmdline="tests=dio allow_write=*")
    assert b.status == PASS, b.describe()
    line = access(b.log, "nvme0n1")
    assert line.startswith("read-only: scratch label, but the disk also holds "), line
    assert "tools/mkscratch --force" in line
    assert sha256(img) == before


def test_damaged_label_with_allow_write_is_read_only(boot, kernel, tmp_path):
    img = patterned(tmp_path, "damaged.img", 16 * MiB)
    put_label(img)
    with open(img, "r+b") as f:             # one bit of data_offset: the CRC no longer matches
        f.seek(26)
        f.write(bytes([0x11]))
    before = sha256(img)
    b = run_dio(boot, kernel, disks.ahci_disk_at(img, "damaged", "ide.0"),
                cmdline="tests=dio allow_write=bareio-damaged")
    assert b.status == PASS, b.describe()
    assert access(b.log, "ahci0p0").startswith(
        "read-only: scratch label damaged (CRC-32C mismatch) (allow_write= does not apply)")
    assert sha256(img) == before


# ---- 11: a scratch range that ends before the device ----

@pytest.mark.parametrize("kind", ["ahci", "nvme"])
def test_scratch_range_ending_before_the_device_end_confines_every_write(boot, kernel, tmp_path,
                                                                         kind):
    img = patterned(tmp_path, "partial.img", 32 * MiB)
    tool("mkscratch", "--force", img, "--size", 20 * MiB)     # 1 MiB .. 21 MiB
    head, tail = sha256(img, 0, MiB), sha256(img, 21 * MiB)
    args = (disks.ahci_disk_at(img, "partial", "ide.0") if kind == "ahci"
            else disks.nvme_controller_at(img, "partial"))
    b = run_dio(boot, kernel, args)
    assert_clean_pass(b, expect=["dio"])
    dev = "ahci0p0" if kind == "ahci" else "nvme0n1"
    assert access(b.log, dev) == "scratch (label): writes to 1 MiB..21 MiB"
    assert b.report.find("dio.dio_write_gate_edges").status == "pass"
    assert (sha256(img, 0, MiB), sha256(img, 21 * MiB)) == (head, tail), \
        "a byte outside the scratch range changed"
    ranges = manifest_ranges(b.log, dev)
    assert any(lba + count == 21 * MiB // 512 for _, lba, count in ranges), \
        "the last block of the range was not written"
    assert "blocks OK" in tool("verify-image", b.log_path, img).stdout


# ---- 10: device strings with control characters ----

def test_device_strings_are_printed_escaped(boot, kernel, tmp_path):
    img = patterned(tmp_path, "evil.img", 16 * MiB)
    put_label(img)
    args = ["-drive", f"if=none,id=evil,format=raw,file={img}",
            "-device", "ide-hd,drive=evil,bus=ide.0,serial=EV\x1b[2J\x07IL,model=Mo\x1b]0;x\x07del"]
    b = run_dio(boot, kernel, args, cmdline="tests=dio.dio_device_access")
    assert_clean_pass(b)
    with open(b.log_path, "rb") as f:
        raw = f.read()
    assert not re.search(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", raw), "a control byte reached the console"
    assert "ahci0p0: Mo\\x1b]0;x\\x07del EV\\x1b[2J\\x07IL fw " in b.log, b.describe()


# ---- a file system made inside the range after it was marked ----

def ext4_at(img, offset, size):
    """An ext4 file system of `size` bytes at byte `offset` of the image (mkfs.ext4
    when there is one, else just its superblock magic, which is what counts)."""
    if shutil.which("mkfs.ext4"):
        subprocess.run(["mkfs.ext4", "-q", "-F", "-E", f"offset={offset}", img, str(size // 1024)],
                       check=True, timeout=60, capture_output=True)
    else:
        with open(img, "r+b") as f:
            f.seek(offset + 1080)
            f.write(b"\x53\xef")


@pytest.mark.parametrize("marked_by", ["gpt", "label"])
def test_file_system_inside_the_scratch_range_is_read_only(boot, kernel, tmp_path, marked_by):
    img = patterned(tmp_path, "reused-range.img", 16 * MiB)
    if marked_by == "gpt":
        tool("mkscratch", "--gpt", "--force", img)
    else:
        tool("mkscratch", "--force", img)
    ext4_at(img, MiB, 12 * MiB)
    before = sha256(img)
    b = run_dio(boot, kernel, disks.nvme_controller_at(img, "reused"),
                cmdline="tests=dio allow_write=*")
    assert b.status == PASS, b.describe()
    how = "GPT partition 1" if marked_by == "gpt" else "label"
    assert access(b.log, "nvme0n1").startswith(
        f"read-only: scratch ({how}), but its first blocks hold an ext2/3/4 file system"), b.describe()
    assert sha256(img) == before
    assert "bareio-manifest: begin device=nvme0n1" not in b.log


# ---- a GPT on 64 KiB blocks (its entry array lies past 72 KiB) ----

def gpt_64k(img, nblocks):
    """A GPT with one bareio partition (1 MiB .. LastUsableLBA) for 64 KiB blocks,
    laid out as UEFI 2.10 §5.3 says: header at LBA 1, 128 entries at LBA 2,
    backup entries and header in the last two blocks."""
    bs, ents = 65536, bytearray(128 * 128)
    first, last = MiB // bs, nblocks - 3
    ents[0:16] = bytes.fromhex("25cb755121ccc248964fd62c6ffdb833")      # bareio, as stored
    ents[16:32] = b"\x42" * 16
    struct.pack_into("<QQ", ents, 32, first, last)

    def header(my, alt, entries_lba):
        h = bytearray(92)
        h[0:8] = b"EFI PART"
        struct.pack_into("<IIIIQQQQ16sQIII", h, 8, 0x00010000, 92, 0, 0, my, alt, 3, nblocks - 3,
                         b"\x24" * 16, entries_lba, 128, 128, zlib.crc32(bytes(ents)))
        struct.pack_into("<I", h, 16, zlib.crc32(bytes(h)))
        return bytes(h)
    mbr = bytearray(512)
    mbr[446 + 1:446 + 16] = bytes([0, 2, 0, 0xEE, 0xFF, 0xFF, 0xFF]) + struct.pack("<II", 1, 0xFFFFFFFF)
    mbr[510:512] = b"\x55\xaa"
    with open(img, "r+b") as f:
        f.write(bytes(mbr).ljust(bs, b"\0"))
        f.write(header(1, nblocks - 1, 2).ljust(bs, b"\0"))
        f.write(bytes(ents).ljust(bs, b"\0"))
        f.seek((nblocks - 2) * bs)
        f.write(bytes(ents).ljust(bs, b"\0"))
        f.write(header(nblocks - 1, 1, nblocks - 2).ljust(bs, b"\0"))


def test_gpt_on_64k_blocks_confines_writes(boot, kernel, tmp_path):
    img = patterned(tmp_path, "gpt64k.img", 32 * MiB)
    nblocks = 32 * MiB // 65536
    gpt_64k(img, nblocks)
    tables = (sha256(img, 0, MiB), sha256(img, (nblocks - 2) * 65536))
    b = run_dio(boot, kernel, nvme_ns(img, "gpt64k", 65536))
    assert_clean_pass(b, expect=["dio"])
    assert access(b.log, "nvme0n1") == \
        f"scratch (GPT partition 1): writes to 1 MiB..{(nblocks - 2) * 64} KiB", b.describe()
    ranges = manifest_ranges(b.log, "nvme0n1")
    assert ranges and all(16 <= lba and lba + n <= nblocks - 2 for _, lba, n in ranges)
    assert (sha256(img, 0, MiB), sha256(img, (nblocks - 2) * 65536)) == tables, "a GPT table changed"
    assert "blocks OK" in tool("verify-image", b.log_path, img).stdout
