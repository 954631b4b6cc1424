# SPDX-License-Identifier: MIT
"""tests/tools/test_mkscratch.py — tools/mkscratch on image files: a label that
lib/scratch.c accepts (checked here independently), the same bytes as
tools/disks.py writes, relabelling that keeps the UUID, a refusal (exit 1, the
signature named, the image untouched) for every in-use signature unless
--force (every signature named; a label beside one; a GPT with a partition that
is not bareio's, named), --force leaving no signature behind, a GPT of bareio's
own remade or relabelled without --force, targets too small refused, --gpt
checked with zlib's CRC-32, and usage errors (exit 2, nothing changed), ranges
that wrap or do not fit among them."""
import hashlib
import os
import shutil
import struct
import subprocess
import sys
import zlib

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import disks  # noqa: E402

MKSCRATCH = os.path.join(ROOT, "tools", "mkscratch")
MiB = 1024 * 1024
BAREIO_TYPE = bytes.fromhex("25cb7551" "21cc" "c248" "964fd62c6ffdb833")


def mkscratch(*args):
    return subprocess.run([MKSCRATCH, *map(str, args)], capture_output=True, text=True, timeout=120)


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def blank(tmp_path, name="disk.img", size=16 * MiB):
    path = tmp_path / name
    with open(path, "wb") as f:
        f.truncate(size)
    return path


def poke(path, offset, data):
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(data)


def label_of(path):
    """Parses the label as lib/scratch.h describes it, CRC included."""
    with open(path, "rb") as f:
        b = f.read(512)
    assert b[:16] == b"BAREIO-SCRATCH\0\0", b[:16]
    assert struct.unpack_from("<I", b, 508)[0] == disks.crc32c(b[:508])
    version, size, offset, data_size = struct.unpack_from("<IIQQ", b, 16)
    assert (version, size) == (1, 512)
    return {"offset": offset, "size": data_size, "uuid": b[40:56],
            "created": struct.unpack_from("<Q", b, 56)[0], "note": b[64:128].rstrip(b"\0")}


def test_fresh_image_gets_a_valid_label(tmp_path):
    img = blank(tmp_path)
    p = mkscratch(img)
    assert p.returncode == 0, p.stderr
    lab = label_of(img)
    assert lab["offset"] == MiB and lab["size"] == 0
    assert lab["uuid"][6] >> 4 == 4 and lab["uuid"][8] >> 6 == 2      # version 4 UUID
    assert lab["uuid"].hex() in p.stdout.replace("-", "")
    assert lab["note"] == b"made by tools/mkscratch"
    assert "data bytes 1048576..16777216" in p.stdout


def test_crc32c_matches_the_known_check_value():
    assert disks.crc32c(b"123456789") == 0xE3069283


@pytest.mark.parametrize("extra,offset,size", [((), MiB, 0),
                                               (("--data-offset", "2M", "--size", "8M"), 2 * MiB, 8 * MiB)])
def test_python_label_is_byte_identical_to_c(tmp_path, extra, offset, size):
    img = blank(tmp_path)
    uuid = bytes(range(0x30, 0x40))
    p = mkscratch(img, "--uuid", uuid.hex(), "--created", 1700000000, "--note", "same bytes", *extra)
    assert p.returncode == 0, p.stderr
    with open(img, "rb") as f:
        c_label = f.read(512)
    assert c_label == disks.scratch_label(uuid, offset, size, 1700000000, "same bytes")


def test_disks_py_labels_blank_scratch_images_once(tmp_path):
    ctx = disks.DiskContext(str(tmp_path))
    path = ctx.scratch_image("x.img", 8 * MiB)
    first = label_of(path)
    assert first["offset"] == MiB and first["note"] == b"made by tools/disks.py"
    assert mkscratch(path).returncode == 0          # C accepts it as a relabel
    assert label_of(path)["uuid"] == first["uuid"]
    ctx.scratch_image("x.img", 8 * MiB)             # reused: label kept
    assert label_of(path)["uuid"] == first["uuid"]


