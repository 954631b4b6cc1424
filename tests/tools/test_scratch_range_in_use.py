# SPDX-License-Identifier: MIT
"""tests/tools/test_scratch_range_in_use.py — a file system made inside the
scratch range after the disk was marked (mkfs.ext4 -E offset= on a bareio
partition or on a label's data range, or just the ext superblock magic there):
the kernel keeps such a disk read-only (drivers/blk/access.h,
blk_access_check_data) and the tools go by the same rule. mkscratch refuses to
remake it without --force, naming the file system inside the scratch range;
verify-image --seed writes nothing; a manifest of ranges there is a mismatch.
Every refusal leaves the image as it was. A run's own stamps at the start of
the range are no sign of use: seeding again and remaking still work."""
import hashlib
import os
import shutil
import struct
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MKSCRATCH = os.path.join(ROOT, "tools", "mkscratch")
VERIFY = os.path.join(ROOT, "tools", "verify-image")
MiB = 1024 * 1024
UUID = bytes(range(0xA0, 0xB0))
SIZE = 64 * MiB

# How the disk was made scratch: mkscratch's arguments, the byte its scratch
# range starts at, and the block size to seed and verify with.
LAYOUTS = {
    "gpt": (("--gpt",), MiB, 512),
    "gpt 4096": (("--gpt", "--block-size", "4096"), MiB, 4096),
    "label": ((), MiB, 512),
    "label at 4 MiB": (("--data-offset", "4M"), 4 * MiB, 512),
}


def tool(path, *args):
    return subprocess.run([path, *map(str, args)], capture_output=True, text=True, timeout=120)


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def ext_magic(path, start):
    with open(path, "r+b") as f:
        f.seek(start + 1080)
        f.write(b"\x53\xef")


def mkfs_ext4(path, start):
    if not shutil.which("mkfs.ext4"):
        pytest.skip("mkfs.ext4 not installed")
    subprocess.run(["mkfs.ext4", "-q", "-F", "-E", f"offset={start},nodiscard", str(path), "16M"],
                   check=True, capture_output=True)


MAKE_FS = {"ext magic": ext_magic, "mkfs.ext4": mkfs_ext4}