def test_unmarked_set_up_is_unlabelled_and_repeatable(tmp_path):
    args = disks.qemu_args("unmarked", str(tmp_path))
    images = [a.split("file=")[1] for a in args if "file=" in a]
    assert len(images) == 2
    sums = [sha(p) for p in images]
    for p in images:
        with open(p, "rb") as f:
            assert f.read(16) == disks.UNMARKED_PATTERN[:16]
    disks.qemu_args("unmarked", str(tmp_path))
    assert [sha(p) for p in images] == sums


def test_relabel_keeps_uuid_and_range_unless_told(tmp_path):
    img = blank(tmp_path)
    assert mkscratch(img, "--data-offset", "4M", "--size", "4M").returncode == 0
    first = label_of(img)
    p = mkscratch(img)
    assert p.returncode == 0 and "rewritten" in p.stdout
    again = label_of(img)
    assert again["uuid"] == first["uuid"]
    assert (again["offset"], again["size"]) == (4 * MiB, 4 * MiB)
    assert mkscratch(img, "--new-uuid").returncode == 0
    assert label_of(img)["uuid"] != first["uuid"]


def mbr_with_partition(path):
    poke(path, 446 + 4, b"\x83")
    poke(path, 510, b"\x55\xaa")


def gpt_header_at(offset):
    return lambda path: poke(path, offset, b"EFI PART")


def boot_sector(oem=None, fat_at=None, fat=b"FAT16   "):
    def make(path):
        poke(path, 0, b"\xeb\x3c\x90")
        poke(path, 11, b"\x00\x02")
        if oem:
            poke(path, 3, oem)
        if fat_at:
            poke(path, fat_at, fat)
        poke(path, 510, b"\x55\xaa")
    return make


SIGNATURES = {
    "MBR partition table": mbr_with_partition,
    "GPT partition table": gpt_header_at(512),
    "GPT partition table (4K)": gpt_header_at(4096),
    "FAT file system": boot_sector(fat_at=54),
    "FAT file system (FAT32)": boot_sector(fat_at=82, fat=b"FAT32   "),
    "exFAT file system": boot_sector(oem=b"EXFAT   "),
    "NTFS file system": boot_sector(oem=b"NTFS    "),
    "ISO 9660 file system": lambda p: poke(p, 32769, b"CD001"),
    "ext2/3/4 file system": lambda p: poke(p, 1080, b"\x53\xef"),
    "XFS file system": lambda p: poke(p, 0, b"XFSB"),
    "btrfs file system": lambda p: poke(p, 65600, b"_BHRfS_M"),
    "LVM2 physical volume": lambda p: (poke(p, 512, b"LABELONE"), poke(p, 536, b"LVM2 001")),
    "Linux swap": lambda p: poke(p, 4086, b"SWAPSPACE2"),
    "LUKS encrypted volume": lambda p: poke(p, 0, b"LUKS\xba\xbe"),
}


@pytest.mark.parametrize("what", sorted(SIGNATURES))
def test_refuses_in_use_signature_unless_forced(tmp_path, what):
    img = blank(tmp_path)
    SIGNATURES[what](img)
    before = sha(img)
    p = mkscratch(img)
    assert p.returncode == 1, p.stdout + p.stderr
    name = what.split(" (")[0]
    assert name in p.stderr and "looks in use" in p.stderr and "--force" in p.stderr, p.stderr
    assert sha(img) == before, "a refused target must not change"
    p = mkscratch(img, "--force")
    assert p.returncode == 0, p.stderr
    assert "overwriting it as told" in p.stderr
    assert label_of(img)["offset"] == MiB


def test_boot_signature_without_partitions_is_not_in_use(tmp_path):
    img = blank(tmp_path)
    poke(img, 510, b"\x55\xaa")
    assert mkscratch(img).returncode == 0


@pytest.mark.skipif(not shutil.which("mkfs.ext4"), reason="mkfs.ext4 not installed")
def test_refuses_a_real_ext4_image(tmp_path):
    img = blank(tmp_path)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(img)], check=True)
    p = mkscratch(img)
    assert p.returncode == 1 and "ext2/3/4 file system (signature at byte 1080)" in p.stderr