class Disk:
    def __init__(self, tmp_path, layout):
        self.args, self.start, self.bs = LAYOUTS[layout]
        self.mode = ("--gpt",) if self.args[:1] == ("--gpt",) else ()
        self.first = self.start // self.bs
        self.path = tmp_path / "disk.img"
        with open(self.path, "wb") as f:
            f.truncate(SIZE)
        p = tool(MKSCRATCH, self.path, *self.args, "--uuid", UUID.hex())
        assert p.returncode == 0, p.stderr

    def seed(self, lba, count, gen=1):
        return tool(VERIFY, "--seed", self.path, "--lba", lba, "--count", count, "--seed-value", "0x5eed",
                    "--gen", gen, "--block-size", self.bs)

    def verify(self, log_path, ranges):
        lines = [f'bareio-manifest: begin device=nvme0n1 serial="x" identity={UUID.hex()} '
                 f"block={self.bs} blocks={SIZE // self.bs} seed=0x5eed"]
        lines += ["bareio-manifest: " + r for r in ranges]
        lines.append(f"bareio-manifest: end device=nvme0n1 ranges={len(ranges)}")
        with open(log_path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return tool(VERIFY, log_path, self.path)


@pytest.fixture(params=sorted(LAYOUTS))
def disk(request, tmp_path):
    return Disk(tmp_path, request.param)


@pytest.fixture(params=sorted(MAKE_FS))
def used_disk(request, disk):
    """The disk after a file system was made at the start of its scratch range."""
    MAKE_FS[request.param](disk.path, disk.start)
    disk.before = sha(disk.path)
    return disk


@pytest.mark.parametrize("mode", [(), ("--gpt",)], ids=["label", "gpt"])
def test_mkscratch_refuses_to_remake_it(used_disk, mode):
    p = tool(MKSCRATCH, *mode, used_disk.path)
    assert p.returncode == 1, p.stdout + p.stderr
    assert f"an ext2/3/4 file system inside its scratch range (signature at byte " \
           f"{used_disk.start + 1080})" in p.stderr, p.stderr
    assert "looks in use" in p.stderr and "--force" in p.stderr, p.stderr
    assert sha(used_disk.path) == used_disk.before, "a refused mkscratch changed the image"


def test_seed_writes_nothing(used_disk):
    p = used_disk.seed(used_disk.first, 8)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "not scratch" in p.stderr and "its first blocks hold an ext2/3/4 file system" in p.stderr, \
        p.stderr
    assert sha(used_disk.path) == used_disk.before, "a refused --seed wrote the image"


def test_a_manifest_of_ranges_there_is_a_mismatch(used_disk, tmp_path):
    first = used_disk.first
    p = used_disk.verify(tmp_path / "s.log", [f"zero lba={first + 200} count=8",
                                              f"stamped lba={first + 400} count=4 gen=1"])
    assert p.returncode == 1, p.stdout + p.stderr
    assert "not scratch by bareio's rule" in p.stdout and "ext2/3/4" in p.stdout, p.stdout


def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
        table.append(c)
    return table


CRC32C = _crc32c_table()


def crc32c_update(crc, data):
    for b in data:
        crc = CRC32C[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc


def gen_that_reads_as_ext(disk):
    """A generation whose stamp on the sector at byte 1024 of the range has a
    header CRC-32C (bytes 56..59 of the sector, lib/stamp.h) starting 0x53 0xef:
    the ext superblock magic at byte 1080, as a stamp may by chance hold it."""
    lba = disk.first + 1024 // disk.bs
    sector = (1024 % disk.bs) // 512
    head = b"BIOSTAMP" + struct.pack("<HHI", 1, sector, disk.bs) + UUID + struct.pack("<QQ", lba, 0x5eed)
    state = crc32c_update(0xFFFFFFFF, head)
    gen = 1
    while (crc32c_update(state, struct.pack("<Q", gen)) ^ 0xFFFFFFFF) & 0xFFFF != 0xEF53:
        gen += 1
    return lba, gen


def test_the_runs_own_stamps_are_no_sign_of_use(disk, tmp_path):
    """72 KiB of stamps at the range's start (where the rule looks), one of
    them holding the ext magic at byte 1080; then seeding again, remaking the
    disk as it was made and verifying the stamps all work."""
    end = disk.first + 72 * 1024 // disk.bs
    lba, gen = gen_that_reads_as_ext(disk)
    ranges = [(disk.first, lba - disk.first, 1), (lba, 1, gen), (lba + 1, end - lba - 1, 1)]
    for first, count, g in ranges:
        if count:
            p = disk.seed(first, count, gen=g)
            assert p.returncode == 0, p.stdout + p.stderr
    with open(disk.path, "rb") as f:
        f.seek(disk.start + 1080)
        assert f.read(2) == b"\x53\xef", "the stamp does not hold the ext magic: the test proves nothing"
    p = disk.seed(end, 8, gen=2)
    assert p.returncode == 0, p.stdout + p.stderr
    p = tool(MKSCRATCH, disk.path, *disk.args)
    assert p.returncode == 0, p.stdout + p.stderr
    ranges.append((end, 8, 2))
    p = disk.verify(tmp_path / "s.log", [f"stamped lba={first} count={count} gen={g}"
                                         for first, count, g in ranges if count])
    assert p.returncode == 0, p.stdout + p.stderr


def new_range_start(disk, mode):
    """Where the scratch range starts after `mkscratch MODE` on the disk: a
    relabel keeps the label's data offset, anything else starts at 1 MiB."""
    return disk.start if not mode and not disk.mode else MiB


@pytest.mark.parametrize("mode", [(), ("--gpt",)], ids=["label", "gpt"])
def test_force_reclaims_it(used_disk, mode):
    """The kernel names 'tools/mkscratch --force' as the remedy: afterwards the
    disk is clean scratch (it said 'overwriting it as told' and left the file
    system where the rule looks, so the disk stayed read-only)."""
    p = tool(MKSCRATCH, *mode, used_disk.path, "--force")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "overwriting it as told" in p.stderr, p.stderr
    p = tool(MKSCRATCH, *mode, used_disk.path)
    assert p.returncode == 0, p.stdout + p.stderr
    used_disk.bs = 512
    used_disk.first = new_range_start(used_disk, mode) // 512
    p = used_disk.seed(used_disk.first, 8)
    assert p.returncode == 0, p.stdout + p.stderr


# A blank disk with a file system at an offset (nothing in its first 72 KiB):
# marking it would open a range that starts with that file system.
NEW_RANGES = {
    "label": ((), MiB, 512),
    "label at 4 MiB": (("--data-offset", "4M"), 4 * MiB, 512),
    "label at 4 KiB": (("--data-offset", "4K"), 4096, 512),
    # a 64 KiB-block device's range starts at its first whole block: 64 KiB
    "label at 4 KiB, 64 KiB blocks": (("--data-offset", "4K"), 65536, 512),
    "gpt": (("--gpt",), MiB, 512),
    "gpt 4096": (("--gpt", "--block-size", "4096"), MiB, 4096),
}


@pytest.mark.parametrize("make", sorted(MAKE_FS))
@pytest.mark.parametrize("layout", sorted(NEW_RANGES))
def test_refuses_a_file_system_where_the_new_range_starts(tmp_path, layout, make):
    args, start, bs = NEW_RANGES[layout]
    path = tmp_path / "disk.img"
    with open(path, "wb") as f:
        f.truncate(SIZE)
    MAKE_FS[make](path, start)
    before = sha(path)
    p = tool(MKSCRATCH, path, *args)
    assert p.returncode == 1, p.stdout + p.stderr
    assert f"an ext2/3/4 file system inside its scratch range (signature at byte {start + 1080})" \
        in p.stderr, p.stderr
    assert sha(path) == before, "a refused mkscratch changed the image"
    p = tool(MKSCRATCH, path, *args, "--force")
    assert p.returncode == 0, p.stdout + p.stderr
    p = tool(MKSCRATCH, path, *args)
    assert p.returncode == 0, p.stdout + p.stderr
    p = tool(VERIFY, "--seed", path, "--lba", start // bs, "--count", 8, "--seed-value", 1, "--gen", 1,
             "--block-size", bs)
    assert p.returncode == 0, p.stdout + p.stderr