@pytest.mark.skipif(not shutil.which("mkswap"), reason="mkswap not installed")
def test_refuses_a_real_swap_image(tmp_path):
    img = blank(tmp_path)
    subprocess.run(["mkswap", str(img)], check=True, capture_output=True)
    p = mkscratch(img)
    assert p.returncode == 1 and "Linux swap" in p.stderr


@pytest.mark.skipif(not shutil.which("xorriso"), reason="xorriso not installed")
def test_refuses_a_real_iso(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f.txt").write_text("hello")
    iso = tmp_path / "x.iso"
    subprocess.run(["xorriso", "-as", "mkisofs", "-quiet", "-o", str(iso), str(tmp_path / "d")],
                   check=True, capture_output=True)
    p = mkscratch(iso)
    assert p.returncode == 1 and "ISO 9660" in p.stderr


def test_damaged_label_needs_force(tmp_path):
    img = blank(tmp_path)
    assert mkscratch(img).returncode == 0
    poke(img, 200, b"\x01")
    p = mkscratch(img)
    assert p.returncode == 1 and "damaged" in p.stderr
    assert mkscratch(img, "--force").returncode == 0


def check_gpt(path, bs):
    """The GPT mkscratch --gpt wrote, checked with zlib's CRC-32 (UEFI §5.3)."""
    with open(path, "rb") as f:
        data = f.read()
    nblocks = len(data) // bs
    assert data[510:512] == b"\x55\xaa" and data[446 + 4] == 0xEE
    hdr = data[bs:2 * bs]
    assert hdr[:8] == b"EFI PART"
    size = struct.unpack_from("<I", hdr, 12)[0]
    crc = struct.unpack_from("<I", hdr, 16)[0]
    assert zlib.crc32(hdr[:16] + b"\0\0\0\0" + hdr[20:size]) == crc
    my, alt, first, last = struct.unpack_from("<QQQQ", hdr, 24)
    elba, count, esize, ecrc = struct.unpack_from("<QIII", hdr, 72)
    assert (my, alt) == (1, nblocks - 1)
    entries = data[elba * bs: elba * bs + count * esize]
    assert zlib.crc32(entries) == ecrc
    assert entries[:16] == BAREIO_TYPE
    pfirst, plast = struct.unpack_from("<QQ", entries, 32)
    assert pfirst * bs == MiB and plast == last and first <= pfirst
    backup = data[(nblocks - 1) * bs: nblocks * bs]
    assert backup[:8] == b"EFI PART" and struct.unpack_from("<Q", backup, 24)[0] == nblocks - 1


@pytest.mark.parametrize("bs", [512, 4096])
def test_gpt_with_a_bareio_partition(tmp_path, bs):
    img = blank(tmp_path, size=32 * MiB)
    p = mkscratch("--gpt", img, "--block-size", bs)
    assert p.returncode == 0, p.stderr
    check_gpt(img, bs)
    # A bareio GPT is ours: made again without --force.
    assert mkscratch("--gpt", img, "--block-size", bs).returncode == 0


def test_gpt_refuses_a_disk_in_use(tmp_path):
    img = blank(tmp_path)
    poke(img, 1080, b"\x53\xef")
    assert mkscratch("--gpt", img).returncode == 1


@pytest.mark.parametrize("args,words", [
    ((), "usage"),
    (("IMG", "--bogus"), "unknown option --bogus"),
    (("IMG", "--data-offset", "100"), "multiples of 4096"),
    (("IMG", "--data-offset", "lots"), "not a byte count"),
    (("IMG", "--size", "64M"), "does not fit"),
    (("IMG", "--note"), "--note needs a value"),
    (("IMG", "--uuid", "1234"), "not 32 hex digits"),
    (("--gpt", "IMG", "--size", "1M"), "--gpt makes one partition"),
    (("IMG", "other.img"), "one target only"),
])
def test_usage_errors(tmp_path, args, words):
    img = blank(tmp_path)
    before = sha(img)
    p = mkscratch(*[str(img) if a == "IMG" else a for a in args])
    assert p.returncode == 2, p.stdout + p.stderr
    assert words in p.stderr
    assert sha(img) == before


def test_missing_target(tmp_path):
    p = mkscratch(tmp_path / "nope.img")
    assert p.returncode == 1 and "truncate -s" in p.stderr


# ---- GPTs that hold more than bareio's partition; every signature; --force erases ----

import gptimage  # noqa: E402  (tests/tools is on sys.path under pytest)

PART_GUID = bytes(range(0x60, 0x70))


def gpt_beside_linux(path, bs=512):
    """bareio's partition 1 MiB..8 MiB, a Linux partition after it."""
    nblocks = os.path.getsize(path) // bs
    _, last = gptimage.usable(nblocks, bs)
    mib = MiB // bs
    gptimage.write_gpt(path, [(BAREIO_TYPE, PART_GUID, mib, 8 * mib - 1, "bareio scratch"),
                              (gptimage.LINUX_TYPE, bytes(range(0x70, 0x80)), 8 * mib, last, "home")],
                       bs=bs)


@pytest.mark.parametrize("bs", [512, 4096])
@pytest.mark.parametrize("mode", [(), ("--gpt",)])
def test_refuses_a_bareio_gpt_that_holds_other_partitions(tmp_path, bs, mode):
    img = blank(tmp_path, size=32 * MiB)
    gpt_beside_linux(img, bs)
    before = sha(img)
    p = mkscratch(*mode, img, *(("--block-size", bs) if mode else ()))
    assert p.returncode == 1, p.stdout + p.stderr
    assert "partition 2" in p.stderr and '"home"' in p.stderr, p.stderr
    assert "0fc63daf-8483-4772-8e79-3d69d8477de4" in p.stderr, p.stderr
    assert "looks in use" in p.stderr and "--force" in p.stderr, p.stderr
    assert sha(img) == before, "a refused target must not change"
    assert mkscratch(*mode, img, "--force").returncode == 0


def test_refuses_a_hybrid_mbr_beside_a_bareio_gpt(tmp_path):
    img = blank(tmp_path, size=32 * MiB)
    nblocks = os.path.getsize(img) // 512
    first, last = gptimage.usable(nblocks)
    gptimage.write_gpt(img, [(BAREIO_TYPE, PART_GUID, 2048, last, "bareio scratch")],
                       mbr_types=(0xEE, 0x83))
    before = sha(img)
    p = mkscratch(img)
    assert p.returncode == 1 and "MBR" in p.stderr, p.stderr
    assert sha(img) == before


def head_is_clean(path, start=512):
    """No signature left: everything from `start` to 72 KiB is zero."""
    with open(path, "rb") as f:
        data = f.read(72 * 1024)
    return data[start:] == bytes(len(data) - start)


@pytest.mark.parametrize("bs", [512, 4096])
def test_a_pure_bareio_gpt_is_ours_to_relabel(tmp_path, bs):
    """A GPT that holds bareio's partition and nothing else may become a
    labelled disk without --force; the GPT goes (primary and backup), or the
    kernel would see a label beside a partition table and keep it read-only."""
    img = blank(tmp_path, size=32 * MiB)
    nblocks = os.path.getsize(img) // bs
    first, last = gptimage.usable(nblocks, bs)
    gptimage.write_gpt(img, [(BAREIO_TYPE, PART_GUID, MiB // bs, last, "bareio scratch")], bs=bs)
    p = mkscratch(img)
    assert p.returncode == 0, p.stderr
    assert label_of(img)["offset"] == MiB
    assert head_is_clean(img), "the primary GPT (or its MBR) is still there"
    with open(img, "rb") as f:
        f.seek((nblocks - 1) * bs)
        assert f.read(8) != b"EFI PART", "the backup GPT header is still there"


def test_remaking_a_bareio_gpt_keeps_its_partition_guid(tmp_path):
    img = blank(tmp_path, size=32 * MiB)
    assert mkscratch("--gpt", img, "--uuid", PART_GUID.hex()).returncode == 0
    p = mkscratch("--gpt", img)
    assert p.returncode == 0, p.stderr
    with open(img, "rb") as f:
        f.seek(2 * 512 + 16)
        assert f.read(16) == PART_GUID
    assert mkscratch("--gpt", img, "--new-uuid").returncode == 0
    with open(img, "rb") as f:
        f.seek(2 * 512 + 16)
        assert f.read(16) != PART_GUID


def test_names_every_signature_not_just_the_first(tmp_path):
    img = blank(tmp_path)
    SIGNATURES["ext2/3/4 file system"](img)
    SIGNATURES["Linux swap"](img)
    SIGNATURES["btrfs file system"](img)
    p = mkscratch(img)
    assert p.returncode == 1
    for name in ("ext2/3/4 file system", "Linux swap", "btrfs file system"):
        assert name in p.stderr, p.stderr


@pytest.mark.parametrize("what", sorted(SIGNATURES))
def test_a_label_beside_a_signature_is_not_relabelled_without_force(tmp_path, what):
    """A labelled disk that was used since (the kernel keeps it read-only):
    relabelling it would hide that; --force reclaims it."""
    img = blank(tmp_path)
    assert mkscratch(img).returncode == 0
    with open(img, "rb") as f:
        label = f.read(512)
    SIGNATURES[what](img)
    with open(img, "rb") as f:
        over_the_label = f.read(512) != label   # MBR, FAT, LUKS, ... live in LBA 0 too
    before = sha(img)
    p = mkscratch(img)
    assert p.returncode == 1, p.stdout + p.stderr
    if over_the_label:
        assert "damaged" in p.stderr or "looks in use" in p.stderr, p.stderr
    else:
        assert "a scratch label beside" in p.stderr and "looks in use" in p.stderr, p.stderr
    assert sha(img) == before
    assert mkscratch(img, "--force").returncode == 0
    assert mkscratch(img).returncode == 0, "what --force made is not a clean scratch disk"


@pytest.mark.parametrize("what", sorted(SIGNATURES))
@pytest.mark.parametrize("mode", [(), ("--gpt",)])
def test_force_erases_every_signature(tmp_path, what, mode):
    """--force destroys what was there, signatures included: what is left is a
    clean scratch disk (no label beside an old file system)."""
    img = blank(tmp_path)
    SIGNATURES[what](img)
    p = mkscratch(*mode, img, "--force")
    assert p.returncode == 0, p.stderr
    if mode:
        check_gpt(img, 512)
        with open(img, "rb") as f:
            data = f.read(72 * 1024)
        assert data[2 * 512 + 16 * 1024:] == bytes(len(data) - 2 * 512 - 16 * 1024)
    else:
        assert head_is_clean(img), f"{what} is still there after --force"
    assert mkscratch(*mode, img).returncode == 0, "what --force made is not a clean scratch disk"


# ---- targets too small, ranges that do not fit ----

@pytest.mark.parametrize("size", [0, 1, 511, 512, MiB, MiB + 4095])
@pytest.mark.parametrize("mode", [(), ("--gpt",)])
def test_refuses_a_target_too_small(tmp_path, size, mode):
    img = blank(tmp_path, size=size)
    p = mkscratch(*mode, img)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "too small" in p.stderr, p.stderr
    assert os.path.getsize(img) == size and sha(img) == hashlib.sha256(bytes(size)).hexdigest()


def test_smallest_target_holds_one_4k_block(tmp_path):
    img = blank(tmp_path, size=MiB + 4096)
    p = mkscratch(img)
    assert p.returncode == 0, p.stderr
    assert "data bytes 1048576..1052672" in p.stdout


@pytest.mark.parametrize("args,words", [
    (("--data-offset", "0xfffffffffffff000", "--size", "0x2000"), "does not fit"),
    (("--size", "0xfffffffffffff000"), "does not fit"),
    (("--data-offset", "8M", "--size", "9M"), "does not fit"),
    (("--data-offset", "16M"), "does not fit"),
    (("--data-offset", "0"), "does not fit"),
    (("--data-offset", "4097"), "multiples of 4096"),
    (("--size", "100"), "multiples of 4096"),
    (("--size", "0x10000000000000000"), "not a byte count"),
    (("--size", "17179869184G"), "not a byte count"),
    (("--data-offset", " 1M"), "not a byte count"),
    (("--data-offset", "+1M"), "not a byte count"),
    (("--size", "-4096"), "not a byte count"),
    (("--data-offset", "010000"), "not a byte count"),
    (("--data-offset", "1M "), "not a byte count"),
    (("--gpt", "--block-size", "0x100000200"), "--block-size"),
    (("--gpt", "--block-size", "4294967808"), "--block-size"),
])
def test_bad_ranges_change_nothing(tmp_path, args, words):
    img = blank(tmp_path)
    before = sha(img)
    p = mkscratch(img, *args)
    assert p.returncode == 2, p.stdout + p.stderr
    assert words in p.stderr, p.stderr
    assert sha(img) == before


# ---- a GPT is bareio's only when every GPT on the disk holds valid bareio partitions only ----

def refused_unchanged(img, mode, *words):
    before = sha(img)
    p = mkscratch(*mode, img)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "looks in use" in p.stderr and "--force" in p.stderr, p.stderr
    for w in words:
        assert w in p.stderr, p.stderr
    assert sha(img) == before, "a refused target must not change"
    return p


@pytest.mark.parametrize("where", ["past the last usable LBA", "below the first usable LBA"])
@pytest.mark.parametrize("mode", [(), ("--gpt",)])
def test_refuses_a_gpt_whose_only_bareio_partition_is_invalid(tmp_path, where, mode):
    """CRCs right, but the partition lies outside the usable LBAs: the kernel
    never opens it, so it is nobody's scratch range to remake."""
    img = blank(tmp_path, size=32 * MiB)
    nblocks = os.path.getsize(img) // 512
    first, last = gptimage.usable(nblocks)
    lbas = (2048, nblocks - 1) if where.startswith("past") else (first - 1, last)
    gptimage.write_gpt(img, [(BAREIO_TYPE, PART_GUID, *lbas, "bareio scratch")])
    refused_unchanged(img, mode, "GPT partition table")


@pytest.mark.parametrize("mode", [(), ("--gpt",)])
def test_refuses_an_empty_gpt(tmp_path, mode):
    """A GPT with no used entry holds no bareio partition: not ours."""
    img = blank(tmp_path, size=32 * MiB)
    gptimage.write_gpt(img, [])
    refused_unchanged(img, mode, "GPT partition table")


@pytest.mark.parametrize("ours", [512, 4096])
@pytest.mark.parametrize("mode", [(), ("--gpt",)])
def test_refuses_two_gpts_of_which_one_is_not_bareios(tmp_path, ours, mode):
    """GPT headers at LBA 1 for 512-byte and for 4 KiB blocks, each whole: one
    holds bareio's partition only, the other a Linux partition."""
    img = blank(tmp_path, size=32 * MiB)
    for bs in (4096, 512):                  # the 512-byte GPT's MBR last: both write the same one
        nblocks = os.path.getsize(img) // bs
        _, last = gptimage.usable(nblocks, bs, entries=4)
        part = (BAREIO_TYPE, PART_GUID, MiB // bs, last, "bareio scratch") if bs == ours else \
            (gptimage.LINUX_TYPE, bytes(range(0x70, 0x80)), MiB // bs, last, "home")
        gptimage.write_gpt(img, [part], bs=bs, entries=4)
    refused_unchanged(img, mode, '"home"', "0fc63daf-8483-4772-8e79-3d69d8477de4")


@pytest.mark.parametrize("bs,stray", [(4096, 512), (512, 32768), (512, 65536), (4096, 65536)])
@pytest.mark.parametrize("mode", [(), ("--gpt",)])
def test_refuses_a_bareio_gpt_beside_another_gpt_header(tmp_path, bs, stray, mode):
    """A GPT header that does not parse (here just its signature), where
    another block size puts LBA 1, beside a GPT of bareio's: the kernel keeps
    the disk read-only, so it is not bareio's to remake without --force."""
    img = blank(tmp_path, size=32 * MiB)
    assert mkscratch("--gpt", img, "--block-size", bs).returncode == 0
    poke(img, stray, b"EFI PART")
    first = min(bs, stray)
    p = refused_unchanged(img, mode, f"one of 2 GPT headers (at bytes {first}, {max(bs, stray)}: "
                                     "the kernel keeps a disk with more than one read-only)")
    p = mkscratch(*mode, img, "--force")
    assert p.returncode == 0, p.stdout + p.stderr
    assert mkscratch(*mode, img).returncode == 0, "what --force made is not a clean scratch disk"
